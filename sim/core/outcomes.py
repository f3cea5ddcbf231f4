"""The outcome registry: every outcome a run reports, declared once.

An outcome is declared here (the model's own) or in the mechanism that owns it, with its name, kind, unit, label
and meaning. Everything else is derived from the declarations: the ``metrics.json`` keys, the ``daily.parquet``
columns, Mesa's DataCollector reporters, the summary printed after a run, the plot and report specs, and the
metric tables in README.md and docs/ODD.md (``python -m sim.outcomes``).

Three sorts of declaration:

* :meth:`OutcomeRegistry.counted`: an outcome counted per day, school and group in the :class:`Ledger` (a crime
  record, an exclusion). Its metrics are the count and, as asked, its rate per 1,000 students per school year, the
  rates of the two groups, and their relative rate index (RRI: the over-policed group's rate over the others').
  A counted outcome is an ``int`` (its slot in the ledger), so ``ledger.counts[..., CRIME_RECORDS, :]`` works.
* :meth:`OutcomeRegistry.share` and :meth:`OutcomeRegistry.total`: ratios and sums of counted outcomes.
* :meth:`OutcomeRegistry.computed`: any other value of the run (a share of students, hours, a distance), computed
  at the end by a function of the model, or returned by its owning mechanism's ``metrics()``.

Groups: 0 = students not from an over-policed community, 1 = from one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.core.incidents import SCHOOL_YEAR_DAYS

if TYPE_CHECKING:
    from sim.core.model import BoroughModel

GROUPS = ("not_over_policed", "over_policed")
RATE_UNIT = "per 1,000 students per school year"
CORE = "core"  # the owner of the model's own outcomes


class Kind(StrEnum):
    """What sort of number a metric is."""

    LABEL = "label"  # what was run (scenario, borough, seed)
    COUNT = "count"
    HOURS = "hours"
    RATE = "rate"  # per 1,000 students per school year
    SHARE = "share"  # 0 to 1
    RRI = "RRI"  # relative rate index, over-policed / other
    VALUE = "value"  # anything else, with its unit


@dataclass(frozen=True)
class Metric:
    """One key of ``metrics.json``: what it is and how to show it."""

    key: str
    kind: Kind
    unit: str
    label: str
    meaning: str
    owner: str = CORE
    headline: int = 0  # a headline outcome's rank (1 first; 0: not headline): the DataCollector, figures, report
    summary: bool = False  # shown in the table printed after a single run
    fmt: str = "{:,.2f}"
    title: str = ""  # a short title for a figure panel (the label, when not given)

    @property
    def short(self) -> str:
        """The figure-panel title."""
        return self.title or self.label

    def format(self, value: Any) -> str:
        """The value as shown in tables ('n/a' when missing)."""
        return "n/a" if value is None else self.fmt.format(value)


class Counted(int):
    """A counted outcome: its slot in the ledger (an ``int``), and the metrics derived from its count."""

    name: str
    label: str
    meaning: str
    unit: str
    owner: str
    contact_index: int | None  # for a kind of police contact: its column in the per-student contact counts

    def __new__(cls, slot: int, name: str, label: str, meaning: str, unit: str, owner: str) -> Counted:
        """A counted outcome in ledger slot ``slot`` (see :meth:`OutcomeRegistry.counter`)."""
        obj = super().__new__(cls, slot)
        obj.name, obj.label, obj.meaning, obj.unit, obj.owner = name, label, meaning, unit, owner
        obj.contact_index = None
        return obj

    def __repr__(self) -> str:
        return f"Counted({self.name!r}, slot={int(self)})"

    # pickled by name: the slot is this process's registry's
    def __reduce__(self) -> tuple[Callable[[str], Counted], tuple[str]]:
        return (_counted_by_name, (self.name,))


def _counted_by_name(name: str) -> Counted:
    return REGISTRY.counter(name)


# A count-derived metric is worked out from the counts summed over days and schools, (counter, group) floats.
Derive = Callable[["Totals"], float | int | None]


@dataclass
class Totals:
    """Counts summed over the days run, by counter and group, with what rates need.

    The counts are Python floats (whole numbers, so every sum is exact): the same IEEE arithmetic as numpy's, at a
    fraction of the cost per value, which matters for the DataCollector's reporters run every day.
    """

    counts: list[tuple[float, float]]  # per counter: (not over-policed, over-policed)
    students: int
    students_by_group: tuple[float, float]  # (not over-policed, over-policed); a mean over several school years
    scale: float  # school years per days run: 190 / days (nan before the first day)

    def count(self, what: int) -> int:
        """Both groups together."""
        other, over = self.counts[what]
        return int(other + over)

    def rate(self, n: float, students: float) -> float | None:
        """Per 1,000 students per school year."""
        return None if students == 0 else n / students * 1000.0 * self.scale

    def group_rates(self, values: tuple[float, float]) -> tuple[float | None, float | None]:
        """(over-policed, other) rates of a (not over-policed, over-policed) pair of counts."""
        return self.rate(values[1], self.students_by_group[1]), self.rate(values[0], self.students_by_group[0])


def _sum_pairs(pairs: Iterator[tuple[float, float]]) -> tuple[float, float]:
    """The groups' sums of several counters."""
    other = over = 0.0
    for a, b in pairs:
        other += a
        over += b
    return other, over


