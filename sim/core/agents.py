"""The agents and their rules.

Every rule that acts on one event (a teacher noticing an incident, choosing a response; an officer deciding to
record a crime; a youth worker taking a case; a student reacting to a crime record) is a small method here. To
change a rule, subclass the agent in a module of your own, override the method, and select the subclass with
``agents.<kind>=yourmodule.YourClass`` (docs/extending.md).

Rules draw their randomness from ``incident.draw(purpose)``: a keyed draw that is the same in every scenario that
makes the same decision about the same incident, so that scenario comparisons stay paired. Mesa's ``self.random``
and ``self.rng`` are refused (they would unpair the scenarios): see :mod:`sim.core.streams`.

Student state changes only through :class:`~sim.core.population.StudentPopulation`'s methods
(``raise_propensity``, ``shift_base_propensity``, ``set_engagement``, ``start_youth_work``,
``start_mental_health``); its arrays are read-only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from enum import Enum, auto
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.core.incidents import Incident, Location
from sim.core.outcomes import (
    EXCLUSIONS,
    INCIDENT_RESPONSE,
    MENTAL_HEALTH_REFERRALS,
    UNMET_MENTAL_HEALTH_REFERRALS,
    WELFARE,
    YOUTH_WORK_DIVERSIONS,
    Counted,
    Hours,
)

if TYPE_CHECKING:
    from sim.core.model import BoroughModel


AGE_OF_CRIMINAL_RESPONSIBILITY = 10
"""England and Wales: a child under 10 cannot be guilty of an offence (Children and Young Persons Act 1933, s.50)."""


def contact_for(incident: Incident) -> Counted:
    """The kind of police contact when police attend an incident: welfare for a wellbeing crisis, else response."""
    return INCIDENT_RESPONSE if incident.type.offending else WELFARE


class Response(Enum):
    """What a teacher decides to do about an incident."""

    SCHOOL_DISCIPLINE = auto()
    YOUTH_WORK = auto()
    MENTAL_HEALTH = auto()
    POLICE = auto()


class OfficerRole(Enum):
    """What an officer is for."""

    SAFER_SCHOOLS_OFFICER = auto()  # embedded in a school or a small cluster
    WARD_ADVISOR = auto()  # school-linked ward officer, tactical advisor (Hackney pilot)
    RESPONSE = auto()  # borough response team: emergencies and calls


def fixed_per_student[Rule: Callable](rule: Rule) -> Rule:
    """Mark a selection rule whose weights depend only on fixed attributes of the agent and of the students.

    :meth:`Officer.weights_for` then works the weights out once per officer and group of students and keeps them.
    An override of the rule without this mark is asked again every time: marking is a promise that the rule reads
    nothing that changes during a run (propensity, records, the day).
    """
    rule.fixed_per_student = True  # type: ignore[attr-defined]
    return rule


class Student(mesa.Agent):
    """A student: a view on one row of the model's student arrays, plus the rules of how they react.

    Student agents are made on demand (``model.student(i)``) the first time a rule acts on that student, so a
    borough of a million pupils does not pay for a million Python objects; the arrays hold everyone's state.
    Mesa's ``model.agents_by_type[Student]`` therefore holds only the students some rule has acted on; every
    student is in ``model.population`` (``model.student(i)`` for any ``i`` gives their agent).
    """

    def __init__(self, model: BoroughModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def school(self) -> int:
        """Index of the student's school."""
        return int(self.model.population.school[self.index])

    @property
    def over_policed(self) -> bool:
        """From an over-policed community."""
        return bool(self.model.population.over_policed[self.index])

    @property
    def propensity(self) -> float:
        """Today's latent propensity to get into trouble (mean 1 at the start)."""
        return math.exp(self.model.population.log_propensity[self.index])

    @property
    def engagement(self) -> float:
        """Engagement with school, 0 to 1."""
        return float(self.model.population.engagement[self.index])

    @property
    def police_contacts(self) -> int:
        """Police contacts so far."""
        return int(self.model.ledger.student_contacts[self.index])

    @property
    def crime_records(self) -> int:
        """Crime records so far."""
        return int(self.model.ledger.student_records[self.index])

    def on_crime_record(self, incident: Incident) -> None:
        """Labelling: a crime record raises later risk and lowers engagement."""
        cfg = self.model.config.students
        pop = self.model.population
        pop.raise_propensity(self.index, math.log1p(cfg.labelling_effect))
        pop.set_engagement(self.index, max(0.0, pop.engagement[self.index] - cfg.labelling_engagement_loss))

    def on_exclusion(self, incident: Incident) -> None:
        """An exclusion lowers engagement."""
        cfg = self.model.config.students
        pop = self.model.population
        pop.set_engagement(self.index, max(0.0, pop.engagement[self.index] - cfg.exclusion_engagement_loss))


