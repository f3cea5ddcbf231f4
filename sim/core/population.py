"""Students as arrays: who they are and the latent state that changes every school day.

The dense daily update of tens of thousands of students is array code held by the model; the rules that act on
one student at a time (a crime record's labelling effect, a youth-work case) are methods of
:class:`sim.core.agents.Student` and the other agents, which read these arrays and change them through this
class's methods: the arrays are read-only.
"""

from __future__ import annotations

import math

import numpy as np

from sim.core.borough import PRIMARY, Borough
from sim.core.config import BoroughConfig, StudentsConfig
from sim.core.streams import RandomStreams

_SQRT12 = math.sqrt(12.0)
# the state that changes during a run; the public arrays are read-only views of _<name>, changed by the methods
_READ_ONLY_STATE = (
    "base_log_propensity",
    "log_propensity",
    "log_need",
    "engagement",
    "youth_work_until",
    "mental_health_until",
)


class StudentPopulation:
    """Every student's attributes and latent state, one array element per student.

    Attributes:
        school, year_group, class_id, home_ward, route: where the student belongs (class_id is the teacher's id).
        over_policed: bool, the student is from an over-policed community.
        base_log_propensity: the level log-propensity drifts back to; moved by labelling and support.
        log_propensity: today's log-propensity to get into trouble.
        log_need: wellbeing need (drives wellbeing crises); lowered by mental-health support.
        engagement: 0 to 1; lowered by crime records and exclusions.
        youth_work_until, mental_health_until: the day a support case ends (-1: none).

    The state that changes is read-only to everyone else: change it through :meth:`raise_propensity`,
    :meth:`shift_base_propensity`, :meth:`set_engagement`, :meth:`start_youth_work` and
    :meth:`start_mental_health` (a direct write raises ``ValueError: assignment destination is read-only``). The
    methods also keep the short lists of students they concern, so that the daily update touches those few
    students rather than scanning everyone.
    """

    # read-only views of the _<name> arrays (see _views and _READ_ONLY_STATE)
    base_log_propensity: np.ndarray
    log_propensity: np.ndarray
    log_need: np.ndarray
    engagement: np.ndarray
    youth_work_until: np.ndarray
    mental_health_until: np.ndarray

    def __init__(self, borough: Borough, borough_cfg: BoroughConfig, cfg: StudentsConfig, streams: RandomStreams):
        self.cfg = cfg
        rng = streams.generator("students")
        pupils = borough.school_pupils
        n = int(pupils.sum())
        self.n = n
        self.school = np.repeat(np.arange(borough.n_schools), pupils)
        phase = borough.school_phase[self.school]
        self.phase = phase
        years = np.where(phase == PRIMARY, cfg.primary_years, cfg.secondary_years)
        self.year_group = (rng.random(n) * years).astype(np.int16)
        self.class_id, self.n_classes, self.class_school = _assign_classes(
            self.school, self.year_group, phase, borough_cfg
        )

        k = borough.catchment.shape[1]
        own_weight = 0.5 if k > 1 else 1.0
        weights = np.array([own_weight] + [(1 - own_weight) / (k - 1)] * (k - 1)) if k > 1 else np.array([1.0])
        slot = rng.choice(k, size=n, p=weights)
        self.home_ward = borough.catchment[self.school, slot]
        self.route = borough.route_index(self.home_ward, self.school)

        ward_op = borough.ward_over_policed[self.home_ward]
        p_op = np.where(
            ward_op,
            borough_cfg.over_policed_student_share_in_over_policed_wards,
            borough_cfg.over_policed_student_share_elsewhere,
        )
        self.over_policed = rng.random(n) < p_op
        n_over = int(self.over_policed.sum())
        self.students_by_group = (n - n_over, n_over)  # (not from an over-policed community, from one)

        s = cfg.propensity_sigma
        self._base_log_propensity = rng.normal(-(s**2) / 2, s, size=n) + np.where(
            self.over_policed, np.log(cfg.over_policed_propensity_ratio), 0.0
        )
        self.log_max_propensity = math.log(cfg.max_propensity)
        np.minimum(self._base_log_propensity, self.log_max_propensity, out=self._base_log_propensity)
        self._log_propensity = self._base_log_propensity.copy()
        s = cfg.need_sigma
        self._log_need = rng.normal(-(s**2) / 2, s, size=n)
        # need() is exp(log_need), which changes only for the few students in mental-health support: it is kept,
        # and evolve() refreshes it where log_need changes.
        self._need = np.exp(self._log_need)
        self._need.flags.writeable = False
        # the arrays the methods write; the public attributes are read-only views of them (see _views)
        self._engagement = np.ones(n)
        self._youth_work_until = np.full(n, -1, dtype=np.int64)
        self._mental_health_until = np.full(n, -1, dtype=np.int64)
        self._views()
        # The students whose state differs from the default, kept by the setters: everyone whose engagement has
        # been set (below 1 for all but a few), and everyone whose youth-work or mental-health case may still be
        # open (evolve drops the cases that have ended).
        self._disengaged = StudentSet()
        self._in_youth_work = StudentSet()
        self._in_mental_health = StudentSet()
        self.youth_work_case_days = borough_cfg.youth_work_case_days
        self.mental_health_case_days = borough_cfg.mental_health_case_days

        small = borough.n_routes < 2**15  # then a stable sort of int16 keys is a radix sort, five times faster
        order = np.argsort(self.route.astype(np.int16) if small else self.route, kind="stable")
        bounds = np.searchsorted(self.route[order], np.arange(borough.n_routes + 1))
        self._by_route = (order, bounds)
        bounds = np.searchsorted(self.school, np.arange(borough.n_schools + 1))
        self._school_bounds = bounds
        order = np.argsort(self.class_id, kind="stable")
        self._by_class = (order, np.searchsorted(self.class_id[order], np.arange(self.n_classes + 1)))

    # --- groups ------------------------------------------------------------------------------------------------
    def students_of_school(self, school: int) -> np.ndarray:
        """Indices of a school's students (contiguous)."""
        b = self._school_bounds
        return np.arange(b[school], b[school + 1])

    def students_on_route(self, route: int) -> np.ndarray:
        """Indices of the students whose school run is this route."""
        order, b = self._by_route
        return order[b[route] : b[route + 1]]

    def students_of_class(self, class_id: int) -> np.ndarray:
        """Indices of the students taught by one teacher (a class)."""
        order, b = self._by_class
        return order[b[class_id] : b[class_id + 1]]

    def school_bounds(self, schools: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First and one-past-last student index of each school (students are stored school by school)."""
        return self._school_bounds[schools], self._school_bounds[schools + 1]

    # --- state changes made by the rules -------------------------------------------------------------------------
    def raise_propensity(self, student: int, log_shift: float) -> None:
        """Raise one student's propensity, baseline and today's, by ``log_shift`` (up to the ceiling)."""
        ceiling = self.log_max_propensity
        self._base_log_propensity[student] = min(ceiling, self._base_log_propensity[student] + log_shift)
        self._log_propensity[student] = min(ceiling, self._log_propensity[student] + log_shift)

    def shift_base_propensity(self, students: np.ndarray, log_shift: float) -> None:
        """Shift the baseline propensity of each student listed by ``log_shift`` (twice if listed twice), capped."""
        np.add.at(self._base_log_propensity, students, log_shift)
        self._base_log_propensity[students] = np.minimum(self._base_log_propensity[students], self.log_max_propensity)

    def set_engagement(self, students: int | np.ndarray, engagement: float | np.ndarray) -> None:
        """Set the engagement (0 to 1) of one student or many."""
        self._engagement[students] = engagement
        self._disengaged.add(students)

    def start_youth_work(self, students: int | np.ndarray, until: int | np.ndarray) -> None:
        """Open (or move the end of) youth-work cases: support on the days before ``until``."""
        self._youth_work_until[students] = until
        self._in_youth_work.add(students)

    def start_mental_health(self, students: int | np.ndarray, until: int | np.ndarray) -> None:
        """Open (or move the end of) mental-health cases: support on the days before ``until``."""
        self._mental_health_until[students] = until
        self._in_mental_health.add(students)

    def _views(self) -> None:
        for name in _READ_ONLY_STATE:
            view = getattr(self, f"_{name}").view()
            view.flags.writeable = False
            setattr(self, name, view)

    def __getstate__(self) -> dict:
        """For copying and pickling: the arrays once, without the read-only views onto them."""
        state = self.__dict__.copy()
        for name in _READ_ONLY_STATE:
            del state[name]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._views()

    # --- state -------------------------------------------------------------------------------------------------
    def risk(self) -> np.ndarray:
        """Today's incident risk multiplier for every student (propensity, raised by disengagement)."""
        risk = np.exp(self._log_propensity)
        # Only disengaged students need the factor (1 + d (1 - engagement)); it is exactly 1 for the others (and
        # for any student in the list whose engagement is back at 1).
        disengaged = self._disengaged.array()
        if len(disengaged):
            risk[disengaged] *= 1.0 + self.cfg.disengagement_risk * (1.0 - self.engagement[disengaged])
        return risk

    def risk_of(self, student: int) -> float:
        """Today's incident risk multiplier of one student."""
        # Python floats: the same IEEE arithmetic as numpy's, without numpy scalars' overhead
        propensity = float(np.exp(self.log_propensity[student]))
        return propensity * (1.0 + self.cfg.disengagement_risk * (1.0 - float(self.engagement[student])))

    def need(self) -> np.ndarray:
        """Wellbeing need (mean 1) of every student: ``np.exp(log_need)``, read-only (kept up to date by evolve)."""
        return self._need

    def evolve(self, day: int, streams: RandomStreams) -> None:
        """One day of latent change: drift back to baseline with noise, and the effect of support under way."""
        cfg = self.cfg
        # Daily shocks are uniform with the configured standard deviation (a third of the cost of normal draws);
        # summed over the days that the drift remembers they are close to normal.
        noise = streams.generator("propensity_drift", day).random(self.n)
        noise -= 0.5
        noise *= _SQRT12
        # the students in support today: those whose case ends after today (ended cases leave the lists)
        in_youth_work = self._in_youth_work.keep_open(self._youth_work_until, day)
        in_mental_health = self._in_mental_health.keep_open(self._mental_health_until, day)
        if cfg.youth_work_effect > 0:
            self._base_log_propensity[in_youth_work] += np.log1p(-cfg.youth_work_effect) / self.youth_work_case_days
        if cfg.mental_health_effect > 0 and len(in_mental_health):
            self._log_need[in_mental_health] += np.log1p(-cfg.mental_health_effect) / self.mental_health_case_days
            self._need.flags.writeable = True
            self._need[in_mental_health] = np.exp(self._log_need[in_mental_health])
            self._need.flags.writeable = False
        noise *= cfg.drift_noise
        pull = self._base_log_propensity - self._log_propensity
        pull *= cfg.drift_rate
        noise += pull
        self._log_propensity += noise
        self._log_propensity[self._log_propensity > self.log_max_propensity] = self.log_max_propensity


class StudentSet:
    """A set of students, as a Python set (cheap to add one to) and a numpy array (to index the state arrays with).

    The array holds each member once, in no particular order: the daily update uses it for element-wise
    arithmetic only, where the order makes no difference.
    """

    def __init__(self) -> None:
        self._members: set[int] = set()
        self._array = np.zeros(0, dtype=np.int64)
        self._new: list[int] = []

    def add(self, students: int | np.ndarray) -> None:
        """Add one student or many (those already members are left as they are)."""
        one = isinstance(students, int | np.integer)
        for student in (int(students),) if one else np.asarray(students, dtype=np.int64).reshape(-1).tolist():
            if student not in self._members:
                self._members.add(student)
                self._new.append(student)

    def array(self) -> np.ndarray:
        """The members, as an array of indices."""
        if self._new:
            self._array = np.concatenate((self._array, np.array(self._new, dtype=np.int64)))
            self._new.clear()
        return self._array

    def keep_open(self, until: np.ndarray, day: int) -> np.ndarray:
        """Drop the members whose case ended by ``day`` (``until[student] <= day``); the others, as an array."""
        members = self.array()
        still = until[members] > day
        if not still.all():
            self._members.difference_update(members[~still].tolist())
            self._array = members = members[still]
        return members


def sample_within_schools(
    pop: StudentPopulation,
    weights: np.ndarray | None,
    schools: np.ndarray,
    k: np.ndarray,
    rng: np.random.Generator,
    cumulative: np.ndarray | None = None,
) -> np.ndarray:
    """Draw ``k[i]`` students (with replacement) from school ``schools[i]``, each in proportion to ``weights``.

    One vectorised draw for all schools: students are stored school by school, so a school is a slice of the
    cumulative weights. ``cumulative`` (from :func:`cumulative_weights`) may be given instead of ``weights`` when
    the weights do not change between draws.
    """
    k = np.asarray(k, dtype=np.int64)
    if k.sum() == 0:
        return np.zeros(0, dtype=np.int64)
    if cumulative is not None:
        cum = cumulative
    elif weights is not None:
        cum = cumulative_weights(weights)
    else:
        raise ValueError("sample_within_schools needs weights or cumulative")
    first, last = pop.school_bounds(np.asarray(schools))
    lo = np.repeat(cum[first], k)
    hi = np.repeat(cum[last], k)
    target = lo + rng.random(int(k.sum())) * (hi - lo)
    picked = np.searchsorted(cum, target, side="right") - 1
    return np.clip(picked, np.repeat(first, k), np.repeat(last, k) - 1)


def cumulative_weights(weights: np.ndarray) -> np.ndarray:
    """0 followed by the running sum of ``weights`` (one per student), as :func:`sample_within_schools` uses it."""
    return np.concatenate([[0.0], np.cumsum(weights)])


def _assign_classes(
    school: np.ndarray, year_group: np.ndarray, phase: np.ndarray, cfg: BoroughConfig
) -> tuple[np.ndarray, int, np.ndarray]:
    """Split each (school, year group) into classes of the configured size; one teacher per class."""
    class_size = np.where(phase == PRIMARY, cfg.class_size_primary, cfg.class_size_secondary)
    key = school.astype(np.int64) * 64 + year_group
    order = np.lexsort((np.arange(len(school)), key))
    sorted_key = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
    rank = np.arange(len(school)) - np.repeat(starts, np.diff(np.r_[starts, len(school)]))
    group_size = np.diff(np.r_[starts, len(school)])
    n_classes_in_group = np.maximum(1, np.ceil(group_size / class_size[order][starts]).astype(np.int64))
    group_of = np.repeat(np.arange(len(starts)), group_size)
    class_within = (rank * n_classes_in_group[group_of]) // group_size[group_of]
    first_class = np.r_[0, np.cumsum(n_classes_in_group)[:-1]]
    class_id = np.empty(len(school), dtype=np.int64)
    class_id[order] = first_class[group_of] + class_within
    n_classes = int(n_classes_in_group.sum())
    class_school = np.empty(n_classes, dtype=np.int64)
    class_school[class_id] = school
    return class_id, n_classes, class_school
