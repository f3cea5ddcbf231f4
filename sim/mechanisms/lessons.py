"""Officer-delivered PSHE lessons (drugs, sexting, knife crime), taught by the officer embedded in the school."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from sim.core.mechanism import Mechanism, MechanismParams
from sim.core.outcomes import REGISTRY
from sim.core.parameters import param
from sim.mechanisms.presence import EmbeddedPresence

REGISTRY.officer_activity("lesson", owner="police_lessons", meaning="Officer hours teaching PSHE lessons.")


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


class PoliceLessons(Mechanism):
    """Each officer in school teaches some lessons a week, each to one class: a police contact per student taught.

    The lesson's effect on behaviour is ``students.police_lesson_effect`` (about zero: West & O'Neal 2004).
    Lessons draw from their own random stream, so a scenario without them sees the same presence contacts.
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
            model.deliver_police_lesson(np.concatenate(taught))