class Teacher(mesa.Agent):
    """A class teacher: notices incidents and decides what to do about them.

    Args:
        model: the model.
        class_id: the teacher's class (index into the student arrays' ``class_id``).
        school: the school agent.
        referral_tolerance: severity an incident needs before this teacher calls police.
    """

    def __init__(self, model: BoroughModel, class_id: int, school: School, referral_tolerance: float) -> None:
        super().__init__(model)
        self.class_id = class_id
        self.school = school
        self.referral_tolerance = referral_tolerance

    def notices(self, incident: Incident) -> bool:
        """Whether staff notice an in-school incident (more likely the more severe)."""
        return incident.draw("staff_notice") < self.model.catalogue.staff_notice[incident.severity - 1]

    def referral_threshold(self, officer_on_site: bool) -> float:
        """Severity needed to call police.

        Lower with an officer on site (the proximity, or net-widening, effect); higher when the scenario's
        mechanisms say calling is harder (``ordinary_calls``: 101/999 without a schools-police relationship).
        """
        shift = self.model.config.staff.proximity_shift if officer_on_site else 0.0
        return self.referral_tolerance - shift + self.model.policing.call_threshold_shift

    def choose_response(self, incident: Incident, officer_on_site: bool) -> Response:
        """The teacher's first choice of response to an incident they noticed."""
        t = incident.type
        if not t.offending:
            return Response.MENTAL_HEALTH
        if t.serious:
            return Response.POLICE  # an emergency: police are called in every policing model
        policing = self.model.policing
        if policing.takes_non_emergency_calls and t.severity >= self.referral_threshold(officer_on_site):
            return Response.POLICE
        staff = self.model.config.staff
        if t.severity >= 2 and self.model.population.risk_of(incident.student) >= staff.youth_work_referral_propensity:
            return Response.YOUTH_WORK
        return Response.SCHOOL_DISCIPLINE

    def escalates_when_support_full(self, incident: Incident) -> bool:
        """When the support a student needs is full, whether the teacher calls police instead."""
        if not self.model.policing.takes_non_emergency_calls:
            return False
        return incident.draw("escalate") < self.model.config.staff.escalate_when_no_capacity


class YouthWorker(mesa.Agent):
    """A youth worker from a non-statutory youth organisation, serving a few schools.

    Args:
        model: the model.
        caseload: cases held at once.
        schools: the schools served.
    """

    def __init__(self, model: BoroughModel, caseload: int, schools: list[int]) -> None:
        super().__init__(model)
        self.caseload = caseload
        self.schools = schools
        self.cases: dict[int, int] = {}  # student -> end day of the open case
        self.cases_taken = 0

    def open_cases(self, day: int) -> int:
        """Cases still open on ``day`` (finished ones are closed)."""
        if any(end <= day for end in self.cases.values()):
            self.cases = {s: end for s, end in self.cases.items() if end > day}
        return len(self.cases)

    def holds_case(self, student: int, day: int) -> bool:
        """Whether this worker has an open case for the student."""
        return self.cases.get(student, -1) > day

    def accepts(self, student: int, day: int) -> bool:
        """Whether this worker can take the student on (a free place in the caseload)."""
        return self.open_cases(day) < self.caseload

    def take_case(self, student: int, day: int) -> None:
        """Open a case: the student gets youth-work support until it ends."""
        end = day + self.model.population.youth_work_case_days
        self.cases[student] = end
        self.cases_taken += 1
        self.model.population.start_youth_work(student, end)

    def diverts(self, incident: Incident) -> bool:
        """A youth worker who holds the student's case takes on a non-serious incident instead of police."""
        return not incident.type.serious and incident.draw("youth_work_diversion") < self.diversion_probability

    @property
    def diversion_probability(self) -> float:
        """Probability the worker diverts an incident involving one of their cases."""
        return self.model.config.staff.youth_work_diversion


