"""What pupils carry on the school run: the possession state that a stop-search can find.

The items are the catalogue's possession offences, the types with ``found_by_stop_weight`` > 0 (by default small
drugs possession, drug supply and weapon possession). Carrying is derived from the catalogue's school-run rates and
the pupil's risk, with the same uniform that decides the pupil's school-run incident today
(:meth:`~sim.core.incidents.IncidentCatalogue.student_rates`), so it is consistent with the incidents by
construction:

* a pupil carries item k today when their school-run incident today is of type k (the catalogue's possession
  incidents are days of carrying: with ``carry_days`` = 1 these are the only ones, and a search can never find
  more than the incident process generates);
* with ``carry_days`` = D > 1 a pupil also carries on days with no school-run incident, at D - 1 times the
  catalogue's daily rates of the possession types: U_i in [Λ_i, Λ_i + (D - 1) Σ_k λ_ik), the type by position
  (docs/ODD.md §7.9).

The state is a pure function of the day's keyed draws, the pupil's risk and the place's rates: nothing is stored,
so it costs nothing on days nobody is searched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.incidents import Location

if TYPE_CHECKING:
    from sim.core.model import BoroughModel

NOTHING = -1  # the item index of a pupil who carries nothing


def carried_items(
    model: BoroughModel, day: int, students: np.ndarray, place_multiplier: np.ndarray | None, carry_days: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """The item each of these students carries on the school run today, and whether it is today's incident.

    Call it on ``day`` after the day's risk is worked out (``model.risk_today``) and before the day's school-run
    incidents are drawn, with the school-run place multipliers the incidents will be drawn with.

    Args:
        model: the model.
        day: today.
        students: the students (indices).
        place_multiplier: these students' school-run rate multipliers today (route risk x patrol deterrence).
        carry_days: D, days of carrying per catalogued school-run possession incident (at least 1).

    Returns:
        ``(item, incident)``: the catalogue index of the type carried (:data:`NOTHING` for none), and whether the
        carrying is the student's school-run incident today (True) or a day of carrying beyond the catalogue's
        incidents (False; always False where nothing is carried).
    """
    catalogue = model.catalogue
    students = np.asarray(students, dtype=np.int64)
    item = np.full(len(students), NOTHING, dtype=np.int64)
    incident_today = np.zeros(len(students), dtype=bool)
    possession = catalogue.possession
    if len(students) == 0 or not possession.any():
        return item, incident_today
    u, total, per_type = catalogue.student_rates(
        model, day, Location.STREET, students, model.risk_today, model.population.need(), place_multiplier
    )
    # the type of today's incident, exactly as IncidentCatalogue.draw_day picks it
    kind = np.minimum((np.cumsum(per_type, axis=1) <= u[:, None]).sum(axis=1), per_type.shape[1] - 1)
    happens = u < total
    incident_today = happens & possession[kind]
    item[incident_today] = kind[incident_today]
    if carry_days > 1:
        extra = per_type[:, possession] * (carry_days - 1.0)
        bounds = total[:, None] + np.cumsum(extra, axis=1)
        position = (bounds <= u[:, None]).sum(axis=1)
        more = ~happens & (position < extra.shape[1])
        item[more] = np.flatnonzero(possession)[position[more]]
    return item, incident_today
