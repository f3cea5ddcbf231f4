"""Policing mechanisms and how a scenario's mechanisms act together on the school day.

A policing model is a list of mechanisms (``conf/scenario/<name>.yaml``: ``mechanisms:``, each with its
parameters). A mechanism is one subclass of :class:`Mechanism`: its own ``Params`` (a pydantic model whose
fields carry their defaults, units, sources and ranges), its own state, the hooks into the day it needs, and the
outcomes it declares (in the outcome registry, ``owner=<its name>``). Every hook has a do-nothing default.

The day loop asks the scenario's :class:`Policing`, which combines its mechanisms' answers:

==============================  =================================================================================
hook                            combined as
==============================  =================================================================================
``setup()``                     each mechanism, in the scenario's order
``start_of_day(day)``           each
``officer_on_site(school)``     the first officer given (an officer present: staff are readier to call police)
``first_responder(school)``     the first officer given (an officer on site who notices and attends incidents)
``takes_non_emergency_calls``   true if any mechanism says so (staff may call police below an emergency)
``call_threshold_shift()``      the sum of the shifts given (severity levels added to staff's threshold to call)
``schools_protocol_use``        the last value given, else the police default (``police.schools_protocol_use``)
``screen_call(...)``            every mechanism must let the call through (e.g. an advisor's advice)
``responder(incident)``         the first officer given, else the response team
``street_risk_multiplier()``    the product of the arrays given (deterrence on patrolled routes)
``school_risk_multiplier()``    the product of the arrays given (deterrence in schools with an officer on site)
``detects_street_incident(i)``  the first officer given (a patrol that sees it)
``pre_empts(incident)``         the first answer given: FOUND (a search found it earlier today) or AVERTED
``after_police_contact(o, i)``  each
``after_crime_record(i, o, p)`` each
``proactive_activities(day)``   each (presence, lessons, patrols, points activities)
``end_of_day(day)``             each
``start_of_school_year(year)``  each (before the first day of the second and later school years)
``metrics()``                   merged: each mechanism returns the values of the outcomes it declared
==============================  =================================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum, auto
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from sim.core.outcomes import REGISTRY

if TYPE_CHECKING:
    from sim.core.agents import Officer, School, Teacher
    from sim.core.config import SimConfig
    from sim.core.incidents import Incident
    from sim.core.model import BoroughModel

BUILT_IN_MECHANISMS: dict[str, str] = {
    "non_emergency_calls": "sim.mechanisms.calls.NonEmergencyCalls",
    "ordinary_calls": "sim.mechanisms.calls.OrdinaryCalls",
    "embedded_presence": "sim.mechanisms.presence.EmbeddedPresence",
    "officer_first_response": "sim.mechanisms.presence.OfficerFirstResponse",
    "police_lessons": "sim.mechanisms.lessons.PoliceLessons",
    "linked_advisors": "sim.mechanisms.advisors.LinkedAdvisors",
    "safer_corridors": "sim.mechanisms.corridors.SaferCorridors",
    "points_budget": "sim.mechanisms.points.PointsBudget",
    "schools_protocol": "sim.mechanisms.partnership.SchoolsProtocol",
    "youth_work_partnership": "sim.mechanisms.partnership.YouthWorkPartnership",
    "teacher_led_pshe": "sim.mechanisms.lessons.TeacherLedPSHE",
}
"""Mechanisms a scenario can name without giving their class (``class: package.module.Class`` for others)."""


class PreEmption(Enum):
    """What police activity earlier in the day did to an incident the day's draws say would happen."""

    FOUND = auto()  # a search found it first (a carried item): it happened and police know; not handled again
    AVERTED = auto()  # it does not happen (the weapon it needed was removed): not counted as an incident


