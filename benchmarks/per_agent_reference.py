"""The reference: a straightforward per-agent Mesa implementation of the daily student update.

The model keeps the dense daily update of student state in numpy arrays held by the model, and the rules in agent
methods that run on the sparse events. This module is what the daily update would look like written the way most
Mesa models are written: every student an ``Agent`` stepped each day with
``model.agents_by_type[ReferenceStudent].shuffle_do("step")``, each with its own draws from the model's random
number generator (``self.random``). A student's step does, for that student, the work that
:meth:`sim.core.population.StudentPopulation.evolve` and :meth:`sim.core.incidents.IncidentCatalogue.draw_day`
(school and school run) do for every student at once:

1. the latent drift: a uniform shock (its own draw), the pull back to baseline, the effect of youth-work and
   mental-health support under way, the ceiling on propensity;
2. today's risk (propensity, raised by disengagement) and wellbeing need;
3. at school, then on the school run: one uniform (its own draw); an incident if it falls below the student's total
   rate there (offending rates x risk + wellbeing rates x need, times the route's true risk on the school run); the
   same uniform picks the incident type from the cumulative per-type rates, and a second draw gives the ground truth
   (is a criminal-justice response appropriate).

Borough, children and rates come from the same configuration and seed as the array model (the same
``StudentPopulation`` is built and copied into the agents), so both do the same work per student-day on the same
borough. Random numbers differ (a per-agent Mesa model draws from one shared generator in shuffled order), so
incident counts agree in expectation, not exactly. Nothing else of the model (teachers, police, outcomes) is
here: it is the per-student part only, the part the array code replaces.

    python benchmarks/per_agent_reference.py                 # default borough, one school year, 3 repeats
    python benchmarks/per_agent_reference.py --days 38 --repeats 1
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from typing import Any

import mesa
import numpy as np

from sim.core.borough import build_borough
from sim.core.compose import compose_config
from sim.core.config import SimConfig
from sim.core.incidents import IncidentCatalogue, Location
from sim.core.model import BoroughModel, quiet_mesa
from sim.core.population import StudentPopulation
from sim.core.streams import RandomStreams

SQRT12 = math.sqrt(12.0)
SCHOOL, STREET = int(Location.SCHOOL), int(Location.STREET)


class ReferenceStudent(mesa.Agent):
    """One student, with their latent state as attributes, stepped once a day."""

    def __init__(self, model: PerAgentReference, index: int, pop: StudentPopulation) -> None:
        super().__init__(model)
        self.index = index
        self.base_log_propensity = float(pop.base_log_propensity[index])
        self.log_propensity = float(pop.log_propensity[index])
        self.log_need = float(pop.log_need[index])
        self.engagement = float(pop.engagement[index])
        self.youth_work_until = int(pop.youth_work_until[index])
        self.mental_health_until = int(pop.mental_health_until[index])
        phase = int(pop.phase[index])
        self.route_risk = float(model.route_risk[pop.route[index]])
        # per place: the per-type rates of the student's phase, and their offending and wellbeing totals
        self.rates = model.rates_by_phase[phase]
        self.totals = model.totals_by_phase[phase]

    def step(self) -> None:
        """One school day: latent drift, then whether an incident happens at school and on the school run."""
        model = self.model
        day = model.day
        shock = (self.random.random() - 0.5) * SQRT12 * model.drift_noise
        if self.youth_work_until > day:
            self.base_log_propensity += model.youth_work_step
        if self.mental_health_until > day:
            self.log_need += model.mental_health_step
        self.log_propensity += shock + model.drift_rate * (self.base_log_propensity - self.log_propensity)
        if self.log_propensity > model.log_max_propensity:
            self.log_propensity = model.log_max_propensity
        risk = math.exp(self.log_propensity) * (1.0 + model.disengagement_risk * (1.0 - self.engagement))
        need = math.exp(self.log_need)
        self.maybe_incident(SCHOOL, risk, need, 1.0)
        self.maybe_incident(STREET, risk, need, self.route_risk)

    def maybe_incident(self, place: int, risk: float, need: float, multiplier: float) -> None:
        """Draw whether the student has an incident at ``place`` today, its type and its ground truth."""
        u = self.random.random()
        offending_total, wellbeing_total = self.totals[place]
        if u >= (offending_total * risk + wellbeing_total * need) * multiplier:
            return
        cumulative = 0.0
        kind = len(self.rates[place]) - 1
        for k, (rate, offending) in enumerate(self.rates[place]):
            cumulative += rate * (risk if offending else need) * multiplier
            if u < cumulative:
                kind = k
                break
        cj_appropriate = self.random.random() < self.model.cj_probability[kind]
        self.model.incidents_today.append((self.index, kind, place, cj_appropriate))


class PerAgentReference(mesa.Model):
    """The per-agent reference model: the same borough and children as :class:`sim.core.model.BoroughModel`."""

    def __init__(self, config: SimConfig) -> None:
        super().__init__(rng=config.seed)
        streams = RandomStreams(config.seed)
        borough = build_borough(config.borough, streams)
        catalogue = IncidentCatalogue(config.incidents)
        pop = StudentPopulation(borough, config.borough, config.students, streams)
        cfg = config.students
        self.day = 0
        self.days = config.days
        self.drift_noise = cfg.drift_noise
        self.drift_rate = cfg.drift_rate
        self.log_max_propensity = pop.log_max_propensity
        self.disengagement_risk = cfg.disengagement_risk
        self.youth_work_step = np.log1p(-cfg.youth_work_effect) / pop.youth_work_case_days
        self.mental_health_step = np.log1p(-cfg.mental_health_effect) / pop.mental_health_case_days
        self.cj_probability = catalogue.cj_probability.tolist()
        self.route_risk = borough.route_risk
        offending = catalogue.offending.tolist()
        self.rates_by_phase = []
        self.totals_by_phase = []
        for phase in (0, 1):
            rates, totals = [], []
            for place in (SCHOOL, STREET):
                row = catalogue.rate[place, phase].tolist()
                rates.append(tuple(zip(row, offending, strict=True)))
                totals.append(
                    (
                        sum(r for r, o in zip(row, offending, strict=True) if o),
                        sum(r for r, o in zip(row, offending, strict=True) if not o),
                    )
                )
            self.rates_by_phase.append(rates)
            self.totals_by_phase.append(totals)
        for i in range(pop.n):
            ReferenceStudent(self, i, pop)
        self.n_students = pop.n
        self.incidents = 0
        self.incidents_today: list[tuple[int, int, int, bool]] = []

    def step(self) -> None:
        """One school day: every student steps, in random order."""
        self.incidents_today = []
        self.agents_by_type[ReferenceStudent].shuffle_do("step")
        self.incidents += len(self.incidents_today)
        self.day += 1


def time_reference(config: SimConfig) -> dict[str, Any]:
    """Construct the per-agent reference and run it for ``config.days`` days; seconds and incidents."""
    start = time.perf_counter()
    model = PerAgentReference(config)
    built = time.perf_counter()
    for _ in range(config.days):
        model.step()
    done = time.perf_counter()
    return {
        "seconds": done - start,
        "build_s": built - start,
        "incidents": model.incidents,
        "students": model.n_students,
        "days": config.days,
    }


def time_array_update(config: SimConfig) -> dict[str, Any]:
    """The array model's daily student update alone, the same work as the reference.

    Construction, then per day :meth:`StudentPopulation.evolve`, risk and need, and the day's incidents at school and
    on the school run (made into ``Incident`` objects, not handled).
    """
    start = time.perf_counter()
    model = BoroughModel(config)
    pop, catalogue, streams = model.population, model.catalogue, model.streams
    street = model.borough.route_risk[pop.route]
    incidents = 0
    for day in range(config.days):
        pop.evolve(day, streams)
        risk, need = pop.risk(), pop.need()
        incidents += len(catalogue.draw_day(model, day, Location.SCHOOL, risk, need))
        incidents += len(catalogue.draw_day(model, day, Location.STREET, risk, need, street))
    done = time.perf_counter()
    return {"seconds": done - start, "incidents": incidents, "students": pop.n, "days": config.days}


def main() -> None:
    """Time the reference and the array update on the same borough and days; print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--borough", default="hackney")
    parser.add_argument("--days", type=int, default=190)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    quiet_mesa()
    config = compose_config(["scenario=no_police", f"borough={args.borough}", f"days={args.days}"])
    time_array_update(config)  # warm-up
    ref = [time_reference(config.model_copy(update={"seed": s})) for s in range(args.repeats)]
    arr = [time_array_update(config.model_copy(update={"seed": s})) for s in range(max(5, args.repeats))]
    r, a = statistics.median(x["seconds"] for x in ref), statistics.median(x["seconds"] for x in arr)
    sd = ref[0]["students"] * args.days
    print(f"borough={args.borough} students={ref[0]['students']:,} days={args.days}")
    print(f"per-agent reference  {r:8.3f} s  {sd / r:14,.0f} student-days/s  incidents {ref[0]['incidents']:,}")
    print(f"array update         {a:8.3f} s  {sd / a:14,.0f} student-days/s  incidents {arr[0]['incidents']:,}")
    print(f"ratio                {r / a:8.1f}x")


if __name__ == "__main__":
    main()
