"""The borough model: a Mesa model whose step is one school day.

Data flows one way: configuration -> borough -> day loop -> outcomes. Per day (docs/ODD.md, "Process overview"):

1. students' latent state evolves (arrays);
2. the scenario's policing mechanisms deploy (who is on site, which routes are patrolled);
3. incidents happen in school and on the school run, each with its ground truth;
4. each incident goes through the agents' rules: noticing, the teacher's response, police attendance and the
   officer's recording decision;
5. police-initiated activities (presence, lessons, points activities, corridor stops);
6. the day's outcomes are closed into the ledger and Mesa's DataCollector.
"""

from __future__ import annotations

import logging
import math
import random
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import mesa
import numpy as np
import scipy.sparse
from mesa.experimental.scenarios import Scenario

from sim.core.agents import (
    AGE_OF_CRIMINAL_RESPONSIBILITY,
    Officer,
    OfficerRole,
    School,
    Student,
    Teacher,
    YouthWorker,
)
from sim.core.borough import SECONDARY, build_borough
from sim.core.config import SimConfig
from sim.core.configure import agent_classes, load_built_in_mechanisms, mechanisms, validate_config
from sim.core.incidents import SCHOOL_YEAR_DAYS, Incident, IncidentCatalogue, Location
from sim.core.keywords import compose_keywords
from sim.core.mechanism import Policing, PreEmption
from sim.core.metrics import daily_frame, running_reporters, totals, year_metrics, yearly_frame
from sim.core.outcomes import (
    CONTACTS_DUE_TO_CAPACITY_SHORTFALL,
    CORRIDOR_STOP,
    CRIME_RECORDS,
    CRIME_RECORDS_UNDER_10,
    CRISES_ANSWERED_BY_SERVICES,
    CRISES_OUTSIDE_SCHOOL,
    INCIDENT_RESPONSE,
    INCIDENTS,
    INCIDENTS_FOUND_BY_POLICE_SEARCH,
    INCIDENTS_KNOWN_TO_POLICE,
    LESSON,
    MISSING_REPORTS,
    SAFEGUARDING_REFERRALS_UNDER_10,
    SERIOUS_APPROPRIATE_RESPONSE,
    SERIOUS_HARM_AVERTED,
    SERIOUS_HARM_INCIDENTS,
    SERIOUS_INCIDENTS,
    STREET_INCIDENTS,
    UNMET_YOUTH_WORK_REFERRALS,
    UNNECESSARY_CRIME_RECORDS,
    WELFARE,
    YOUTH_WORK_REFERRALS,
    Counted,
    Ledger,
    Totals,
)
from sim.core.population import SchoolYearChange, StudentPopulation
from sim.core.streams import RandomStreams

if TYPE_CHECKING:
    import pandas as pd


SCHOOL_YEAR_SHARE_OF_CALENDAR_YEAR = 0.88
"""The 190 school days run from early September to about 20 July: 0.88 of a calendar year (for ages)."""


def quiet_mesa() -> None:
    """Mesa logs every step at INFO; keep its logger to warnings."""
    logging.getLogger("MESA").setLevel(logging.WARNING)


UNPAIRED = (
    "{name} is not available in this model: draws from Mesa's shared generators depend on how many draws came "
    "before, so they would differ between scenarios and unpair the comparison. Use the paired draws instead: "
    "incident.draw(purpose) for a decision about an incident, model.streams.uniform(purpose, day, student) for "
    "one about a student, model.streams.generator(purpose, day) for a day's array of draws (docs/extending.md)."
)


_MESA_SCENARIO_KEYS = {"rng", "model", "_scenario_id"}


def _year_elapsed(day: int) -> float:
    """The share of a calendar year since 1 September on a school day (the middle of the day)."""
    return (day % SCHOOL_YEAR_DAYS + 0.5) / SCHOOL_YEAR_DAYS * SCHOOL_YEAR_SHARE_OF_CALENDAR_YEAR


class UnpairedRandom(random.Random):
    """Mesa's ``model.random`` / ``agent.random``, refused: any draw raises with a pointer to the paired draws."""

    def random(self) -> NoReturn:
        """Refused (see :data:`UNPAIRED`)."""
        raise RuntimeError(UNPAIRED.format(name="model.random (and agent.random)"))

    def getrandbits(self, k: int) -> NoReturn:
        """Refused (see :data:`UNPAIRED`)."""
        raise RuntimeError(UNPAIRED.format(name="model.random (and agent.random)"))


