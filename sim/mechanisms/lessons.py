"""PSHE lessons: taught by the officer embedded in the school, or by teachers with police input into their design."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from sim.core.incidents import SCHOOL_YEAR_DAYS
from sim.core.mechanism import Mechanism, MechanismParams
from sim.core.outcomes import REGISTRY, Kind
from sim.core.parameters import param
from sim.mechanisms.presence import EmbeddedPresence

REGISTRY.officer_activity("lesson", owner="police_lessons", meaning="Officer hours teaching PSHE lessons.")
REGISTRY.computed(
    "teacher_led_pshe_lessons",
    kind=Kind.COUNT,
    unit="lessons",
    label="Teacher-led PSHE lessons",
    meaning="PSHE lessons teachers delivered to their class, designed with police input (no police contact).",
    owner="teacher_led_pshe",
    fmt="{:,.0f}",
)


class PoliceLessonsParams(MechanismParams):
    """Parameters of officer-delivered lessons."""

    lessons_per_week: float = param(
        2.0,
        unit="lessons per officer per week",
        range=(0.0, 25.0),
        meaning="Mean officer-delivered PSHE lessons per officer in school per 5-day week, each to one class",
        source="assumption: officer-delivered PSHE lessons (drugs, sexting, knife crime)",
    )
    hours_per_lesson: float = param(
        1.0,
        unit="hours per lesson",
        range=(0.0, 3.0),
        meaning="Officer hours per PSHE lesson",
        source="assumption",
    )
    effect_per_lesson: float = param(
        0.0,
        unit="proportional change in propensity per lesson",
        range=(-0.01, 0.1),
        meaning="Proportional change in each student's baseline propensity per police-delivered lesson (positive: "
        "harmful)",
        source="West & O'Neal 2004: police-delivered drug education (DARE) d = 0.023 (95% CI -0.04, 0.08), about "
        "zero (the default); its most favourable bound over a 17-lesson curriculum is about -1% a lesson (the "
        "range's bottom). Petrosino et al. 2013 (Campbell review): 'scared straight' juvenile awareness programmes "
        "raise offending (odds ratio about 1.7); assumption: that rise spread over 5 lessons, about +10% a lesson "
        "(the range's top)",
    )


class PoliceLessons(Mechanism):
    """Each officer in school teaches some lessons a week, each to one class: a police contact per student taught.

    The lesson's effect on behaviour is ``effect_per_lesson`` (about zero by default: West & O'Neal 2004; harmful
    at the top of its range). Lessons draw from their own random stream, so a scenario without them sees the same
    presence contacts.
    """

    name = "police_lessons"
    Params: ClassVar[type[MechanismParams]] = PoliceLessonsParams
    params: PoliceLessonsParams
    requires: ClassVar[tuple[str, ...]] = ("embedded_presence",)

    def setup(self) -> None:
        """Find the presence mechanism whose officers teach."""
        presence = self.model.policing.get("embedded_presence")
        assert isinstance(presence, EmbeddedPresence)  # checked with the configuration (``requires``)
        self.presence = presence

    def proactive_activities(self, day: int) -> None:
        """Today's lessons by each officer in school (Poisson), each to a class picked at random."""
        on_site = self.presence.on_site
        if not on_site:
            return
        model = self.model
        pop = model.population
        rng = model.streams.generator("police_lessons", day)
        schools = list(on_site)
        lessons = rng.poisson(self.params.lessons_per_week / 5.0, size=len(schools))
        taught = []  # the classes taught today, one entry per lesson
        for school_index, n_lessons in zip(schools, lessons.tolist(), strict=True):
            teachers = model.schools[school_index].teachers
            officer = on_site[school_index]
            for _ in range(n_lessons):
                teacher = teachers[int(rng.integers(len(teachers)))]
                taught.append(pop.students_of_class(teacher.class_id))
                officer.log_hours("lesson", self.params.hours_per_lesson, school_index)
        if taught:
            model.deliver_police_lesson(np.concatenate(taught), self.params.effect_per_lesson)


class TeacherLedPSHEParams(MechanismParams):
    """Parameters of teacher-delivered PSHE lessons designed with police input."""

    lessons_per_class_per_year: float = param(
        6.0,
        unit="lessons per class per school year",
        range=(0.0, 38.0),
        meaning="PSHE lessons on the topics police input informs (drugs, knife crime, online safety, relationships) "
        "each class is taught in a school year",
        source="assumption: one half-term unit of weekly PSHE lessons (range: up to a lesson every week of the year)",
    )
    programme_effect: float = param(
        0.05,
        unit="proportional fall in propensity per school year of lessons",
        range=(0.0, 0.19),
        meaning="Proportional fall in each student's baseline propensity after a full school year's lessons (each "
        "lesson gives an equal share of it)",
        source="Youth Endowment Fund toolkit technical report, anti-bullying programmes (Gaffney, Farrington & White "
        "2021): about 19% less bullying perpetration (the range's top); Gavine, Donnelly & Williams 2016 "
        "(Psychology of Violence): limited evidence that universal school-based violence prevention works, small "
        "effects in some trials (the range's bottom, 0). Default: assumption, in the toolkit's 'low impact' band "
        "(2-9% less violence)",
    )


class TeacherLedPSHE(Mechanism):
    """Teachers deliver evidence-based PSHE lessons to their own class, designed with police input: no police contact.

    Each school day each class has a lesson with probability ``lessons_per_class_per_year`` / 190 (its own stream,
    ``teacher_led_pshe``, so other mechanisms' draws are unchanged); a lesson lowers the baseline propensity of every
    student of the class by the factor (1 - ``programme_effect``) ** (1 / ``lessons_per_class_per_year``), so a
    full year's lessons lower it by ``programme_effect``.
    """

    name = "teacher_led_pshe"
    Params: ClassVar[type[MechanismParams]] = TeacherLedPSHEParams
    params: TeacherLedPSHEParams

    def setup(self) -> None:
        """The per-lesson effect, and the lesson count."""
        p = self.params
        n = p.lessons_per_class_per_year
        self.log_shift_per_lesson = math.log1p(-p.programme_effect) / n if n > 0 else 0.0
        self.lessons = 0

    def proactive_activities(self, day: int) -> None:
        """Today's lessons: each class independently, with probability lessons per year / 190."""
        p_lesson = self.params.lessons_per_class_per_year / SCHOOL_YEAR_DAYS
        if p_lesson <= 0:
            return
        pop = self.model.population
        u = self.model.streams.generator("teacher_led_pshe", day).random(pop.n_classes)
        classes = np.flatnonzero(u < p_lesson)
        if len(classes) == 0:
            return
        self.lessons += len(classes)
        if self.log_shift_per_lesson:
            students = np.concatenate([pop.students_of_class(int(c)) for c in classes])
            pop.shift_base_propensity(students, self.log_shift_per_lesson)

    def metrics(self) -> dict[str, Any]:
        """The lessons delivered."""
        return {"teacher_led_pshe_lessons": self.lessons}
