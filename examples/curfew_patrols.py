"""An analyst's own policing mechanism: after-school patrols that stop young people in over-policed wards.

This module is *not* part of the ``sim`` package. It is the kind of file an analyst keeps in their own folder, and
it is plugged into a scenario by naming its class (docs/extending.md)::

    PYTHONPATH=examples scripts/sim hydra.searchpath=[file://examples/conf] scenario=curfew_patrols

(``examples/conf/scenario/curfew_patrols.yaml``), or added to any scenario from the command line::

    PYTHONPATH=examples scripts/sim '+scenario.mechanisms.curfew_patrols={class: curfew_patrols.CurfewPatrols}'

The rule. Each school day, after school, police patrol ``wards_per_day`` of the over-policed wards, drawn at random
(patrols of this kind are usually sent where policing is already heavy). Each patrol stops some of the secondary
pupils who live in the ward: Poisson(``stops_per_patrol``) of them, picked by the officer's ``stop_weights`` (so the
bias towards students from over-policed communities, ``police.over_policed_stop_weight``, applies here too). Each
stop is a police contact of its own kind, ``curfew_stop``. What the stops find is not modelled.

Everything in it is an assumption, for illustration: there is no published evidence for these figures.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from sim.core.agents import OfficerRole
from sim.core.mechanism import Mechanism, MechanismParams
from sim.core.outcomes import REGISTRY
from sim.core.parameters import param

OWNER = "curfew_patrols"

# The outcomes this mechanism adds, declared once, at import (the run imports this module while it checks the
# configuration, before the model is built). A kind of police contact gives police_contacts_curfew_stop, its rate
# per 1,000 students and its relative rate index, and counts in police_contacts.
CURFEW_STOP = REGISTRY.contact_type(
    "curfew_stop",
    label="Curfew-patrol stops",
    meaning="Young people stopped by an after-school patrol in their home ward.",
    owner=OWNER,
)
REGISTRY.officer_activity("curfew_patrol", owner=OWNER, meaning="Officer hours on after-school ward patrols.")


class CurfewPatrolsParams(MechanismParams):
    """Parameters of after-school ward patrols (set as ``scenario.mechanisms.curfew_patrols.<name>``)."""

    wards_per_day: int = param(
        2,
        unit="wards per school day",
        range=(0, 50),
        meaning="Over-policed wards patrolled after school each school day (all of them if there are fewer)",
        source="assumption: illustration only",
    )
    stops_per_patrol: float = param(
        3.0,
        unit="stops per patrol",
        range=(0.0, 50.0),
        meaning="Mean secondary pupils stopped per ward patrol (Poisson)",
        source="assumption: illustration only",
    )
    patrol_hours: float = param(
        2.0,
        unit="officer hours per patrol",
        range=(0.0, 8.0),
        meaning="Officer hours per ward patrol",
        source="assumption: illustration only",
    )


class CurfewPatrols(Mechanism):
    """After-school patrols of over-policed wards that stop secondary pupils who live there."""

    name = OWNER
    Params: ClassVar[type[MechanismParams]] = CurfewPatrolsParams
    params: CurfewPatrolsParams

    def setup(self) -> None:
        """One patrol officer; the secondary pupils living in each over-policed ward."""
        model = self.model
        pop = model.population
        # through agent_classes, so an analyst's agents.officer subclass applies here too
        self.officer = model.agent_classes.officer(model, OfficerRole.RESPONSE, [])
        self.wards = np.flatnonzero(model.borough.ward_over_policed)
        secondary = pop.phase == 1
        self.residents = {int(w): np.flatnonzero(secondary & (pop.home_ward == w)) for w in self.wards}

    def proactive_activities(self, day: int) -> None:
        """Today's patrols and their stops (all draws from this mechanism's own stream, so others are unchanged)."""
        if len(self.wards) == 0 or self.params.wards_per_day == 0:
            return
        model = self.model
        rng = model.streams.generator("curfew_patrols", day)
        n_wards = min(self.params.wards_per_day, len(self.wards))
        for ward in rng.choice(self.wards, size=n_wards, replace=False).tolist():
            self.officer.log_hours("curfew_patrol", self.params.patrol_hours)
            students = self.residents[ward]
            k = min(len(students), int(rng.poisson(self.params.stops_per_patrol)))
            if k == 0:
                continue
            weights = self.officer.weights_for(("ward", ward), students)
            stopped = rng.choice(students, size=k, replace=False, p=weights / weights.sum())
            model.add_contacts(stopped, CURFEW_STOP)