class UnpairedGenerator:
    """Mesa's ``model.rng`` / ``agent.rng``, refused: any use raises with a pointer to the paired draws."""

    def __getattr__(self, name: str) -> NoReturn:
        raise RuntimeError(UNPAIRED.format(name="model.rng (and agent.rng)"))


def _seed_from(rng: Any) -> int:
    """A non-negative integer seed from Mesa's ``rng`` argument (int, Generator, SeedSequence or None)."""
    if rng is None:
        entropy = np.random.SeedSequence().entropy  # fresh entropy from the OS: one int
        assert isinstance(entropy, int)
        return entropy % (2**63)
    if isinstance(rng, str) and rng.strip().isdigit():  # a seed typed into a form (SolaraViz InputText)
        rng = int(rng.strip())
    if isinstance(rng, int | np.integer):
        if rng < 0:
            raise ValueError(f"rng (the seed) must be a non-negative integer, got {rng}")
        return int(rng)
    return int(np.random.default_rng(rng).integers(2**63 - 1))


class BoroughModel(mesa.Model):
    """A borough's schools for one policing model, stepped one school day at a time.

    Construct it from a validated :class:`~sim.core.config.SimConfig`, or from keyword parameters (as Mesa's
    ``batch_run`` does), which are composed with the project's Hydra configs::

        BoroughModel(policing="no_police", borough="small", days=60, rng=3)
        BoroughModel(policing="hackney_pilot", rng=1, scenario__mechanisms__points_budget__budget=40)

    Args:
        config: a full configuration; when given, the keyword parameters below must not be.
        policing: name of a scenario config in ``conf/scenario/`` (the policing model).
        borough: name of a borough config in ``conf/borough/``.
        days: school days to simulate.
        overrides: further Hydra override strings, e.g. ``["students.labelling_effect=0.3"]``.
        rng: the seed (Mesa's convention); overrides ``seed`` in the config. With keyword parameters, ``None`` (the
            default) draws fresh entropy, recorded as the run's ``seed``; with a config, ``None`` keeps its seed.
        scenario: the policing model's name (as ``policing``), or the ``Scenario`` Mesa's SolaraViz passes on
            Reset (its fields are read as settings; Mesa's own ``Model.scenario`` is not the project's scenario).
        **settings: further settings as ``section__key=value`` (double underscores for dots), each value any plain
            Python or numpy value (:mod:`sim.core.keywords`); a mechanism's parameter given to a scenario without
            that mechanism is ignored, with a warning and a line in :attr:`notes`.
    """

    def __init__(
        self,
        config: SimConfig | Mapping[str, Any] | None = None,
        *,
        policing: str | None = None,
        borough: str | None = None,
        days: int | None = None,
        overrides: Sequence[str] = (),
        rng: Any = None,
        scenario: Any = None,
        **settings: Any,
    ) -> None:
        self.notes: list[str] = []  # keyword parameters that did not apply (see sim.core.keywords)
        if isinstance(scenario, Scenario):  # what Mesa's SolaraViz passes on Reset (Model.scenario is Mesa's)
            fields = {k: v for k, v in scenario.to_dict().items() if k not in _MESA_SCENARIO_KEYS}
            if rng is None:
                rng = scenario.rng
            settings = {**fields, **settings}
        elif scenario is not None:  # the Hydra group by its own name: scenario="no_police"
            if policing is not None and policing != scenario:
                raise TypeError(f"policing={policing!r} and scenario={scenario!r} disagree; pass one of them")
            policing = scenario
        if config is None:
            composed = compose_keywords(
                policing=policing, borough=borough, days=days, overrides=overrides, settings=settings
            )
            config, self.notes = composed.config, composed.notes
            for note in self.notes:
                warnings.warn(note, stacklevel=2)
            # Mesa's convention: rng=None means fresh entropy (so batch_run's iterations= gives distinct runs);
            # the seed drawn is the run's seed, recorded in its metrics ("seed") and config
            if rng is not None or "seed" not in settings:
                config = config.model_copy(update={"seed": _seed_from(rng)})
        else:
            if policing or borough or days or overrides or settings:
                raise TypeError("pass either a config or keyword parameters, not both")
            if not isinstance(config, SimConfig):
                config = validate_config(dict(config))
            if rng is not None:
                config = config.model_copy(update={"seed": _seed_from(rng)})
        super().__init__(rng=config.seed)
        # Mesa's own generators are refused: every draw must be a paired one (self.streams).
        self.random = UnpairedRandom()
        self._all_agents.random = self.random
        self.rng = UnpairedGenerator()
        self.config = config
        self.streams = RandomStreams(config.seed)
        self.agent_classes = agent_classes(config)
        load_built_in_mechanisms()  # every run reports the built-in mechanisms' outcomes (null where absent)

        self.borough = build_borough(config.borough, self.streams)
        self.catalogue = IncidentCatalogue(config.incidents)
        self.population = StudentPopulation(self.borough, config.borough, config.students, self.streams)
        self.ledger = Ledger(config.days, self.borough.n_schools, self.population.n)
        self.day = 0  # school days completed
        self.officers: list[Officer] = []
        self._students: dict[int, Student] = {}
        self._create_schools_and_staff()
        self._class_of = self.population.class_id.tolist()  # each student's class (teacher), for teacher_of
        self.response_officer = self.agent_classes.officer(self, OfficerRole.RESPONSE, [])

        pop = self.population
        self._route_rates()
        # the students of each school year run so far: (first day, (not over-policed, over-policed)), for rates
        self.school_years: list[tuple[int, tuple[int, int]]] = [(0, pop.students_by_group)]
        # each school year's movement at its start: children new to the borough, moved to secondary school, left
        self.school_year_flows: list[dict[str, int]] = [{"students_joined": 0, "students_moved": 0, "students_left": 0}]
        self.risk_today = pop.risk()
        self.risk_today.flags.writeable = False
        self._welfare: tuple[np.ndarray, np.ndarray] | None = None  # see welfare_rates

        self.policing = Policing(self, [spec.cls(self, spec.params) for spec in mechanisms(config)])
        self.policing.setup()

        self._running_totals: tuple[int, Totals] | None = None
        self.datacollector = mesa.DataCollector(model_reporters=running_reporters())
        self.running = True

    # --- construction ------------------------------------------------------------------------------------------
    def _create_schools_and_staff(self) -> None:
        b, cfg, pop = self.borough, self.config, self.population
        classes = self.agent_classes
        funding = cfg.borough.support_funding_multiplier
        mh_per_1000 = cfg.borough.mental_health_slots_per_1000_pupils * funding
        slots = np.maximum(1, np.rint(mh_per_1000 * b.school_pupils / 1000.0)).astype(int)
        if mh_per_1000 == 0:
            slots[:] = 0
        self.schools: list[School] = [
            classes.school(
                self, s, int(b.school_phase[s]), int(b.school_pupils[s]), int(b.school_ward[s]), int(slots[s])
            )
            for s in range(b.n_schools)
        ]
        rng = self.streams.generator("teachers")
        staff = cfg.staff
        tolerance = rng.normal(staff.referral_tolerance_mean, staff.referral_tolerance_sd, size=pop.n_classes)
        self.teachers: list[Teacher] = []
        for c in range(pop.n_classes):
            school = self.schools[int(pop.class_school[c])]
            teacher = classes.teacher(self, c, school, float(tolerance[c]))
            school.teachers.append(teacher)
            self.teachers.append(teacher)
        yw_per_1000 = cfg.borough.youth_workers_per_1000_pupils * funding
        n_workers = round(yw_per_1000 * pop.n / 1000.0)
        if yw_per_1000 > 0:
            n_workers = max(1, n_workers)
        self.youth_workers: list[YouthWorker] = []
        if n_workers:
            order = sorted(range(b.n_schools), key=lambda s: (b.school_ward[s], s))
            # Each worker serves a block of neighbouring schools; with more workers than schools, blocks repeat.
            blocks = np.array_split(np.array(order), min(n_workers, b.n_schools))
            for w in range(n_workers):
                schools = [int(s) for s in blocks[w % len(blocks)]]
                worker = classes.youth_worker(self, cfg.borough.youth_work_caseload, schools)
                self.youth_workers.append(worker)
                for s in schools:
                    self.schools[s].youth_workers.append(worker)

    def _route_rates(self) -> None:
        """Each student's school-run risk, from their route (made again when routes change, at a new school year)."""
        pop = self.population
        # each student's daily school-run incident rate at average propensity (phase rates x the route's true risk)
        self._route_membership: scipy.sparse.csr_array | None = None  # made by route_true_rate on first use
        self._student_route_risk = self.borough.route_risk[pop.route]  # the true risk of each student's school run
        street = self.catalogue.rate[int(Location.STREET)].sum(axis=1)[pop.phase]
        self.street_base_rate = street * self._student_route_risk

    # --- the day loop ------------------------------------------------------------------------------------------
    def step(self) -> None:
        """One school day (the first of a school year begins with the move between school years)."""
        if self.day >= self.config.days:
            self.running = False
            return
        day = self.day
        if day and day % SCHOOL_YEAR_DAYS == 0 and self.config.students.move_up_each_year:
            self.start_school_year()
        pop = self.population
        pop.evolve(day, self.streams)
        risk = pop.risk()
        need = pop.need()
        risk.flags.writeable = False  # shared by the rules, and kept by some: nobody may change it
        self.risk_today = risk
        self.policing.start_of_day(day)
        pre_empting = self.policing.pre_empting

        school_risk = risk
        in_school = self.policing.school_risk_multiplier()  # per school: deterrence by an officer on site
        if in_school is not None:
            school_risk = risk * in_school[pop.school]
        for incident in self.catalogue.draw_day(self, day, Location.SCHOOL, school_risk, need):
            if pre_empting and self._pre_empted(incident):
                continue
            self.schools[incident.school].handle_incident(incident)
            self._close_incident(incident)

        street_multiplier = self._student_route_risk
        deterrence = self.policing.street_risk_multiplier()
        if deterrence is not None:
            street_multiplier = street_multiplier * deterrence[pop.route]
        for incident in self.catalogue.draw_day(self, day, Location.STREET, risk, need, street_multiplier):
            if pre_empting and self._pre_empted(incident):
                continue
            self.handle_street_incident(incident)
            self._close_incident(incident)
        self.welfare_demand(day, need)

        self.policing.proactive_activities(day)
        self.policing.end_of_day(day)
        self.ledger.close_day(day)
        self.day += 1
        self.datacollector.collect(self)
        if self.day >= self.config.days:
            self.running = False

    def start_school_year(self) -> None:
        """The move between two school years, before the first day of the new one (docs/ODD.md §7.16).

        Nothing else happens over the summer: latent state is held as it was on the last school day. Children move
        up a year; Year 6 move to a secondary school in their area (or leave the borough), Year 11 leave, and new
        children take the leavers' slots (:meth:`StudentPopulation.plan_school_year`). What the model keeps per
        student follows the child who moves and starts afresh for a new child: the ledger's per-student counters,
        open support cases, and the ``Student`` agent. Classes are re-formed (new teachers only for a year group
        that had none), and everything derived from routes or from who the students are is made again; then each
        mechanism's ``start_of_school_year``.
        """
        pop = self.population
        change = pop.plan_school_year(self.streams)
        self._move_support(change)
        self.ledger.move_students(change.moved_from, change.moved_to, change.fresh)
        moved = [(agent, to) for p, to in zip(change.moved_from.tolist(), change.moved_to.tolist(), strict=True)
                 if (agent := self._students.pop(p, None)) is not None]  # fmt: skip
        for slot in [s for s in self._students if change.last_year[s]]:  # a child who left, or a moved-in slot's
            self._students.pop(slot).remove()
        for agent, to in moved:  # a child's agent follows them to their new slot
            agent.index = to
            self._students[to] = agent
        pop.start_school_year(change, self.streams)
        self._add_teachers(change.year)
        self._class_of = pop.class_id.tolist()
        self._route_rates()
        for officer in self.officers:  # the response officer too
            officer.forget_weights()
        self.school_years.append((self.day, pop.students_by_group))
        self.school_year_flows.append(
            {
                "students_joined": len(change.fresh),
                "students_moved": len(change.moved_from),
                "students_left": len(change.left),
            }
        )
        self._welfare = None  # welfare rates follow the students' phases: made again on the first day
        self.policing.start_of_school_year(change.year)

    def _move_support(self, change: SchoolYearChange) -> None:
        """Open support cases: a child who leaves the borough frees their place; one who moves school keeps it.

        A youth worker keeps the case of a child who moves to secondary school (community youth work follows the
        child); a mental-health case moves with the child to the new school's places.
        """
        pop, day = self.population, self.day
        moves = dict(zip(change.moved_from.tolist(), change.moved_to.tolist(), strict=True))
        # those who leave first: a mover takes a leaver's slot, and must not lose their case to the leaver's
        for students in (change.left, change.moved_from):
            for student in students[pop.youth_work_until[students] > day].tolist():
                worker = next(w for w in self.youth_workers if w.holds_case(student, day))
                end = worker.cases.pop(student)
                if student in moves:
                    worker.cases[moves[student]] = end
            for student in students[pop.mental_health_until[students] > day].tolist():
                end = int(pop.mental_health_until[student])
                ends = self.schools[int(pop.school[student])].mental_health_case_ends
                if end in ends:
                    ends.remove(end)
                if student in moves:
                    self.schools[int(pop.school[moves[student]])].mental_health_case_ends.append(end)

    def _add_teachers(self, year: int) -> None:
        """Teachers for classes made at a new school year (a year group that had no pupils at the start)."""
        pop = self.population
        new = range(len(self.teachers), pop.n_classes)
        if not new:
            return
        staff = self.config.staff
        rng = self.streams.generator("teachers_added", year)
        tolerance = rng.normal(staff.referral_tolerance_mean, staff.referral_tolerance_sd, size=len(new))
        for c, t in zip(new, tolerance.tolist(), strict=True):
            school = self.schools[int(pop.class_school[c])]
            teacher = self.agent_classes.teacher(self, c, school, float(t))
            school.teachers.append(teacher)
            self.teachers.append(teacher)

    def handle_street_incident(self, incident: Incident) -> None:
        """A school-run incident comes to police through a patrol or a report from the public, or not at all."""
        officer = self.policing.detects_street_incident(incident)
        if officer is not None:
            incident.noticed = True
            self.police_attend(officer, incident, CORRIDOR_STOP, by_patrol=True)
            return
        if incident.draw("public_report") < self.catalogue.public_report[incident.severity - 1]:
            incident.noticed = True
            self.police_attend(self.response_officer, incident, INCIDENT_RESPONSE)

    def welfare_rates(self) -> tuple[np.ndarray, np.ndarray]:
        """Each student's daily rate of welfare episodes (missing + crisis), cumulated, and the missing share.

        At wellbeing need 1: the yearly rates of the student's phase spread over the school year's days. Kept, and
        forgotten by :meth:`start_school_year` (students may change phase at a year boundary).
        """
        if self._welfare is None:
            b = self.config.borough
            secondary = self.population.phase == SECONDARY
            missing = np.where(secondary, b.missing_reports_per_1000_secondary, b.missing_reports_per_1000_primary)
            crisis = np.where(
                secondary, b.mental_health_crises_per_1000_secondary, b.mental_health_crises_per_1000_primary
            )
            rate = (missing + crisis) / (1000.0 * SCHOOL_YEAR_DAYS)
            share = np.divide(missing, missing + crisis, out=np.zeros(len(rate)), where=(missing + crisis) > 0)
            self._welfare = (np.concatenate([[0.0], np.cumsum(rate)]), share)
        return self._welfare

    def welfare_demand(self, day: int, need: np.ndarray) -> None:
        """Children's welfare outside school that comes to police: missing-child reports and mental-health crises.

        Student i has an episode today with probability r_i x need_i (r_i: the missing and crisis rates of their
        phase per school day), drawn by thinning (stream ``welfare_episode``): K ~ Poisson(cap x sum r) candidates
        are picked in proportion to r_i and each kept with probability need_i / cap (cap: today's highest need), so
        only the few candidates are touched. A kept episode is a missing report with probability
        missing_i / (missing_i + crisis_i). Police attend every missing report; a support service answers a crisis
        instead of police with probability min(1 - police_attend_crisis_floor, services_answer_crisis_share x
        support_funding_multiplier).
        """
        cumulative, missing_share = self.welfare_rates()
        cap = float(need.max()) if len(need) else 0.0
        rng = self.streams.generator("welfare_episode", day)
        k = int(rng.poisson(cumulative[-1] * cap))
        if k == 0:
            return
        picked = np.searchsorted(cumulative, rng.random(k) * cumulative[-1], side="right") - 1
        u = rng.random(k)
        kept = rng.random(k) * cap < need[picked]
        students, first = np.unique(picked[kept], return_index=True)  # at most one episode per student per day
        missing = u[kept][first] < missing_share[students]
        b = self.config.borough
        services = min(
            1.0 - b.police_attend_crisis_floor, b.services_answer_crisis_share * b.support_funding_multiplier
        )
        for student, is_missing in zip(students.tolist(), missing.tolist(), strict=True):
            self.welfare_episode(student, is_missing, services)

    def welfare_episode(self, student: int, missing: bool, services_share: float) -> None:
        """One episode: a missing report (police attend), or a crisis a service or police answer."""
        pop, day = self.population, self.day
        school, over = int(pop.school[student]), bool(pop.over_policed[student])
        police = self.config.police
        if missing:
            self.count(MISSING_REPORTS, school, over)
            hours = police.hours_missing_report
        else:
            self.count(CRISES_OUTSIDE_SCHOOL, school, over)
            if self.streams.uniform("crisis_answered_by_services", day, student) < services_share:
                self.count(CRISES_ANSWERED_BY_SERVICES, school, over)
                return
            hours = police.hours_welfare_attendance
        self.add_contact(student, WELFARE)
        self.response_officer.log_hours("welfare", hours, school)  # booked to the child's school

    def _pre_empted(self, incident: Incident) -> bool:
        """An incident pre-empted earlier today (``Policing.pre_empts``): found first, counted; or averted, not."""
        fate = self.policing.pre_empts(incident)
        if fate is None:
            return False
        if fate is PreEmption.FOUND:  # a search found it before it happened on the street: police know already
            incident.noticed = incident.known_to_police = True
            self._close_incident(incident)
        return True

    def _close_incident(self, incident: Incident) -> None:
        """Count an incident that happened, whether a serious one got an appropriate response, and harm to a victim."""
        g = int(incident.over_policed)
        ledger, day, school = self.ledger, self.day, incident.school
        ledger.add(day, school, INCIDENTS, g)
        if incident.location == Location.STREET:
            ledger.add(day, school, STREET_INCIDENTS, g)
        if incident.type.serious:
            ledger.add(day, school, SERIOUS_INCIDENTS, g)
            # Appropriate: police know when a criminal-justice response is needed; otherwise someone responded.
            if incident.known_to_police if incident.cj_appropriate else incident.noticed:
                ledger.add(day, school, SERIOUS_APPROPRIATE_RESPONSE, g)
            if incident.type.harms_victim:  # the victim side: harmed, unless a timely response averted it
                ledger.add(day, school, SERIOUS_HARM_AVERTED if incident.harm_averted else SERIOUS_HARM_INCIDENTS, g)

    # --- operations the rules use ------------------------------------------------------------------------------
    def police_attend(
        self,
        officer: Officer,
        incident: Incident,
        contact: Counted | None,
        capacity_shortfall: bool = False,
        by_patrol: bool = False,
    ) -> None:
        """Police learn of an incident: a contact with the child, the officer's recording decision, follow-up."""
        g = int(incident.over_policed)
        incident.known_to_police = True
        self.ledger.add(self.day, incident.school, INCIDENTS_KNOWN_TO_POLICE, g)
        if incident.location in (Location.STOP, Location.SWEEP):
            self.ledger.add(self.day, incident.school, INCIDENTS_FOUND_BY_POLICE_SEARCH, g)
        if contact is not None:
            self.add_contact(incident.student, contact)
        if capacity_shortfall:
            self.ledger.add(self.day, incident.school, CONTACTS_DUE_TO_CAPACITY_SHORTFALL, g)
        police = self.config.police
        if incident.type.offending:
            officer.log_hours("incident_response", police.hours_incident_response, incident.school)
        else:  # a wellbeing crisis: police in a non-policing role
            officer.log_hours("welfare", police.hours_welfare_attendance, incident.school)
        if officer.decides_to_record(incident):
            if officer.criminally_responsible(incident):
                self.record_crime(incident, officer, by_patrol)
            else:
                self.refer_for_safeguarding(incident, officer)
        self.policing.after_police_contact(officer, incident)

    def record_crime(self, incident: Incident, officer: Officer, by_patrol: bool = False) -> None:
        """A crime record: necessary or not by the incident's ground truth; labelling follows."""
        g = int(incident.over_policed)
        incident.recorded = True
        self.ledger.add(self.day, incident.school, CRIME_RECORDS, g)
        if not incident.cj_appropriate:
            self.ledger.add(self.day, incident.school, UNNECESSARY_CRIME_RECORDS, g)
        self.ledger.student_records[incident.student] += 1
        if self.age_on(incident.student, incident.day) < AGE_OF_CRIMINAL_RESPONSIBILITY:
            self.ledger.add(self.day, incident.school, CRIME_RECORDS_UNDER_10, g)  # 0 unless a rule skips the check
        self.ledger.records_by_severity[incident.severity - 1] += 1
        if not incident.cj_appropriate:
            self.ledger.student_unnecessary_records[incident.student] += 1
        officer.log_hours("crime_recording", self.config.police.hours_crime_record, incident.school)
        self.policing.after_crime_record(incident, officer, by_patrol)
        self.student(incident.student).on_crime_record(incident)

    def refer_for_safeguarding(self, incident: Incident, officer: Officer) -> None:
        """What replaces a crime record for a child under 10: a referral to children's services (safeguarding).

        No crime record and no labelling; no route intelligence. The referral costs the officer the paperwork of a
        record (``police.hours_crime_record``).
        """
        self.ledger.add(self.day, incident.school, SAFEGUARDING_REFERRALS_UNDER_10, int(incident.over_policed))
        officer.log_hours("safeguarding_referral", self.config.police.hours_crime_record, incident.school)

    def age_on(self, student: int, day: int) -> float:
        """A student's age in years on a school day, from their school year and their birthday.

        In England a child in Year N (Reception = 0; a secondary school's first year group is Year 7) turns N + 5
        during the school year that starts on 1 September. The birthday falls at a fraction b of that year (a keyed
        uniform draw per student, stream ``birthday``); school day d is at t = (d mod 190 + 0.5) / 190 x 0.88 of the
        year (term runs from September to about 20 July). Age = N + 5 + t - b. So every child in Reception to Year 4
        is under 10, and a child in Year 5 is under 10 until their birthday. The age follows ``year_group``.
        """
        pop = self.population
        year = int(pop.year_group[student]) + (7 if pop.phase[student] == SECONDARY else 0)
        return year + 5 + _year_elapsed(day) - self.streams.uniform("birthday", 0, student)

    def ages_on(self, day: int) -> np.ndarray:
        """Every student's age in years on a school day (as :meth:`age_on`, for all students at once)."""
        pop = self.population
        year = pop.year_group + np.where(pop.phase == SECONDARY, 7, 0)
        return year + 5 + _year_elapsed(day) - self.streams.uniforms("birthday", 0, np.arange(pop.n))

    def count(self, what: Counted, school: int, over_policed: bool, n: int = 1) -> None:
        """Count ``n`` of a counted outcome today at a school, in the student's group."""
        self.ledger.add(self.day, school, what, int(over_policed), n)

    def add_contact(self, student: int, contact: Counted) -> None:
        """One police contact (``contact``: a kind of contact, e.g. ``outcomes.PRESENCE``) with one student."""
        pop = self.population
        self.ledger.add(self.day, int(pop.school[student]), contact, int(pop.over_policed[student]))
        self.ledger.student_contacts[student] += 1
        self.ledger.student_contacts_by_type[student, contact.contact_index] += 1

    def add_contacts(self, students: np.ndarray, contact: Counted) -> None:
        """One police contact with each of many students (an assembly, a lesson, a round of stops)."""
        if len(students) == 0:
            return
        pop = self.population
        self.ledger.add_many(self.day, pop.school[students], contact, pop.over_policed[students])
        one = np.int32(1)  # the counters' dtype: np.add.at is several times slower when it has to cast
        np.add.at(self.ledger.student_contacts, students, one)
        np.add.at(self.ledger.student_contacts_by_type[:, contact.contact_index], students, one)

    def deliver_police_lesson(self, students: np.ndarray, effect: float = 0.0) -> None:
        """Police-delivered PSHE lessons: a contact for each student taught, and the lesson's effect on behaviour.

        Args:
            students: those taught, once per lesson: one class, or several lessons' classes at once (a student
                taught twice appears twice).
            effect: proportional change in each student's baseline propensity per lesson (``police_lessons``'
                ``effect_per_lesson``: null to harmful).
        """
        self.add_contacts(students, LESSON)
        if effect:
            self.population.shift_base_propensity(students, math.log1p(effect))

    def refer_to_youth_work(self, student: int, school_index: int) -> bool:
        """Refer a student to youth work; True if a worker takes the case (or one is already open)."""
        pop, day = self.population, self.day
        g = int(pop.over_policed[student])
        self.ledger.add(day, school_index, YOUTH_WORK_REFERRALS, g)
        if pop.youth_work_until[student] > day:
            return True
        for worker in sorted(self.schools[school_index].youth_workers, key=lambda w: w.open_cases(day)):
            if worker.accepts(student, day):
                worker.take_case(student, day)
                return True
        self.ledger.add(day, school_index, UNMET_YOUTH_WORK_REFERRALS, g)
        return False

    def youth_worker_of(self, student: int) -> YouthWorker | None:
        """The youth worker holding an open case for this student, if any."""
        if self.population.youth_work_until[student] <= self.day:
            return None
        for worker in self.schools[int(self.population.school[student])].youth_workers:
            if worker.holds_case(student, self.day):
                return worker
        for worker in self.youth_workers:  # a case kept from the child's primary school (a new school year)
            if worker.holds_case(student, self.day):
                return worker
        return None

    # --- look-ups ----------------------------------------------------------------------------------------------
    def student(self, index: int) -> Student:
        """The Student agent for one student, made on first use."""
        agent = self._students.get(index)
        if agent is None:
            agent = self.agent_classes.student(self, index)
            self._students[index] = agent
        return agent

    def teacher_of(self, student: int) -> Teacher:
        """The student's class teacher."""
        return self.teachers[self._class_of[student]]

    def route_true_rate(self, risk: np.ndarray | None = None) -> np.ndarray:
        """Expected school-run incidents per route today: the true pattern of risk the police do not see.

        Args:
            risk: the students' risk multipliers to use instead of today's (``risk_today``), e.g. another day's.
        """
        # The sum over each route's students of base rate x today's risk, as a (route x student) 0/1 matrix times
        # the rates: it adds in student order, exactly like np.bincount(route, weights=...), at a third of the cost.
        if self._route_membership is None:
            pop = self.population
            self._route_membership = scipy.sparse.csr_array(
                (np.ones(pop.n), (pop.route, np.arange(pop.n))), shape=(self.borough.n_routes, pop.n)
            )
            self._route_membership.sort_indices()
        return self._route_membership @ (self.street_base_rate * (self.risk_today if risk is None else risk))

    def officer_hours_by_activity(self) -> dict[str, float]:
        """Officer hours summed over all officers, by activity."""
        out: dict[str, float] = {}
        for officer in self.officers:
            for activity, hours in officer.hours.items():
                out[activity] = out.get(activity, 0.0) + hours
        return out

    # --- results -----------------------------------------------------------------------------------------------
    def metrics(self) -> dict[str, Any]:
        """School-year outcomes of the days run so far (see :func:`sim.core.metrics.year_metrics`)."""
        return year_metrics(self)

    def daily(self) -> pd.DataFrame:
        """The daily ledger as a tidy DataFrame, one row per day per school."""
        return daily_frame(self)

    def yearly(self) -> pd.DataFrame:
        """The count-derived outcomes of each school year run, one row per school year (``yearly.parquet``)."""
        return yearly_frame(self)

    def running_totals(self) -> Totals:
        """The counts up to the last finished day, for the DataCollector's reporters (made once a day)."""
        if self._running_totals is None or self._running_totals[0] != self.day:
            self._running_totals = (self.day, totals(self, self.ledger.totals, self.day))
        return self._running_totals[1]