class Officer(mesa.Agent):
    """A police officer: notices, attends, records, advises, patrols.

    Args:
        model: the model.
        role: Safer Schools Officer, ward officer/advisor, or response.
        schools: indices of the schools this officer is linked to.
    """

    def __init__(self, model: BoroughModel, role: OfficerRole, schools: list[int] | None = None) -> None:
        super().__init__(model)
        self.role = role
        self.schools = list(schools or [])
        self.hours: dict[str, float] = {}
        self.hours_today = 0.0
        self._weights: dict[Hashable, np.ndarray] = {}  # see weights_for
        model.officers.append(self)

    def log_hours(self, activity: str, hours: float, school: int | None = None) -> None:
        """Add hours to the activity log (and to the school's daily officer hours, when at a school)."""
        if hours <= 0:
            return
        self.hours[activity] = self.hours.get(activity, 0.0) + hours
        self.hours_today += hours
        if school is not None:
            self.model.ledger.add_hours(self.model.day, school, Hours.OFFICER, hours)

    def notices(self, incident: Incident) -> bool:
        """Whether an officer on site sees an in-school incident directly."""
        p = self.model.config.police.officer_notice_by_severity[incident.severity - 1]
        return incident.draw("officer_notice") < p

    def decides_to_record(self, incident: Incident) -> bool:
        """Whether the officer records a crime.

        The National Crime Recording Standard says record once told; discretion is larger at low severity. The
        Schools Protocol lets the school deal with non-indictable incidents on its premises. Students from
        over-policed communities face higher odds of being recorded (bias multiplier).
        """
        t = incident.type
        if not t.recordable:
            return False
        school_may_deal_with_it = incident.location == Location.SCHOOL and not t.indictable
        if school_may_deal_with_it and incident.draw("schools_protocol") < self.model.policing.schools_protocol_use:
            return False
        police = self.model.config.police
        p = police.recording_by_severity[t.severity - 1]
        if incident.over_policed and 0 < p < 1:
            odds = p / (1 - p) * police.over_policed_recording_odds
            p = odds / (1 + odds)
        return incident.draw("record") < p

    def criminally_responsible(self, incident: Incident) -> bool:
        """Whether the child can be recorded as an offender: aged 10 or over on the day of the incident.

        Below the age of criminal responsibility (10 in England and Wales, Children and Young Persons Act 1933 s.50)
        an officer who would have recorded a crime against the child refers them to children's services for
        safeguarding instead (``BoroughModel.refer_for_safeguarding``): no crime record, no labelling.
        """
        return self.model.age_on(incident.student, incident.day) >= AGE_OF_CRIMINAL_RESPONSIBILITY

    def advises_police(self, incident: Incident, when_needed: float, when_not_needed: float) -> bool:
        """A tactical advisor's advice to staff on whether a police response is needed (no contact with the child).

        Args:
            incident: the incident staff ask about.
            when_needed: probability of advising police when a criminal-justice response is appropriate.
            when_not_needed: probability of advising police when it is not.
        """
        p = when_needed if incident.cj_appropriate else when_not_needed
        return incident.draw("advice") < p

    @fixed_per_student
    def stop_weights(self, students: np.ndarray) -> np.ndarray:
        """Relative chance that each of these students is picked for a stop on the street (officers' selection)."""
        pop = self.model.population
        return np.where(pop.over_policed[students], self.model.config.police.over_policed_stop_weight, 1.0)

    @fixed_per_student
    def approach_weights(self, students: np.ndarray) -> np.ndarray:
        """Relative chance that each of these students is approached by an officer in school (presence contacts)."""
        pop = self.model.population
        return np.where(pop.over_policed[students], self.model.config.police.over_policed_approach_weight, 1.0)

    def rule_is_fixed(self, rule: str) -> bool:
        """Whether this officer's selection rule ``rule`` (a method name) is marked :func:`fixed_per_student`."""
        return getattr(getattr(type(self), rule), "fixed_per_student", False)

    def forget_weights(self) -> None:
        """Forget the kept weights (a new school year: the students of a route or a school have changed)."""
        self._weights.clear()

    def weights_for(self, group: Hashable, students: np.ndarray, rule: str = "stop_weights") -> np.ndarray:
        """``rule(students)`` for a fixed group of students (a route, a school), named by ``group``.

        ``rule`` is the selection rule's method name: ``stop_weights`` (street stops) or ``approach_weights``
        (approaches in school). Kept per officer, rule and group when the rule is marked :func:`fixed_per_student`;
        asked afresh otherwise.
        """
        ask = getattr(self, rule)
        if not self.rule_is_fixed(rule):
            return ask(students)
        key = (rule, group)
        weights = self._weights.get(key)
        if weights is None:
            weights = self._weights[key] = ask(students)
        return weights


