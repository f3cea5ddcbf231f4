"""Safer Corridors: the possession state, who is stopped, what a stop finds, weapons removed, route selection."""

from __future__ import annotations

import numpy as np
import pytest
from simhelpers import small_config

from sim.core import outcomes as out
from sim.core.borough import PRIMARY, SECONDARY
from sim.core.incidents import SCHOOL_YEAR_DAYS, Incident, Location
from sim.core.mechanism import PreEmption
from sim.core.model import BoroughModel
from sim.core.possession import NOTHING, carried_items
from sim.mechanisms.corridors import RouteIntelligence, suspicion_weights

SC = "scenario.mechanisms.safer_corridors"


def make(*overrides: str, days: int = 10, seed: int = 0) -> BoroughModel:
    return BoroughModel(small_config("hackney_pilot", days, seed, *overrides))


def street_multiplier(model: BoroughModel) -> np.ndarray:
    """Each student's school-run multiplier today, as BoroughModel.step works it out."""
    pop = model.population
    multiplier = model.borough.route_risk[pop.route]
    deterrence = model.policing.street_risk_multiplier()
    return multiplier if deterrence is None else multiplier * deterrence[pop.route]


# --- the possession state --------------------------------------------------------------------------------------
@pytest.mark.parametrize("deterrence", [0.0, 0.3])
def test_carrying_on_the_catalogues_days_is_exactly_the_days_school_run_possession_incidents(deterrence):
    model = make(
        f"{SC}.patrol_deterrence={deterrence}",
        *(f"incidents.types.{t}.street_rate_secondary=100" for t in ("drugs_possession_small", "weapon_possession")),
        days=30,
    )
    pop, catalogue = model.population, model.catalogue
    everyone = np.arange(pop.n)
    seen = 0
    for day in range(30):
        pop.evolve(day, model.streams)
        model.risk_today = pop.risk()
        model.policing.start_of_day(day)
        multiplier = street_multiplier(model)
        item, on_street = carried_items(model, day, everyone, multiplier, 1.0)
        incidents = catalogue.draw_day(model, day, Location.STREET, model.risk_today, pop.need(), multiplier)
        expected = np.full(pop.n, NOTHING)
        for incident in incidents:
            if catalogue.possession[incident.type.index]:
                expected[incident.student] = incident.type.index
        np.testing.assert_array_equal(item, expected)
        np.testing.assert_array_equal(on_street, expected != NOTHING)
        seen += int((expected != NOTHING).sum())
    assert seen > 10


def test_more_carrying_days_add_carriers_without_changing_the_catalogues_ones():
    model = make("incidents.types.drugs_possession_small.street_rate_secondary=100")
    model.step()
    students = np.flatnonzero(model.population.phase == SECONDARY)
    multiplier = model.borough.route_risk[model.population.route[students]]
    one, on_street_one = carried_items(model, 0, students, multiplier, 1.0)
    many, on_street_many = carried_items(model, 0, students, multiplier, 40.0)
    np.testing.assert_array_equal(on_street_one, on_street_many)
    np.testing.assert_array_equal(many[on_street_one], one[on_street_one])
    extra = (many != NOTHING) & ~on_street_many
    assert extra.sum() > 5 * max(1, on_street_one.sum())
    assert model.catalogue.possession[many[extra]].all()


def test_primary_pupils_carry_nothing_the_catalogue_gives_them_no_possession_on_the_school_run():
    model = make()
    model.step()
    primary = np.flatnonzero(model.population.phase == PRIMARY)
    item, _ = carried_items(model, 0, primary, model.borough.route_risk[model.population.route[primary]], 100.0)
    assert (item == NOTHING).all()


# --- suspicion ---------------------------------------------------------------------------------------------------
def test_suspicion_weights_favour_carriers_by_exp_d_squared_and_not_at_all_at_zero():
    rng = np.random.default_rng(1)
    noise = rng.standard_normal(400_000)
    carrying = np.repeat([0.0, 1.0], 200_000)
    w = suspicion_weights(carrying, noise.copy(), 1.4)
    ratio = w[200_000:].mean() / w[:200_000].mean()
    assert ratio == pytest.approx(np.exp(1.4**2), rel=0.05)
    np.testing.assert_array_equal(suspicion_weights(carrying, noise.copy(), 0.0), np.ones(400_000))