def ratio(a: float | None, b: float | None) -> float | None:
    """The ratio a / b, or None when either is missing or b is 0."""
    if a is None or b is None or b == 0:
        return None
    return a / b


@dataclass
class OutcomeRegistry:
    """Every declared outcome, in declaration order."""

    counters: list[Counted] = field(default_factory=list)
    contact_types: list[Counted] = field(default_factory=list)
    metrics: dict[str, Metric] = field(default_factory=dict)
    derived: dict[str, Derive] = field(default_factory=dict)  # count-derived metrics: key -> function of Totals
    compute_fns: dict[str, Callable[[BoroughModel], Any] | None] = field(default_factory=dict)  # None: from owner
    officer_activities: dict[str, str] = field(default_factory=dict)  # activity -> owner

    # --- declarations --------------------------------------------------------------------------------------------
    def _add(self, metric: Metric) -> None:
        if metric.key in self.metrics:
            raise ValueError(f"outcome {metric.key!r} is declared twice (by {self.metrics[metric.key].owner!r} first)")
        self.metrics[metric.key] = metric

    def counted(
        self,
        name: str,
        *,
        label: str,
        meaning: str,
        unit: str,
        owner: str = CORE,
        per_1000: bool = False,
        group_rates: bool = False,
        rri: bool = False,
        headline: int = 0,
        summary: bool = False,
    ) -> Counted:
        """Declare an outcome counted per day, school and group; returns its ledger slot.

        Args:
            name: the count's key (``metrics.json``) and column (``daily.parquet``).
            label: a short label for tables and plots.
            meaning: what is counted, in a sentence.
            unit: what one is (e.g. "records").
            owner: the mechanism that counts it, or "core".
            per_1000: also report ``<name>_per_1000``.
            group_rates: also report ``<name>_per_1000_over_policed`` and ``..._not_over_policed``.
            rri: also report ``rri_<name>``.
            headline: its rate (and RRI) are headline outcomes, ranked so (1 first; 0: not headline).
            summary: its rate is shown in the summary after a single run.
        """
        counter = Counted(len(self.counters), name, label, meaning, unit, owner)
        self._count_metrics(counter, per_1000, group_rates, rri, headline, summary)
        self.counters.append(counter)
        return counter

    def contact_type(self, kind: str, *, label: str, meaning: str, owner: str = CORE, summary: bool = True) -> Counted:
        """Declare a kind of police contact: counted as ``police_contacts_<kind>``, with its rate and RRI."""
        counter = self.counted(
            f"police_contacts_{kind}",
            label=label,
            meaning=meaning,
            unit="contacts",
            owner=owner,
            per_1000=True,
            rri=True,
            summary=summary,
        )
        counter.contact_index = len(self.contact_types)
        self.contact_types.append(counter)
        return counter

    def _count_metrics(
        self, counter: Counted, per_1000: bool, group_rates: bool, rri: bool, headline: int, summary: bool
    ) -> None:
        name, owner = counter.name, counter.owner
        shown = summary and not per_1000  # the count itself is shown when it has no rate
        self._add(
            Metric(name, Kind.COUNT, counter.unit, counter.label, counter.meaning, owner, False, shown, "{:,.0f}")
        )
        self.derived[name] = lambda t: t.count(counter)
        self._rate_metrics(name, counter.label, counter.meaning, owner, lambda t: t.counts[counter],
                           per_1000, group_rates, rri, headline, summary)  # fmt: skip

    def _rate_metrics(
        self,
        name: str,
        label: str,
        meaning: str,
        owner: str,
        by_group: Callable[[Totals], tuple[float, float]],
        per_1000: bool,
        group_rates: bool,
        rri: bool,
        headline: int,
        summary: bool,
    ) -> None:
        rate_unit = RATE_UNIT
        if per_1000:
            self._add(Metric(f"{name}_per_1000", Kind.RATE, rate_unit, f"{label} per 1,000 students",
                             f"{meaning} Per 1,000 students per school year.", owner, headline, summary, "{:,.2f}",
                             label))  # fmt: skip
            self.derived[f"{name}_per_1000"] = lambda t: t.rate(sum(by_group(t)), t.students)
        if group_rates:
            for g, group in enumerate(GROUPS):
                who = "students from over-policed communities" if g else "other students"
                self._add(Metric(f"{name}_per_1000_{group}", Kind.RATE, rate_unit, f"{label} per 1,000 {who}",
                                 f"{meaning} Per 1,000 {who} per school year.", owner))  # fmt: skip

                def group_rate(t: Totals, g: int = g) -> float | None:
                    return t.group_rates(by_group(t))[1 - g]

                self.derived[f"{name}_per_1000_{group}"] = group_rate
        if rri:
            self._add(Metric(f"rri_{name}", Kind.RRI, "ratio", f"RRI, {label.lower()}",
                             f"Relative rate index of {label.lower()}: the rate per student from over-policed "
                             "communities over the rate for other students.", owner, headline,
                             summary and bool(headline), "{:.2f}",
                             f"RRI: {label.lower()}"))  # fmt: skip
            self.derived[f"rri_{name}"] = lambda t: ratio(*t.group_rates(by_group(t)))

    def total(
        self,
        name: str,
        parts: Callable[[], list[Counted]],
        *,
        label: str,
        meaning: str,
        unit: str,
        group_rates: bool = True,
        rri: bool = True,
        headline: int = 0,
        summary: bool = True,
    ) -> None:
        """Declare the sum of several counted outcomes (``parts()`` is asked each time: later declarations count)."""
        self._add(Metric(name, Kind.COUNT, unit, label, meaning, fmt="{:,.0f}"))
        self.derived[name] = lambda t: sum(t.count(c) for c in parts())
        self._rate_metrics(name, label, meaning, CORE, lambda t: _sum_pairs(t.counts[c] for c in parts()),
                           True, group_rates, rri, headline, summary)  # fmt: skip

    def share(
        self,
        key: str,
        numerator: Counted,
        denominator: Counted,
        *,
        label: str,
        meaning: str,
        headline: int = 0,
        summary: bool = False,
    ) -> None:
        """Declare the ratio of two counted outcomes (null when the denominator is 0)."""
        self._add(Metric(key, Kind.SHARE, "share", label, meaning, numerator.owner, headline, summary, "{:.1%}"))
        self.derived[key] = lambda t: ratio(t.count(numerator), t.count(denominator))

    def computed(
        self,
        key: str,
        *,
        kind: Kind,
        unit: str,
        label: str,
        meaning: str,
        owner: str = CORE,
        compute: Callable[[BoroughModel], Any] | None = None,
        headline: int = 0,
        summary: bool = False,
        fmt: str = "{:,.2f}",
    ) -> Metric:
        """Declare a metric computed at the end of a run.

        ``compute(model)`` gives the value; without it the value comes from the owning mechanism's ``metrics()``
        (null when the mechanism is not in the run).
        """
        metric = Metric(key, kind, unit, label, meaning, owner, headline, summary, fmt)
        self._add(metric)
        self.compute_fns[key] = compute
        return metric

    def officer_activity(self, activity: str, *, meaning: str, owner: str = CORE) -> None:
        """Declare something officers spend hours on: reported as ``officer_hours_<activity>``."""
        self.officer_activities[activity] = owner
        self.computed(
            f"officer_hours_{activity}",
            kind=Kind.HOURS,
            unit="officer hours",
            label=f"Officer hours, {activity.replace('_', ' ')}",
            meaning=meaning,
            owner=owner,
            compute=lambda m: float(m.officer_hours_by_activity().get(activity, 0.0)),
            fmt="{:,.0f}",
        )

    # --- look-ups ----------------------------------------------------------------------------------------------
    def counter(self, name: str) -> Counted:
        """The counted outcome called ``name``."""
        for c in self.counters:
            if c.name == name:
                return c
        raise KeyError(f"no counted outcome {name!r}; declared: {', '.join(c.name for c in self.counters)}")

    def __iter__(self) -> Iterator[Metric]:
        return iter(self.metrics.values())

    def __getitem__(self, key: str) -> Metric:
        return self.metrics[key]

    def __contains__(self, key: object) -> bool:
        return key in self.metrics

    def headline(self) -> list[Metric]:
        """The headline metrics, by rank."""
        return sorted((m for m in self if m.headline), key=lambda m: m.headline)

    def owned_by(self, owner: str) -> list[Metric]:
        """The metrics a mechanism (or "core") owns."""
        return [m for m in self if m.owner == owner]