class MechanismParams(BaseModel):
    """Parameters of a mechanism (none by default); unknown keys are errors, values are fixed for a run."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Mechanism:
    """Base class of a policing mechanism: every hook does nothing.

    Args:
        model: the borough model it acts in.
        params: its validated parameters (an instance of ``Params``).
    """

    name: ClassVar[str] = ""
    """The mechanism's name: its key in a scenario's ``mechanisms:`` and the owner of its outcomes."""
    Params: ClassVar[type[MechanismParams]] = MechanismParams
    requires: ClassVar[tuple[str, ...]] = ()
    """Names of mechanisms that must come before this one in the scenario (checked before any run)."""
    takes_non_emergency_calls: ClassVar[bool] = False
    """Whether, with this mechanism, staff may call police about incidents below an emergency."""

    def __init__(self, model: BoroughModel, params: MechanismParams) -> None:
        self.model = model
        self.params = params

    @classmethod
    def check_config(cls, config: SimConfig, params: Any) -> None:
        """Cross-check the parameters against the rest of the configuration (raise ValueError if inconsistent)."""

    def setup(self) -> None:
        """Create officers and links, plan what is planned ahead."""

    def start_of_day(self, day: int) -> None:
        """Decide the day's deployments."""

    def officer_on_site(self, school: School) -> Officer | None:
        """An officer present in the school today, if any."""
        return None

    def first_responder(self, school: School) -> Officer | None:
        """An officer on site today who notices incidents in the school and attends them, if any."""
        return None

    def schools_protocol_use(self) -> float | None:
        """Probability a non-indictable in-school incident is left to the school, if this mechanism sets it."""
        return None

    def call_threshold_shift(self) -> float | None:
        """Severity levels this mechanism adds to staff's threshold for calling police (harder to call: > 0)."""
        return None

    def screen_call(self, school: School, teacher: Teacher, incident: Incident) -> bool:
        """Whether a teacher's non-emergency call to police goes ahead."""
        return True

    def responder(self, incident: Incident) -> Officer | None:
        """The officer who attends an incident reported to police, if this mechanism decides."""
        return None

    def street_risk_multiplier(self) -> np.ndarray | None:
        """Per-route multiplier of today's school-run incident risk (deterrence), or None."""
        return None

    def school_risk_multiplier(self) -> np.ndarray | None:
        """Per-school multiplier of today's in-school offending risk (deterrence by an officer on site), or None."""
        return None

    def detects_street_incident(self, incident: Incident) -> Officer | None:
        """A patrolling officer who sees a school-run incident, if any."""
        return None

    def pre_empts(self, incident: Incident) -> PreEmption | None:
        """Whether something police did earlier today pre-empted this incident (before it is handled), if so."""
        return None

    def after_police_contact(self, officer: Officer, incident: Incident) -> None:
        """What follows police attending an incident (after the recording decision)."""

    def after_crime_record(self, incident: Incident, officer: Officer, by_patrol: bool) -> None:
        """What follows a crime record (e.g. route intelligence)."""

    def proactive_activities(self, day: int) -> None:
        """Police-initiated activities of the day."""

    def end_of_day(self, day: int) -> None:
        """Book-keeping at the end of the day."""

    def start_of_school_year(self, year: int) -> None:
        """A new school year (``year``: 1 for the run's second) has begun, before its first day.

        The students have moved up, moved school, left and arrived (docs/ODD.md, "School years"): a slot of the
        student arrays may now hold another child, and routes and classes have changed. Anything kept per student,
        per route's or per school's students, or derived from them, must be made again here.
        """

    def metrics(self) -> dict[str, Any]:
        """The values of the outcomes this mechanism declared without a ``compute`` function."""
        return {}


def _overrides(mechanism: Mechanism, hook: str) -> bool:
    """Whether a mechanism does something in a hook (the base class's hooks do nothing)."""
    return getattr(type(mechanism), hook) is not getattr(Mechanism, hook)