# --- stops -------------------------------------------------------------------------------------------------------
def run_recording_stops(*overrides: str, days: int = 30, seed: int = 0) -> tuple[BoroughModel, list[np.ndarray]]:
    model = make(*overrides, days=days, seed=seed)
    stopped: list[np.ndarray] = []
    add_contacts = model.add_contacts

    def recording(students, contact):
        if contact == out.CORRIDOR_STOP:
            stopped.append(np.array(students))
        add_contacts(students, contact)

    model.add_contacts = recording  # type: ignore[method-assign]
    model.run_for(days)
    return model, stopped


def test_only_secondary_pupils_are_stopped_and_the_metrics_count_them():
    model, stopped = run_recording_stops(f"{SC}.stops_per_patrol=1", f"{SC}.patrol_share_of_routes=0.2")
    everyone = np.concatenate(stopped)
    assert len(everyone) > 50
    assert (model.population.phase[everyone] == SECONDARY).all()
    m = model.metrics()
    assert m["corridor_stops"] == len(everyone)
    assert m["corridor_stops_of_primary_pupils"] == 0
    secondary = int((model.population.phase == SECONDARY).sum())
    assert m["corridor_stops_per_1000_secondary"] == pytest.approx(
        len(everyone) / secondary * 1000 * SCHOOL_YEAR_DAYS / 30
    )
    for day_stops in stopped:
        assert len(np.unique(day_stops)) == len(day_stops)  # nobody stopped twice a day


def test_finds_are_what_the_stopped_carry_and_the_shares_are_their_ratios():
    model, _ = run_recording_stops(
        f"{SC}.stops_per_patrol=1",
        f"{SC}.patrol_share_of_routes=0.3",
        f"{SC}.carry_days_per_possession_incident=100",
        "incidents.types.weapon_possession.street_rate_secondary=40",
        days=40,
    )
    m = model.metrics()
    assert 0 < m["corridor_stops_with_find"] <= m["corridor_items_carried_on_patrolled_routes"]
    assert m["corridor_stop_find_share"] == m["corridor_stops_with_find"] / m["corridor_stops"]
    assert m["corridor_stop_weapon_find_share"] == m["corridor_weapons_removed"] / m["corridor_stops"]
    assert m["corridor_weapons_removed"] > 0
    assert m["incidents_found_by_police_search"] >= m["corridor_stops_with_find"]


def test_nothing_carried_nothing_found():
    model, _ = run_recording_stops(
        f"{SC}.stops_per_patrol=1",
        *(
            f"incidents.types.{t}.street_rate_secondary=0"
            for t in ("drugs_possession_small", "drug_supply", "weapon_possession")
        ),
    )
    m = model.metrics()
    assert m["corridor_stops"] > 0
    assert m["corridor_items_carried_on_patrolled_routes"] == m["corridor_stops_with_find"] == 0
    assert m["corridor_stops_no_further_action_share"] == 1.0


def test_suspicion_finds_more_than_chance():
    common = (
        f"{SC}.stops_per_patrol=1",
        f"{SC}.patrol_share_of_routes=0.3",
        f"{SC}.carry_days_per_possession_incident=100",
    )
    blind = sum(
        run_recording_stops(*common, f"{SC}.suspicion_signal=0", seed=s)[0].metrics()["corridor_stops_with_find"]
        for s in range(3)
    )
    sharp = sum(
        run_recording_stops(*common, f"{SC}.suspicion_signal=2", seed=s)[0].metrics()["corridor_stops_with_find"]
        for s in range(3)
    )
    assert sharp > 2 * max(blind, 1)


# --- weapons removed -----------------------------------------------------------------------------------------------
def test_a_removed_weapon_averts_the_pupils_weapon_incidents_that_day_and_a_find_pre_empts_its_street_incident():
    model = make(f"{SC}.removal_averts_violence=1")
    corridors = model.policing.get("safer_corridors")
    s = int(np.flatnonzero(model.population.phase == SECONDARY)[0])
    other = s + 1
    catalogue = model.catalogue
    weapon, drugs = catalogue.by_name["weapon_possession"], catalogue.by_name["drugs_possession_small"]
    corridors._today = 0
    corridors._found_on_street = {s: weapon.index}
    corridors._disarmed = {s}
    found = Incident(model, 0, s, weapon, Location.STREET, False)
    assert corridors.pre_empts(found) is PreEmption.FOUND
    assert corridors.pre_empts(Incident(model, 0, s, weapon, Location.SCHOOL, False)) is PreEmption.AVERTED
    violence = catalogue.by_name["serious_violence"]
    assert corridors.pre_empts(Incident(model, 0, s, violence, Location.STREET, True)) is PreEmption.AVERTED
    assert corridors.pre_empts(Incident(model, 0, s, drugs, Location.SCHOOL, False)) is None
    assert corridors.pre_empts(Incident(model, 0, other, weapon, Location.SCHOOL, False)) is None
    assert corridors.pre_empts(Incident(model, 1, s, weapon, Location.SCHOOL, False)) is None  # only that day
    assert corridors.weapon_incidents_averted == 2
    # the model counts a found incident (police know of it) and drops an averted one
    before = model.ledger.counts[:, :, out.INCIDENTS].sum()
    assert model._pre_empted(found) and found.known_to_police
    assert model._pre_empted(Incident(model, 0, s, weapon, Location.SCHOOL, False))
    assert model.ledger.counts[:, :, out.INCIDENTS].sum() == before + 1


