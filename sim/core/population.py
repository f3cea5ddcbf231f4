"""Students as arrays: who they are and the latent state that changes every school day.

The dense daily update of tens of thousands of students is array code held by the model; the rules that act on
one student at a time (a crime record's labelling effect, a youth-work case) are methods of
:class:`sim.core.agents.Student` and the other agents, which read these arrays and change them through this
class's methods: the arrays are read-only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.core.borough import PRIMARY, SECONDARY, Borough
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
        school_year: the school years started before the current one (0 in the first).
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

    An element (a *slot*) is a place at one school: ``school`` and ``phase`` never change, and the students are
    stored school by school. Between school years (:meth:`plan_school_year`, :meth:`start_school_year`) the child in
    a slot may change: a leaver's slot takes a new child, a Year 6 child moves to a secondary school's slot; the
    year group, class, home ward, route and state follow.
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

        self.home_ward, self.over_policed, self._base_log_propensity, log_need = _draw_children(
            rng, self.school, borough, borough_cfg, cfg
        )
        self.route = borough.route_index(self.home_ward, self.school)
        n_over = int(self.over_policed.sum())
        self.students_by_group = (n - n_over, n_over)  # (not from an over-policed community, from one)
        self.log_max_propensity = math.log(cfg.max_propensity)
        self._log_propensity = self._base_log_propensity.copy()
        self._log_need = log_need
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

        self._borough, self._borough_cfg = borough, borough_cfg  # for the intake of each new school year
        self._sections: dict[int, np.ndarray] | None = None  # each (school, year group)'s classes: see _reassign
        self.school_year = 0  # school years started before this one (0: the first)
        self._school_bounds = np.searchsorted(self.school, np.arange(borough.n_schools + 1))
        self._index_groups()

    def _index_groups(self) -> None:
        """Index the students by route and by class (made again when they change, at a new school year)."""
        n_routes = self._borough.n_routes
        small = n_routes < 2**15  # then a stable sort of int16 keys is a radix sort, five times faster
        order = np.argsort(self.route.astype(np.int16) if small else self.route, kind="stable")
        bounds = np.searchsorted(self.route[order], np.arange(n_routes + 1))
        self._by_route = (order, bounds)
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

    # --- a new school year -----------------------------------------------------------------------------------------
    def plan_school_year(self, streams: RandomStreams) -> SchoolYearChange:
        """Who leaves, who moves school and which slots take a new child at the coming school year (nothing changes).

        Year 6 (the last primary year) leave their primary school: each takes a Year 7 place at a secondary school
        whose catchment includes their home ward (the nearest with a place free; children are served in an order
        drawn by lottery, stream ``secondary_transfer``), or leaves the borough when none has a place. Year 11 (the
        last secondary year) leave the borough. A slot keeps its school: each leaver's slot is a Year 7 place
        (secondary) or a Reception place (primary). The model applies the plan with :meth:`start_school_year`
        after moving what it keeps per student (ledger counters, support cases, agents).
        """
        cfg = self.cfg
        year = self.school_year + 1
        primary = self.phase == PRIMARY
        last = np.where(primary, self.year_group == cfg.primary_years - 1, self.year_group == cfg.secondary_years - 1)
        leaving_primary = np.flatnonzero(last & primary)
        places = np.flatnonzero(last & ~primary)
        lottery, tie = streams.uniforms_for(("secondary_transfer", "secondary_transfer_tie"), year, leaving_primary)
        which, target = place_in_secondary(self.home_ward[leaving_primary], places, self.school, self._borough,
                                           lottery, tie)  # fmt: skip
        source = leaving_primary[which]
        fresh = last.copy()
        fresh[target] = False  # every other leaver's slot takes a new child
        left = last.copy()
        left[source] = False  # every other leaver leaves the borough
        return SchoolYearChange(year, last, source, target, np.flatnonzero(fresh), np.flatnonzero(left))

    def start_school_year(self, change: SchoolYearChange, streams: RandomStreams) -> None:
        """Apply a :meth:`plan_school_year`: move up, move school, take in new children, re-form the classes.

        A child who moves school takes their state with them (home ward, community, propensity, need, engagement,
        open support cases); their route is the one from their home ward to the new school. A new child is drawn
        like the initial population, from the stream ``intake`` keyed by the school year (the same in every
        scenario). Then every (school, year group) is split evenly across its classes (:meth:`_reassign_classes`).
        """
        if self._sections is None:  # each (school, year group)'s classes, as formed at the start
            self._sections = _sections_of(self._group_key(), self.class_id)
        source, target, fresh = change.moved_from, change.moved_to, change.fresh
        state = (self._base_log_propensity, self._log_propensity, self._log_need, self._engagement)
        cases = (self._youth_work_until, self._mental_health_until)
        for values in (self.home_ward, self.over_policed, *state, *cases):
            values[target] = values[source]
        home_ward, over_policed, base, log_need = _draw_children(
            streams.generator("intake", change.year), self.school, self._borough, self._borough_cfg, self.cfg
        )
        self.home_ward[fresh] = home_ward[fresh]
        self.over_policed[fresh] = over_policed[fresh]
        self._base_log_propensity[fresh] = base[fresh]
        self._log_propensity[fresh] = base[fresh]
        self._log_need[fresh] = log_need[fresh]
        self._engagement[fresh] = 1.0
        self._youth_work_until[fresh] = -1
        self._mental_health_until[fresh] = -1
        changed = np.concatenate((target, fresh))
        self.route[changed] = self._borough.route_index(self.home_ward[changed], self.school[changed])
        self._need.flags.writeable = True
        self._need[changed] = np.exp(self._log_need[changed])
        self._need.flags.writeable = False
        self.year_group[:] = np.where(change.last_year, 0, self.year_group + 1)
        self.school_year = change.year
        # the short lists, made again from the state (a moved child's entry follows them; new children have none)
        self._disengaged = StudentSet(np.flatnonzero(self._engagement < 1.0))
        self._in_youth_work = StudentSet(np.flatnonzero(self._youth_work_until >= 0))
        self._in_mental_health = StudentSet(np.flatnonzero(self._mental_health_until >= 0))
        n_over = int(self.over_policed.sum())
        self.students_by_group = (self.n - n_over, n_over)
        self._reassign_classes()
        self._index_groups()

    def _group_key(self) -> np.ndarray:
        """Each student's (school, year group), as one integer: school x 64 + year group."""
        return self.school.astype(np.int64) * 64 + self.year_group

    def _reassign_classes(self) -> None:
        """Split each (school, year group) evenly across its classes: those it had at the start (the sections).

        A class is a section of a year group in a school, so its teacher stays with that year group; the children
        in it change each school year. A (school, year group) that had no pupils at the start gets new classes
        (ceil(pupils / class size)); ``n_classes`` and ``class_school`` grow, and the model makes their teachers.
        """
        assert self._sections is not None
        key = self._group_key()
        n = self.n
        order = np.lexsort((np.arange(n), key))
        sorted_key = key[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
        sizes = np.diff(np.r_[starts, n])
        flat: list[np.ndarray] = []
        first, count = np.zeros(len(starts), dtype=np.int64), np.zeros(len(starts), dtype=np.int64)
        position = 0
        new_schools: list[int] = []
        for g, (group, size) in enumerate(zip(sorted_key[starts].tolist(), sizes.tolist(), strict=True)):
            sections = self._sections.get(group)
            if sections is None:
                school = group // 64
                class_size = (
                    self._borough_cfg.class_size_primary
                    if self._borough.school_phase[school] == PRIMARY
                    else self._borough_cfg.class_size_secondary
                )
                m = max(1, math.ceil(size / class_size))
                sections = self._sections[group] = np.arange(self.n_classes, self.n_classes + m)
                self.n_classes += m
                new_schools += [school] * m
            flat.append(sections)
            first[g], count[g] = position, len(sections)
            position += len(sections)
        if new_schools:
            self.class_school = np.concatenate((self.class_school, np.array(new_schools, dtype=np.int64)))
        group_of = np.repeat(np.arange(len(starts)), sizes)
        rank = np.arange(n) - np.repeat(starts, sizes)
        self.class_id[order] = np.concatenate(flat)[first[group_of] + rank * count[group_of] // sizes[group_of]]

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

    def __init__(self, members: np.ndarray | None = None) -> None:
        self._members: set[int] = set()
        self._array = np.zeros(0, dtype=np.int64)
        self._new: list[int] = []
        if members is not None:
            self.add(members)

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


@dataclass(frozen=True)
class SchoolYearChange:
    """The move between two school years, by slot (see :meth:`StudentPopulation.plan_school_year`).

    Attributes:
        year: the school year starting (1: the second of the run).
        last_year: bool per slot, the child is in the last year group of their school (Year 6 or Year 11).
        moved_from, moved_to: Year 6 children who take a Year 7 place in the borough: their primary slot and the
            secondary slot (a Year 11 leaver's) they move to, pairwise.
        fresh: the slots that take a new child (every Year 6 slot; every Year 11 slot no Year 6 child took).
        left: the slots whose child leaves the borough (Year 11, and Year 6 children with no place).
    """

    year: int
    last_year: np.ndarray
    moved_from: np.ndarray
    moved_to: np.ndarray
    fresh: np.ndarray
    left: np.ndarray


def _draw_children(
    rng: np.random.Generator, schools: np.ndarray, borough: Borough, borough_cfg: BoroughConfig, cfg: StudentsConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw a child for each school given: home ward, over-policed community, baseline log-propensity, log-need.

    The initial population and each school year's new children are drawn by this one function (docs/ODD.md §5).
    """
    n = len(schools)
    k = borough.catchment.shape[1]
    own_weight = 0.5 if k > 1 else 1.0
    weights = np.array([own_weight] + [(1 - own_weight) / (k - 1)] * (k - 1)) if k > 1 else np.array([1.0])
    slot = rng.choice(k, size=n, p=weights)
    home_ward = borough.catchment[schools, slot]
    p_op = np.where(
        borough.ward_over_policed[home_ward],
        borough_cfg.over_policed_student_share_in_over_policed_wards,
        borough_cfg.over_policed_student_share_elsewhere,
    )
    over_policed = rng.random(n) < p_op
    s = cfg.propensity_sigma
    base = rng.normal(-(s**2) / 2, s, size=n) + np.where(over_policed, np.log(cfg.over_policed_propensity_ratio), 0.0)
    np.minimum(base, math.log(cfg.max_propensity), out=base)
    s = cfg.need_sigma
    log_need = rng.normal(-(s**2) / 2, s, size=n)
    return home_ward, over_policed, base, log_need


def place_in_secondary(
    home_ward: np.ndarray,
    places: np.ndarray,
    school: np.ndarray,
    borough: Borough,
    lottery: np.ndarray,
    tie: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Give children leaving primary school a Year 7 place at a secondary school in their area.

    A school's area is its catchment (its own ward and its neighbours), the wards its routes come from. Children
    are served in the order of ``lottery`` (one uniform each); each takes a free place at the nearest school
    whose catchment includes their home ward (nearest: the home ward's position in the school's catchment, own
    ward first), ties broken by ``tie``. A child for whom no such school has a place left gets none (they leave
    the borough).

    Args:
        home_ward: each child's home ward.
        places: the slots that are Year 7 places (ascending); a school's places are taken in this order.
        school: each slot's school.
        borough: the borough (catchments, phases).
        lottery: one uniform per child: the order children are served in.
        tie: one uniform per child: which of the nearest schools with a place, when several are as near.

    Returns:
        The indices (into ``home_ward``) of the children given a place, and the place (slot) each takes.
    """
    options: list[list[tuple[int, int]]] = [[] for _ in range(borough.n_wards)]
    for s in np.flatnonzero(borough.school_phase == SECONDARY).tolist():
        for position, ward in enumerate(borough.catchment[s].tolist()):
            options[ward].append((position, s))
    for choices in options:
        choices.sort()
    free: dict[int, list[int]] = {}
    for slot, s in zip(places.tolist(), school[places].tolist(), strict=True):
        free.setdefault(s, []).append(slot)
    for slots in free.values():
        slots.reverse()  # taken from the end: the lowest slot first
    children: list[int] = []
    taken: list[int] = []
    wards = home_ward.tolist()
    ties = tie.tolist()
    for child in np.argsort(lottery, kind="stable").tolist():
        nearest: list[int] = []
        best = -1
        for position, s in options[wards[child]]:
            if best >= 0 and position > best:
                break
            if free.get(s):
                best = position
                nearest.append(s)
        if not nearest:
            continue
        s = nearest[int(ties[child] * len(nearest))]
        children.append(child)
        taken.append(free[s].pop())
    order = np.argsort(children, kind="stable")
    return np.array(children, dtype=np.int64)[order], np.array(taken, dtype=np.int64)[order]


def _sections_of(key: np.ndarray, class_id: np.ndarray) -> dict[int, np.ndarray]:
    """Each (school, year group) key's classes (ascending), from the students' keys and classes."""
    width = int(class_id.max()) + 1 if len(class_id) else 1
    pairs = np.unique(key * width + class_id)  # each (key, class) once, by key then class: one integer sort
    keys, classes = np.divmod(pairs, width)
    starts = np.r_[0, np.flatnonzero(np.diff(keys)) + 1]
    return {int(k): c for k, c in zip(keys[starts].tolist(), np.split(classes, starts[1:]), strict=True)}