class School(mesa.Agent):
    """A school: its staff, support places, police link, and how an in-school incident is handled.

    Args:
        model: the model.
        index: the school's index in the borough arrays.
        phase: 0 primary, 1 secondary.
        pupils: number of pupils.
        ward: the ward the school is in.
        mental_health_slots: mental-health support places open at once.
    """

    def __init__(
        self, model: BoroughModel, index: int, phase: int, pupils: int, ward: int, mental_health_slots: int
    ) -> None:
        super().__init__(model)
        self.index = index
        self.phase = phase
        self.pupils = pupils
        self.ward = ward
        self.mental_health_slots = mental_health_slots
        self.mental_health_case_ends: list[int] = []
        self.teachers: list[Teacher] = []
        self.youth_workers: list[YouthWorker] = []
        self.link_officer: Officer | None = None

    # --- the incident pathway ----------------------------------------------------------------------------------
    def handle_incident(self, incident: Incident) -> None:
        """An incident in school: who notices it, who decides, and what follows (docs/ODD.md, "Process overview")."""
        model = self.model
        responder = model.policing.first_responder(self)
        if responder is not None and responder.notices(incident):
            incident.noticed = True
            model.police_attend(responder, incident, contact_for(incident))
            if incident.type.offending:
                self.after_offence(incident, police_involved=True)
            else:
                self.support_after_crisis(incident)
            return
        teacher = model.teacher_of(incident.student)
        if not teacher.notices(incident):
            return
        incident.noticed = True
        on_site = responder is not None or model.policing.officer_on_site(self) is not None
        response = teacher.choose_response(incident, officer_on_site=on_site)
        if response is Response.POLICE:
            self.refer_to_police(incident, teacher)
        elif response is Response.YOUTH_WORK:
            self.refer_to_youth_work(incident, teacher)
        elif response is Response.MENTAL_HEALTH:
            self.refer_to_mental_health(incident, teacher)
        else:
            self.discipline(incident)

    def refer_to_police(self, incident: Incident, teacher: Teacher, capacity_shortfall: bool = False) -> None:
        """Call police.

        Emergencies go straight through; otherwise a student's youth worker may divert the incident first, and the
        call may be screened (an advisor's advice).
        """
        model = self.model
        if not incident.type.serious:
            worker = model.youth_worker_of(incident.student)
            if worker is not None and worker.diverts(incident):
                model.count(YOUTH_WORK_DIVERSIONS, self.index, incident.over_policed)
                self.after_offence(incident, police_involved=False)
                return
            if not model.policing.screen_call(self, teacher, incident):
                self.discipline(incident)
                return
        officer = model.policing.responder(incident)
        model.police_attend(officer, incident, contact_for(incident), capacity_shortfall=capacity_shortfall)
        if incident.type.offending:
            self.after_offence(incident, police_involved=True)

    def refer_to_youth_work(self, incident: Incident, teacher: Teacher) -> None:
        """Refer to youth work (alongside school discipline); if no place is free, escalate or handle in school."""
        if self.model.refer_to_youth_work(incident.student, self.index):
            self.after_offence(incident, police_involved=False)
        elif teacher.escalates_when_support_full(incident):
            self.refer_to_police(incident, teacher, capacity_shortfall=True)
        else:
            self.discipline(incident)

    def refer_to_mental_health(self, incident: Incident, teacher: Teacher) -> None:
        """A wellbeing crisis: mental-health support, else youth work, else police or the teacher alone."""
        model = self.model
        if self.takes_mental_health_case(incident.student, model.day):
            return
        model.count(UNMET_MENTAL_HEALTH_REFERRALS, self.index, incident.over_policed)
        if model.refer_to_youth_work(incident.student, self.index):
            return
        if teacher.escalates_when_support_full(incident):
            self.refer_to_police(incident, teacher, capacity_shortfall=True)
        else:
            model.ledger.add_hours(
                model.day, self.index, Hours.TEACHER_PASTORAL, model.config.staff.pastoral_hours_per_crisis
            )

    def support_after_crisis(self, incident: Incident) -> None:
        """A wellbeing crisis police already attended: the school still seeks support, without calling police again."""
        model = self.model
        if self.takes_mental_health_case(incident.student, model.day):
            return
        model.count(UNMET_MENTAL_HEALTH_REFERRALS, self.index, incident.over_policed)
        if not model.refer_to_youth_work(incident.student, self.index):
            model.ledger.add_hours(
                model.day, self.index, Hours.TEACHER_PASTORAL, model.config.staff.pastoral_hours_per_crisis
            )

    def discipline(self, incident: Incident) -> None:
        """The school deals with it itself; staff do the police-like work (investigating, searching)."""
        if not incident.type.offending:
            return
        hours = self.model.config.staff.police_work_hours_by_severity[incident.severity - 1]
        self.model.ledger.add_hours(self.model.day, self.index, Hours.TEACHER_POLICE_WORK, hours)
        self.after_offence(incident, police_involved=False)

    def after_offence(self, incident: Incident, police_involved: bool) -> None:
        """School sanctions that follow an offence: possibly an exclusion (more likely once police are involved)."""
        if not incident.type.offending or incident.location != Location.SCHOOL:
            return
        if self.decides_exclusion(incident, police_involved):
            model = self.model
            model.count(EXCLUSIONS, self.index, incident.over_policed)
            model.student(incident.student).on_exclusion(incident)

    def decides_exclusion(self, incident: Incident, police_involved: bool) -> bool:
        """Whether the sanction is an exclusion (suspension)."""
        staff = self.model.config.staff
        p = staff.exclusion_by_severity[incident.severity - 1]
        if police_involved:
            p = min(1.0, p * staff.police_exclusion_multiplier)
        return incident.draw("exclusion") < p

    # --- support places ----------------------------------------------------------------------------------------
    def takes_mental_health_case(self, student: int, day: int) -> bool:
        """Open a mental-health case if a place is free (or the student already has one)."""
        model = self.model
        pop = model.population
        model.count(MENTAL_HEALTH_REFERRALS, self.index, bool(pop.over_policed[student]))
        if pop.mental_health_until[student] > day:
            return True
        self.mental_health_case_ends = [d for d in self.mental_health_case_ends if d > day]
        if len(self.mental_health_case_ends) >= self.mental_health_slots:
            return False
        end = day + pop.mental_health_case_days
        self.mental_health_case_ends.append(end)
        pop.start_mental_health(student, end)
        return True