def test_violence_is_not_averted_when_removal_never_averts_it():
    model = make(f"{SC}.removal_averts_violence=0")
    corridors = model.policing.get("safer_corridors")
    s = int(np.flatnonzero(model.population.phase == SECONDARY)[0])
    corridors._today, corridors._disarmed = 0, {s}
    violence = model.catalogue.by_name["serious_violence"]
    assert corridors.pre_empts(Incident(model, 0, s, violence, Location.STREET, True)) is None


# --- route selection -------------------------------------------------------------------------------------------------
def test_proportional_rule_patrols_a_route_without_records_only_with_a_prior():
    records = np.array([0.0, 5.0, 5.0, 5.0])
    picks = {}
    for prior in (0.0, 1.0):
        intel = RouteIntelligence(4, records, prior_pseudo_count=prior)
        rng = np.random.default_rng(3)
        picks[prior] = sum(intel.select("proportional", 1, rng, None)[0] for _ in range(2000))
    assert picks[0.0] == 0
    assert picks[1.0] == pytest.approx(2000 * 1 / 19, rel=0.25)


def test_deterrence_lowers_school_run_risk_on_patrolled_routes_only():
    model = make(f"{SC}.patrol_deterrence=0.2")
    model.step()
    corridors = model.policing.get("safer_corridors")
    multiplier = corridors.street_risk_multiplier()
    np.testing.assert_allclose(multiplier, np.where(corridors.patrolled, 0.8, 1.0))
    assert make(f"{SC}.patrol_deterrence=0").policing.get("safer_corridors").street_risk_multiplier() is None


# --- historic records and the exposure correction ---------------------------------------------------------------
def test_historic_records_follow_the_expected_incidents_of_each_route():
    from sim.mechanisms.corridors import historic_expected_records

    baseline = np.array([0.1, 1.0, 3.0, 0.0])  # e.g. a primary route, two secondary routes, an empty route
    bias = np.array([1.0, 1.0, 2.0, 1.0])
    expected = historic_expected_records(baseline, bias, mean_records=2.0)
    np.testing.assert_allclose(expected, 2.0 * 4 * baseline / baseline.sum() * bias)
    assert historic_expected_records(np.zeros(3), np.ones(3), 2.0).sum() == 0


def test_routes_to_primary_schools_start_with_fewer_records_so_most_patrols_go_where_secondary_pupils_walk():
    model = make(days=30)
    corridors = model.policing.get("safer_corridors")
    model.run_for(30)
    pop, n_routes = model.population, model.borough.n_routes
    secondary = np.bincount(pop.route[pop.phase == SECONDARY], minlength=n_routes) > 0
    history = corridors.intelligence.records - corridors.intelligence.patrol_finds
    assert history[secondary].mean() > 3 * max(history[~secondary].mean(), 0.01)
    assert model.metrics()["corridor_patrols_of_secondary_routes_share"] > 0.5


def test_exposure_correction_counts_each_find_in_inverse_proportion_to_patrol_days():
    intel = RouteIntelligence(3, np.array([2, 0, 0]), prior_pseudo_count=1.0)
    intel.patrol_days[:] = [10, 2, 0]
    for route in (0, 0, 0, 0, 1):  # 4 finds in 10 patrols, 1 find in 2 patrols, a route never patrolled
        intel.add_record(route, by_patrol=True)
    intel.add_record(2, by_patrol=False)  # a public report
    mean_days = 4.0
    np.testing.assert_allclose(
        intel.exposure_corrected_weights(), [2 + 4 * mean_days / 10 + 1, 1 * mean_days / 2 + 1, 1 + 1]
    )