REGISTRY = OutcomeRegistry()
"""The outcomes of the model and of every mechanism imported so far."""


class Hours:
    """Hours of work booked per day and school in the ledger (slots of ``Ledger.hours``)."""

    TEACHER_POLICE_WORK = 0
    TEACHER_PASTORAL = 1
    OFFICER = 2
    NAMES = ("teacher_police_work_hours", "teacher_pastoral_hours", "officer_hours")


class Ledger:
    """Daily outcome counts per school and group, plus per-student running totals.

    Args:
        days: school days of the run.
        n_schools: schools in the borough.
        n_students: students in the borough.
        registry: the outcomes to count (all counters declared so far).
    """

    def __init__(self, days: int, n_schools: int, n_students: int, registry: OutcomeRegistry = REGISTRY) -> None:
        self.n_counters = n_counters = len(registry.counters)
        self.counters = list(registry.counters)
        self.counts = np.zeros((days, n_schools, n_counters, 2), dtype=np.int32)
        self.hours = np.zeros((days, n_schools, len(Hours.NAMES)))
        self.student_contacts = np.zeros(n_students, dtype=np.int32)
        self.student_contacts_by_type = np.zeros((n_students, len(registry.contact_types)), dtype=np.int32)
        self.student_records = np.zeros(n_students, dtype=np.int32)
        self.records_by_severity = np.zeros(5, dtype=np.int64)
        self.student_unnecessary_records = np.zeros(n_students, dtype=np.int32)
        self.totals = np.zeros((n_counters, 2), dtype=np.int64)  # up to the last finished day
        # Flat memoryviews of the two arrays, for the one-at-a-time updates the rules make (about 100 a day):
        # reading and writing an element through a memoryview costs a fifth of numpy's 4-index scalar access,
        # and writes go straight into the arrays.
        self._counts_per_day = n_schools * n_counters * 2
        self._hours_per_day = n_schools * len(Hours.NAMES)
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

    def add(self, day: int, school: int, what: int, group: int, n: int = 1) -> None:
        """Count ``n`` of one outcome (``what``: a counted outcome)."""
        # self.counts[day, school, what, group] += n, through the flat view
        self._counts_flat[day * self._counts_per_day + (school * self.n_counters + what) * 2 + group] += n

    def add_many(self, day: int, schools: np.ndarray, what: int, groups: np.ndarray) -> None:
        """Count one outcome for each (school, group) pair in the arrays."""
        np.add.at(self.counts[day, :, what, :], (schools, np.asarray(groups).astype(np.intp)), np.int32(1))

    def add_hours(self, day: int, school: int, what: int, hours: float) -> None:
        """Add hours of work at a school (``what``: one of :class:`Hours`)."""
        # self.hours[day, school, what] += hours, through the flat view
        self._hours_flat[day * self._hours_per_day + school * len(Hours.NAMES) + what] += hours

    def move_students(self, source: np.ndarray, target: np.ndarray, fresh: np.ndarray) -> None:
        """A new school year: per-student counters follow a child who moves slot, and start at 0 for a new child.

        Every per-student array (an attribute named ``student_*``) is moved ``source`` -> ``target`` pairwise, then
        set to 0 in the ``fresh`` slots (which may include the sources).
        """
        for name, values in vars(self).items():
            if name.startswith("student_") and isinstance(values, np.ndarray):
                values[target] = values[source]
                values[fresh] = 0

    def close_day(self, day: int) -> None:
        """Fold the day into the running totals (read by Mesa's DataCollector)."""
        self.totals += self.counts[day].sum(axis=0)