class Policing:
    """A scenario's mechanisms, combined into the answers the day loop asks for (see the module's table).

    A hook only the base class implements is skipped: calling a do-nothing default changes nothing.

    Args:
        model: the borough model.
        mechanisms: the scenario's mechanisms, in order.
    """

    def __init__(self, model: BoroughModel, mechanisms: list[Mechanism]) -> None:
        self.model = model
        self.mechanisms = mechanisms
        self.by_name: dict[str, Mechanism] = {type(m).name: m for m in mechanisms}
        self.names = frozenset(self.by_name)
        self.takes_non_emergency_calls = any(type(m).takes_non_emergency_calls for m in mechanisms)
        uses = [u for m in mechanisms if (u := m.schools_protocol_use()) is not None]
        self.schools_protocol_use: float = uses[-1] if uses else model.config.police.schools_protocol_use
        shifts = [x for m in mechanisms if (x := m.call_threshold_shift()) is not None]
        self.call_threshold_shift: float = float(sum(shifts))
        self.officer_on_site = self._first("officer_on_site")
        self.first_responder = self._first("first_responder")
        self.detects_street_incident = self._first("detects_street_incident")
        self.pre_empts = self._first("pre_empts")
        self.pre_empting = bool(self._bound("pre_empts"))  # whether any mechanism may pre-empt an incident
        self._responders = self._bound("responder")
        self._screens = self._bound("screen_call")
        self._multipliers = self._bound("street_risk_multiplier")
        self._school_multipliers = self._bound("school_risk_multiplier")
        self._each = {
            hook: self._bound(hook)
            for hook in (
                "setup",
                "start_of_day",
                "after_police_contact",
                "after_crime_record",
                "proactive_activities",
                "end_of_day",
                "start_of_school_year",
            )
        }

    def get(self, name: str) -> Mechanism | None:
        """The scenario's mechanism called ``name``, if it has one."""
        return self.by_name.get(name)

    def _bound(self, hook: str) -> list[Callable[..., Any]]:
        return [getattr(m, hook) for m in self.mechanisms if _overrides(m, hook)]

    def _first(self, hook: str) -> Callable[..., Any]:
        """A hook whose answer is the first non-None one (a single mechanism's method is used as it is)."""
        bound = self._bound(hook)
        if not bound:
            return _none
        if len(bound) == 1:
            return bound[0]

        def first(*args: Any) -> Any:
            for method in bound:
                answer = method(*args)
                if answer is not None:
                    return answer
            return None

        return first

    # --- combined hooks ------------------------------------------------------------------------------------------
    def setup(self) -> None:
        """Each mechanism's set-up, in order."""
        for hook in self._each["setup"]:
            hook()

    def start_of_day(self, day: int) -> None:
        """Each mechanism's start of day."""
        for hook in self._each["start_of_day"]:
            hook(day)

    def screen_call(self, school: School, teacher: Teacher, incident: Incident) -> bool:
        """Whether a non-emergency call goes ahead: every mechanism must let it through."""
        return all(screen(school, teacher, incident) for screen in self._screens)

    def responder(self, incident: Incident) -> Officer:
        """The officer who attends: the first a mechanism names, else the response team."""
        for responder in self._responders:
            officer = responder(incident)
            if officer is not None:
                return officer
        return self.model.response_officer

    def street_risk_multiplier(self) -> np.ndarray | None:
        """The product of the mechanisms' per-route multipliers today, or None."""
        return _product(self._multipliers)

    def school_risk_multiplier(self) -> np.ndarray | None:
        """The product of the mechanisms' per-school multipliers of today's in-school offending risk, or None."""
        return _product(self._school_multipliers)

    def after_police_contact(self, officer: Officer, incident: Incident) -> None:
        """Each mechanism's follow-up of a police contact."""
        for hook in self._each["after_police_contact"]:
            hook(officer, incident)

    def after_crime_record(self, incident: Incident, officer: Officer, by_patrol: bool) -> None:
        """Each mechanism's follow-up of a crime record."""
        for hook in self._each["after_crime_record"]:
            hook(incident, officer, by_patrol)

    def proactive_activities(self, day: int) -> None:
        """Each mechanism's police-initiated activities."""
        for hook in self._each["proactive_activities"]:
            hook(day)

    def end_of_day(self, day: int) -> None:
        """Each mechanism's end of day."""
        for hook in self._each["end_of_day"]:
            hook(day)

    def start_of_school_year(self, year: int) -> None:
        """Each mechanism's start of a school year."""
        for hook in self._each["start_of_school_year"]:
            hook(year)

    def metrics(self) -> dict[str, Any]:
        """The mechanisms' own metrics, each checked against what the mechanism declared."""
        out: dict[str, Any] = {}
        for mechanism in self.mechanisms:
            values = mechanism.metrics()
            name = type(mechanism).name
            undeclared = [k for k in values if k not in REGISTRY or REGISTRY[k].owner != name]
            if undeclared:
                raise ValueError(
                    f"mechanism {name!r} reports outcomes it has not declared: {undeclared} "
                    f"(declare them with REGISTRY.computed(..., owner={name!r}))"
                )
            out |= values
        return out


def _product(multipliers: list[Callable[[], np.ndarray | None]]) -> np.ndarray | None:
    """The product of the arrays the hooks give (those giving None left out), or None if none gives one."""
    out = None
    for multiplier in multipliers:
        m = multiplier()
        if m is not None:
            out = m if out is None else out * m
    return out


def _none(*args: Any) -> None:
    return None
