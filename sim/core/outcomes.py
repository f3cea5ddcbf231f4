"""What every run reports: a daily ledger per school and group, and the school-year metrics derived from it.

Counts are kept per (day, school, measure, group), group 0 = not from an over-policed community, 1 = from one,
so every rate can be given overall and by group, and disproportionality is a relative rate index (RRI): the
over-policed group's rate per student divided by the other students' rate.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.core.borough import PHASE_NAMES
from sim.core.incidents import SCHOOL_YEAR_DAYS

if TYPE_CHECKING:
    from sim.core.model import BoroughModel


class ContactType(IntEnum):
    """Kinds of police contact with a young person (DESIGN §5)."""

    PRESENCE = 0
    INCIDENT_RESPONSE = 1
    LESSON = 2
    POINTS_ACTIVITY = 3
    CORRIDOR_STOP = 4


class Count(IntEnum):
    """Counted outcomes, per day, school and group."""

    INCIDENTS = 0
    SERIOUS_INCIDENTS = 1
    SERIOUS_APPROPRIATE_RESPONSE = 2
    INCIDENTS_KNOWN_TO_POLICE = 3
    CONTACT_PRESENCE = 4
    CONTACT_INCIDENT_RESPONSE = 5
    CONTACT_LESSON = 6
    CONTACT_POINTS_ACTIVITY = 7
    CONTACT_CORRIDOR_STOP = 8
    CRIME_RECORDS = 9
    UNNECESSARY_CRIME_RECORDS = 10
    EXCLUSIONS = 11
    YOUTH_WORK_REFERRALS = 12
    UNMET_YOUTH_WORK_REFERRALS = 13
    MENTAL_HEALTH_REFERRALS = 14
    UNMET_MENTAL_HEALTH_REFERRALS = 15
    ADVISOR_CONSULTATIONS = 16
    CONTACTS_DUE_TO_CAPACITY_SHORTFALL = 17
    STREET_INCIDENTS = 18
    YOUTH_WORK_DIVERSIONS = 19
    INCIDENTS_FOUND_BY_POLICE_SEARCH = 20


class Hours(IntEnum):
    """Hours of work, per day and school."""

    TEACHER_POLICE_WORK = 0
    TEACHER_PASTORAL = 1
    OFFICER = 2


CONTACT_COUNT = {c: Count[f"CONTACT_{c.name}"] for c in ContactType}
GROUPS = ("not_over_policed", "over_policed")
_N_COUNTS = len(Count)
_N_HOURS = len(Hours)
_ONE = np.int32(1)  # the counters' dtype: np.add.at is several times slower when it has to cast


class Ledger:
    """Daily outcome counts per school and group, plus per-student running totals."""

    def __init__(self, days: int, n_schools: int, n_students: int) -> None:
        self.counts = np.zeros((days, n_schools, len(Count), 2), dtype=np.int32)
        self.hours = np.zeros((days, n_schools, len(Hours)))
        self.student_contacts = np.zeros(n_students, dtype=np.int32)
        self.student_contacts_by_type = np.zeros((n_students, len(ContactType)), dtype=np.int32)
        self.student_records = np.zeros(n_students, dtype=np.int32)
        self.records_by_severity = np.zeros(5, dtype=np.int64)
        self.student_unnecessary_records = np.zeros(n_students, dtype=np.int32)
        self.totals = np.zeros((len(Count), 2), dtype=np.int64)  # up to the last finished day
        self.total_counts = [0] * len(Count)  # the same, both groups together, as Python ints (for reporters)
        # Flat memoryviews of the two arrays, for the one-at-a-time updates the rules make (about 100 a day):
        # reading and writing an element through a memoryview costs a fifth of numpy's 4-index scalar access,
        # and writes go straight into the arrays.
        self._counts_per_day = n_schools * _N_COUNTS * 2
        self._hours_per_day = n_schools * _N_HOURS
        self._views()

    def _views(self) -> None:
        self._counts_flat = memoryview(self.counts).cast("B").cast("i")
        self._hours_flat = memoryview(self.hours).cast("B").cast("d")

    def __getstate__(self) -> dict[str, Any]:
        """For copying and pickling: the arrays, without the views onto them (made again on unpickling)."""
        state = self.__dict__.copy()
        del state["_counts_flat"], state["_hours_flat"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._views()

    def add(self, day: int, school: int, what: Count, group: int, n: int = 1) -> None:
        """Count ``n`` of one outcome."""
        # self.counts[day, school, what, group] += n, through the flat view
        self._counts_flat[day * self._counts_per_day + (school * _N_COUNTS + what) * 2 + group] += n

    def add_many(self, day: int, schools: np.ndarray, what: Count, groups: np.ndarray) -> None:
        """Count one outcome for each (school, group) pair in the arrays."""
        np.add.at(self.counts[day, :, what, :], (schools, np.asarray(groups).astype(np.intp)), _ONE)

    def add_hours(self, day: int, school: int, what: Hours, hours: float) -> None:
        """Add hours of work at a school."""
        # self.hours[day, school, what] += hours, through the flat view
        self._hours_flat[day * self._hours_per_day + school * _N_HOURS + what] += hours

    def close_day(self, day: int) -> None:
        """Fold the day into the running totals (read by Mesa's DataCollector)."""
        self.totals += self.counts[day].sum(axis=0)
        self.total_counts = self.totals.sum(axis=1).tolist()


def _rate(n: float, students: int, scale: float) -> float | None:
    return None if students == 0 else n / students * 1000.0 * scale


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def year_metrics(model: BoroughModel) -> dict[str, Any]:
    """The run's outcomes per 1,000 students per school year, overall and by group (DESIGN §5).

    Rates are scaled to a 190-day school year when fewer (or more) days were simulated.
    """
    days_run = model.day
    ledger = model.ledger
    c = ledger.counts[:days_run].sum(axis=(0, 1)).astype(float)  # (Count, group)
    hours = ledger.hours[:days_run].sum(axis=(0, 1))
    pop = model.population
    n_group = np.array([(~pop.over_policed).sum(), pop.over_policed.sum()])
    n = int(pop.n)
    scale = SCHOOL_YEAR_DAYS / days_run if days_run else float("nan")  # no day run: rates are undefined (null)

    def total(what: Count) -> int:
        return int(c[what].sum())

    contacts_by_type = {t: total(CONTACT_COUNT[t]) for t in ContactType}  # counts are integers
    contacts = sum(contacts_by_type.values())
    contacts_group = sum(c[CONTACT_COUNT[t]] for t in ContactType)
    records = total(Count.CRIME_RECORDS)
    unnecessary = total(Count.UNNECESSARY_CRIME_RECORDS)
    serious = total(Count.SERIOUS_INCIDENTS)

    def group_rates(values: np.ndarray) -> tuple[float | None, float | None]:
        return _rate(values[1], int(n_group[1]), scale), _rate(values[0], int(n_group[0]), scale)

    contacts_op, contacts_other = group_rates(contacts_group)
    records_op, records_other = group_rates(c[Count.CRIME_RECORDS])
    unnecessary_op, unnecessary_other = group_rates(c[Count.UNNECESSARY_CRIME_RECORDS])
    exclusions_op, exclusions_other = group_rates(c[Count.EXCLUSIONS])
    officer_hours = model.officer_hours_by_activity()

    out: dict[str, Any] = {
        "scenario": model.config.scenario.name,
        "borough": model.config.borough.name,
        "seed": model.config.seed,
        "days": days_run,
        "students": n,
        "students_over_policed": int(n_group[1]),
        "schools": model.borough.n_schools,
        "incidents": total(Count.INCIDENTS),
        "street_incidents": total(Count.STREET_INCIDENTS),
        "serious_incidents": serious,
        "incidents_known_to_police": total(Count.INCIDENTS_KNOWN_TO_POLICE),
        "police_contacts": contacts,
        "police_contacts_per_1000": _rate(contacts, n, scale),
    }
    for t in ContactType:
        out[f"police_contacts_{t.name.lower()}"] = contacts_by_type[t]
    for t in ContactType:
        out[f"police_contacts_{t.name.lower()}_per_1000"] = _rate(contacts_by_type[t], n, scale)
    out |= {
        "police_contacts_per_1000_over_policed": contacts_op,
        "police_contacts_per_1000_not_over_policed": contacts_other,
        "students_with_police_contact_share": float((ledger.student_contacts > 0).mean()) if n else None,
        "crime_records": records,
        "crime_records_per_1000": _rate(records, n, scale),
        "crime_records_per_1000_over_policed": records_op,
        "crime_records_per_1000_not_over_policed": records_other,
        "unnecessary_crime_records": unnecessary,
        "unnecessary_crime_records_per_1000": _rate(unnecessary, n, scale),
        "unnecessary_crime_records_per_1000_over_policed": unnecessary_op,
        "unnecessary_crime_records_per_1000_not_over_policed": unnecessary_other,
        "unnecessary_share": _ratio(unnecessary, records),
        "rri_police_contacts": _ratio(contacts_op, contacts_other),
        "rri_crime_records": _ratio(records_op, records_other),
        "rri_unnecessary_crime_records": _ratio(unnecessary_op, unnecessary_other),
        "exclusions": total(Count.EXCLUSIONS),
        "exclusions_per_1000": _rate(total(Count.EXCLUSIONS), n, scale),
        "rri_exclusions": _ratio(exclusions_op, exclusions_other),
        "serious_incidents_appropriate_response": total(Count.SERIOUS_APPROPRIATE_RESPONSE),
        "serious_incidents_appropriate_response_share": _ratio(total(Count.SERIOUS_APPROPRIATE_RESPONSE), serious),
        "incidents_found_by_police_search": total(Count.INCIDENTS_FOUND_BY_POLICE_SEARCH),
        "students_with_crime_record_share": float((ledger.student_records > 0).mean()) if n else None,
        "youth_work_diversions": total(Count.YOUTH_WORK_DIVERSIONS),
        "youth_work_referrals": total(Count.YOUTH_WORK_REFERRALS),
        "unmet_youth_work_referrals": total(Count.UNMET_YOUTH_WORK_REFERRALS),
        "mental_health_referrals": total(Count.MENTAL_HEALTH_REFERRALS),
        "unmet_mental_health_referrals": total(Count.UNMET_MENTAL_HEALTH_REFERRALS),
        "police_contacts_due_to_capacity_shortfall": total(Count.CONTACTS_DUE_TO_CAPACITY_SHORTFALL),
        "advisor_consultations": total(Count.ADVISOR_CONSULTATIONS),
        "teacher_police_work_hours": float(hours[Hours.TEACHER_POLICE_WORK]),
        "teacher_pastoral_hours": float(hours[Hours.TEACHER_PASTORAL]),
        "officer_hours": float(sum(officer_hours.values())),
    }
    for severity in range(1, 6):
        out[f"crime_records_severity_{severity}"] = int(ledger.records_by_severity[severity - 1])
    for t in ContactType:
        op, other = group_rates(c[CONTACT_COUNT[t]])
        out[f"rri_police_contacts_{t.name.lower()}"] = _ratio(op, other)
    for activity, h in sorted(officer_hours.items()):
        out[f"officer_hours_{activity}"] = h
    out["points_spent"] = model.policing.points_spent()
    out |= model.policing.extra_metrics()
    return {k: _clean(v) for k, v in out.items()}


def daily_frame(model: BoroughModel) -> pd.DataFrame:
    """One row per day per school: the day's counts (total and by group) and hours.

    Counts are int32 (a day's count at one school fits easily), phase and scenario categorical: a small frame to
    write for every run of a sweep and to concatenate over thousands of runs.
    """
    days_run = model.day
    ledger = model.ledger
    n_schools = model.borough.n_schools
    counts = ledger.counts[:days_run].reshape(days_run * n_schools, len(Count), 2)
    day = np.repeat(np.arange(days_run, dtype=np.int32), n_schools)
    school = np.tile(np.arange(n_schools, dtype=np.int32), days_run)
    phase = model.borough.school_phase[school]
    present = np.unique(phase)  # categories: the phases present, as astype("category") would give
    columns: dict[str, Any] = {
        "scenario": pd.Categorical.from_codes(np.zeros(len(day), dtype=np.int8), [model.config.scenario.name]),
        "seed": model.config.seed,
        "day": day,
        "school": school,
        "phase": pd.Categorical.from_codes(
            np.searchsorted(present, phase).astype(np.int8), [PHASE_NAMES[p] for p in present]
        ),
    }
    for what in Count:
        name = what.name.lower()
        by_group = [counts[:, what, g] for g in range(len(GROUPS))]
        columns[name] = by_group[0] + by_group[1]
        for group, values in zip(GROUPS, by_group, strict=True):
            columns[f"{name}_{group}"] = values
    for what in Hours:
        columns[f"{what.name.lower()}_hours"] = ledger.hours[:days_run, :, what].reshape(-1)
    return pd.DataFrame(columns)