# ------------------------------------------------------------------------------------------------------------------
# The model's own outcomes. Mechanisms declare theirs in their own modules (e.g. sim/mechanisms/corridors.py).
# ------------------------------------------------------------------------------------------------------------------
_R = REGISTRY

INCIDENTS = _R.counted(
    "incidents",
    label="Incidents",
    meaning="Incidents that happened, in school and on the school run (not those found by police searches).",
    unit="incidents",
    summary=True,
)
STREET_INCIDENTS = _R.counted(
    "street_incidents",
    label="School-run incidents",
    meaning="Incidents that happened on the school run.",
    unit="incidents",
)
SERIOUS_INCIDENTS = _R.counted(
    "serious_incidents",
    label="Serious incidents",
    meaning="Serious incidents (assault with injury, drug supply, weapons, serious violence): the safety side.",
    unit="incidents",
    summary=True,
)
SERIOUS_APPROPRIATE_RESPONSE = _R.counted(
    "serious_incidents_appropriate_response",
    label="Serious incidents with an appropriate response",
    meaning="Serious incidents that got an appropriate response: police knew of it when a criminal-justice "
    "response was appropriate; otherwise someone responded.",
    unit="incidents",
)
_R.share(
    "serious_incidents_appropriate_response_share",
    SERIOUS_APPROPRIATE_RESPONSE,
    SERIOUS_INCIDENTS,
    label="Serious incidents with an appropriate response",
    meaning="Share of serious incidents that got an appropriate response.",
    headline=4,
    summary=True,
)
INCIDENTS_KNOWN_TO_POLICE = _R.counted(
    "incidents_known_to_police",
    label="Incidents known to police",
    meaning="Incidents police learned of, including offences found by their searches.",
    unit="incidents",
)
INCIDENTS_FOUND_BY_POLICE_SEARCH = _R.counted(
    "incidents_found_by_police_search",
    label="Offences found by police searches",
    meaning="Offences police found by searching (corridor stops, points-funded weapon sweeps); not in incidents.",
    unit="incidents",
)

PRESENCE = _R.contact_type(
    "presence",
    label="Presence contacts",
    meaning="Police contacts with young people from an officer's daily presence in school (approached, talked to).",
    owner="embedded_presence",
)
INCIDENT_RESPONSE = _R.contact_type(
    "incident_response",
    label="Incident-response contacts",
    meaning="Police contacts with the child involved when police attend an incident.",
)
LESSON = _R.contact_type(
    "lesson",
    label="Lesson contacts",
    meaning="Police contacts with each student in an officer-delivered PSHE lesson.",
    owner="police_lessons",
)
POINTS_ACTIVITY = _R.contact_type(
    "points_activity",
    label="Points-activity contacts",
    meaning="Police contacts with each participant in a points-funded activity (assembly, workshop, sweep).",
    owner="points_budget",
)
CORRIDOR_STOP = _R.contact_type(
    "corridor_stop",
    label="Corridor-stop contacts",
    meaning="Police contacts with young people stopped, or dealt with, by a Safer Corridors patrol.",
    owner="safer_corridors",
)
_R.total(
    "police_contacts",
    lambda: REGISTRY.contact_types,
    label="Police contacts",
    meaning="Police contacts with young people, all kinds.",
    unit="contacts",
    headline=2,
)
CRIME_RECORDS = _R.counted(
    "crime_records",
    label="Crime records",
    meaning="Crimes recorded against children.",
    unit="records",
    per_1000=True,
    group_rates=True,
    rri=True,
    headline=3,
    summary=True,
)
UNNECESSARY_CRIME_RECORDS = _R.counted(
    "unnecessary_crime_records",
    label="Unnecessary crime records",
    meaning="Crime records of incidents whose ground truth says a criminal-justice response was not appropriate.",
    unit="records",
    per_1000=True,
    group_rates=True,
    rri=True,
    headline=1,
    summary=True,
)
_R.share(
    "unnecessary_share",
    UNNECESSARY_CRIME_RECORDS,
    CRIME_RECORDS,
    label="Share of records that were unnecessary",
    meaning="Unnecessary crime records over all crime records.",
    headline=5,
    summary=True,
)
EXCLUSIONS = _R.counted(
    "exclusions",
    label="Exclusions",
    meaning="School exclusions (suspensions) after an offence in school.",
    unit="exclusions",
    per_1000=True,
    rri=True,
    headline=6,
    summary=True,
)
YOUTH_WORK_REFERRALS = _R.counted(
    "youth_work_referrals",
    label="Youth-work referrals",
    meaning="Referrals of a student to youth work.",
    unit="referrals",
)
UNMET_YOUTH_WORK_REFERRALS = _R.counted(
    "unmet_youth_work_referrals",
    label="Unmet youth-work referrals",
    meaning="Youth-work referrals no worker had a free place for.",
    unit="referrals",
    summary=True,
)
MENTAL_HEALTH_REFERRALS = _R.counted(
    "mental_health_referrals",
    label="Mental-health referrals",
    meaning="Referrals of a student in a wellbeing crisis to mental-health support.",
    unit="referrals",
)
UNMET_MENTAL_HEALTH_REFERRALS = _R.counted(
    "unmet_mental_health_referrals",
    label="Unmet mental-health referrals",
    meaning="Mental-health referrals the school had no free place for.",
    unit="referrals",
    summary=True,
)
ADVISOR_CONSULTATIONS = _R.counted(
    "advisor_consultations",
    label="Advisor consultations",
    meaning="Times staff consulted a school-linked officer for advice (no contact with the child).",
    unit="consultations",
    owner="linked_advisors",
)
CONTACTS_DUE_TO_CAPACITY_SHORTFALL = _R.counted(
    "police_contacts_due_to_capacity_shortfall",
    label="Police contacts due to full support services",
    meaning="Police contacts that happened because the youth-work or mental-health support a student needed was "
    "full (staff called police instead).",
    unit="contacts",
)
YOUTH_WORK_DIVERSIONS = _R.counted(
    "youth_work_diversions",
    label="Youth-work diversions",
    meaning="Non-serious incidents a student's youth worker took on instead of police.",
    unit="incidents",
)


def _share_of_students(array: str) -> Callable[[BoroughModel], float | None]:
    def share(model: BoroughModel) -> float | None:
        values = getattr(model.ledger, array)
        return float((values > 0).mean()) if len(values) else None

    return share


def _records_of_severity(index: int) -> Callable[[BoroughModel], int]:
    def records(model: BoroughModel) -> int:
        return int(model.ledger.records_by_severity[index])

    return records


def _teacher_hours(slot: int) -> Callable[[BoroughModel], float]:
    def hours(model: BoroughModel) -> float:
        return float(model.ledger.hours[: model.day].sum(axis=(0, 1))[slot])

    return hours


_R.computed(
    "students_with_police_contact_share",
    kind=Kind.SHARE,
    unit="share of students",
    label="Students with a police contact",
    meaning="Share of students with at least one police contact.",
    compute=_share_of_students("student_contacts"),
    fmt="{:.1%}",
)
_R.computed(
    "students_with_crime_record_share",
    kind=Kind.SHARE,
    unit="share of students",
    label="Students with a crime record",
    meaning="Share of students with at least one crime record.",
    compute=_share_of_students("student_records"),
    fmt="{:.1%}",
)
for _severity in range(1, 6):
    _R.computed(
        f"crime_records_severity_{_severity}",
        kind=Kind.COUNT,
        unit="records",
        label=f"Crime records, severity {_severity}",
        meaning=f"Crime records of incidents of severity {_severity} (1 low-level to 5 most serious).",
        compute=_records_of_severity(_severity - 1),
        fmt="{:,.0f}",
    )
for _slot, _name, _label, _meaning in (
    (Hours.TEACHER_POLICE_WORK, "teacher_police_work_hours", "Teacher hours on police-like work",
     "Teacher hours of police-like work (investigating, searching) on offences the school dealt with."),
    (Hours.TEACHER_PASTORAL, "teacher_pastoral_hours", "Teacher pastoral hours",
     "Teacher hours on wellbeing crises handled without support services."),
):  # fmt: skip
    _R.computed(
        _name,
        kind=Kind.HOURS,
        unit="hours",
        label=_label,
        meaning=_meaning,
        compute=_teacher_hours(_slot),
        summary=True,
        fmt="{:,.0f}",
    )
_R.computed(
    "officer_hours",
    kind=Kind.HOURS,
    unit="officer hours",
    label="Officer hours",
    meaning="Officer hours on schools work and on children's incidents and welfare, all activities.",
    compute=lambda m: float(sum(m.officer_hours_by_activity().values())),
    summary=True,
    fmt="{:,.0f}",
)
_R.officer_activity("incident_response", meaning="Officer hours attending incidents.")
_R.officer_activity("crime_recording", meaning="Officer hours recording crimes.")

# The victim side: serious incidents that harm a victim, and those whose harm a timely response averted.
SERIOUS_HARM_INCIDENTS = _R.counted(
    "serious_harm_incidents",
    label="Serious harm incidents",
    meaning="Serious incidents that harmed a victim (incident types with harms_victim: assault with injury, serious "
    "violence), in school or on the school run, whose harm no timely response averted: the victim side.",
    unit="incidents",
    per_1000=True,
    headline=7,
    summary=True,
)
SERIOUS_HARM_AVERTED = _R.counted(
    "serious_harm_averted",
    label="Serious harm averted",
    meaning="Serious incidents of a victim-harming type whose harm an immediate response (an officer on site) averted "
    "or reduced below serious; not in serious_harm_incidents.",
    unit="incidents",
    summary=True,
)

# --- children below the age of criminal responsibility (docs/ODD.md §7.14) ----------------------------------------
CRIME_RECORDS_UNDER_10 = _R.counted(
    "crime_records_under_10",
    label="Crime records against children under 10",
    meaning="Crime records against children below the age of criminal responsibility (10 in England and Wales): "
    "always 0 under the standard rules, a check that no rule records one.",
    unit="records",
)
SAFEGUARDING_REFERRALS_UNDER_10 = _R.counted(
    "safeguarding_referrals_under_10",
    label="Safeguarding referrals of children under 10",
    meaning="Incidents an officer would have recorded as a crime but for the child being under 10: referred to "
    "children's services for safeguarding instead (no crime record, no labelling).",
    unit="referrals",
    per_1000=True,
    rri=True,
)
_R.officer_activity(
    "safeguarding_referral", meaning="Officer hours referring children under 10 to children's services."
)


def _records_per_1000_aged_10_plus(model: BoroughModel) -> float | None:
    """Crime records per 1,000 pupils aged 10 or over (on the middle day of the run) per school year."""
    days = model.day
    aged = int(np.count_nonzero(model.ages_on(days // 2) >= 10)) if days else 0
    if not aged:
        return None
    records = float(model.ledger.counts[:days, :, CRIME_RECORDS].sum())
    return records * 1000.0 * SCHOOL_YEAR_DAYS / (aged * days)


_R.computed(
    "crime_records_per_1000_aged_10_plus",
    kind=Kind.VALUE,
    unit="per 1,000 pupils aged 10+ per school year",
    label="Crime records per 1,000 pupils aged 10+",
    meaning="Crime records per 1,000 pupils aged 10 or over (the age of criminal responsibility) per school year: "
    "the denominator of national child justice statistics (compare: ~59,000 arrests of 10-17-year-olds in "
    "England and Wales in the year to March 2023, ~10 per 1,000; ~8,400 first-time entrants, ~1.4 per 1,000).",
    compute=_records_per_1000_aged_10_plus,
    fmt="{:,.2f}",
)

# --- welfare demand: police in non-policing roles (docs/ODD.md §7.15) ----------------------------------------------
WELFARE = _R.contact_type(
    "welfare",
    label="Welfare contacts",
    meaning="Police contacts with a child in a non-policing role: a missing-child report, a mental-health crisis "
    "outside school no support service answered, a wellbeing crisis in school police attended.",
)
MISSING_REPORTS = _R.counted(
    "missing_child_reports",
    label="Missing-child reports",
    meaning="Reports to police of a student missing (outside school); police attend every one.",
    unit="reports",
    per_1000=True,
)
CRISES_OUTSIDE_SCHOOL = _R.counted(
    "mental_health_crises_outside_school",
    label="Mental-health crises outside school",
    meaning="Mental-health crises outside school reported to police.",
    unit="crises",
    per_1000=True,
)
CRISES_ANSWERED_BY_SERVICES = _R.counted(
    "mental_health_crises_answered_by_services",
    label="Crises answered by support services",
    meaning="Mental-health crises outside school reported to police that a support service answered instead of "
    "police (more with more support funding).",
    unit="crises",
)
_R.share(
    "mental_health_crises_services_share",
    CRISES_ANSWERED_BY_SERVICES,
    CRISES_OUTSIDE_SCHOOL,
    label="Crises answered by services",
    meaning="Share of mental-health crises outside school reported to police that a support service answered.",
)
_R.officer_activity(
    "welfare",
    meaning="Officer hours in non-policing roles: missing-child reports, mental-health and wellbeing crises.",
)
