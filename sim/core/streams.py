"""Common random numbers: one independent random stream per purpose.

Scenario comparisons are paired: with the same seed every policing model must see the same borough, the same
children and the same underlying behaviour, so that a difference between scenarios is the policy and not the dice.
Two devices give that:

* **Dense streams** (one draw per student per day, whatever the scenario does) come from a generator seeded by
  ``(seed, purpose, day)``; every scenario consumes exactly the same numbers from it.
* **Keyed draws** for sparse events (does this teacher notice *this* incident, does this officer record it) are a
  counter-based hash of ``(seed, purpose, day, student, location)``. An extra draw in one scenario cannot shift a draw
  in another, because no draw depends on how many came before it.

Purposes are names; they are turned into integers with CRC-32, which is stable across processes (Python's own
``hash`` of a string is not).

A dense stream's generator is ``np.random.default_rng([seed, purpose id, *keys])``. Making one costs more than
drawing a day's numbers from it would suggest (numpy's ``SeedSequence`` hashing, ~10-30 us), and the day loop makes
several a day, so when a purpose is asked for day after day the seed hashing of the next days is done ahead, for
many days in one vectorised pass (:func:`seed_states`): the generators are the same, bit for bit.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from numpy.random.bit_generator import ISpawnableSeedSequence

if TYPE_CHECKING:
    from numpy.random.bit_generator import _DTypeLikeUint_  # what SeedSequence.generate_state takes (stubs only)

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_TO_UNIT = 2.0**-53


@lru_cache(maxsize=1024)
def purpose_id(purpose: str) -> int:
    """Stable integer id of a named random-stream purpose."""
    return zlib.crc32(purpose.encode("utf-8"))


def _splitmix64(x: int) -> int:
    z = (x + _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * _MIX1) & _MASK
    z = ((z ^ (z >> 27)) * _MIX2) & _MASK
    return z ^ (z >> 31)


_GOLDEN_U64 = np.uint64(_GOLDEN)
_MIX1_U64 = np.uint64(_MIX1)
_MIX2_U64 = np.uint64(_MIX2)
_U64 = {k: np.uint64(k) for k in (11, 27, 30, 31)}


def _splitmix64_array(x: np.ndarray) -> np.ndarray:
    """:func:`_splitmix64` of every element of a uint64 array (modified in place and returned)."""
    x += _GOLDEN_U64
    x ^= x >> _U64[30]
    x *= _MIX1_U64
    x ^= x >> _U64[27]
    x *= _MIX2_U64
    x ^= x >> _U64[31]
    return x


# numpy's SeedSequence constants (numpy/random/bit_generator.pyx; the algorithm is part of numpy's stability promise)
_INIT_A = 0x43B0D7E5
_MULT_A = 0x931E8875
_INIT_B = 0x8B51F9DD
_MULT_B = 0x58F38DED
_MIX_MULT_L = np.uint32(0xCA01F9DD)
_MIX_MULT_R = np.uint32(0x4973F715)
_XSHIFT = np.uint32(16)
_MASK32 = 0xFFFFFFFF
_POOL_SIZE = 4
_PREPARE_AHEAD = 256  # days of generator seeds hashed at once (the cost hardly depends on how many)
_FEW = 16  # below this many keyed draws in one call, hashing in Python beats numpy's per-call cost


def seed_states(entropy: np.ndarray) -> np.ndarray:
    """``SeedSequence(row).generate_state(4, np.uint64)`` (the seed of a PCG64) for every row of entropy words.

    Args:
        entropy: (rows, words) of uint32 words, as ``SeedSequence`` assembles them from a list of integers.

    Returns:
        (rows, 4) uint64: exactly what numpy's ``SeedSequence`` gives, computed for all rows at once.
    """
    entropy = np.asarray(entropy, dtype=np.uint32)
    rows, words = entropy.shape
    hash_const = _INIT_A

    def hashmix(value: np.ndarray) -> np.ndarray:
        nonlocal hash_const
        value = value ^ np.uint32(hash_const)
        hash_const = (hash_const * _MULT_A) & _MASK32
        value *= np.uint32(hash_const)
        value ^= value >> _XSHIFT
        return value

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        result: np.ndarray = _MIX_MULT_L * x - _MIX_MULT_R * y
        result ^= result >> _XSHIFT
        return result

    zeros = np.zeros(rows, dtype=np.uint32)
    pool = [hashmix(entropy[:, i] if i < words else zeros) for i in range(_POOL_SIZE)]
    for src in range(_POOL_SIZE):
        for dst in range(_POOL_SIZE):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    for src in range(_POOL_SIZE, words):
        for dst in range(_POOL_SIZE):
            pool[dst] = mix(pool[dst], hashmix(entropy[:, src]))
    hash_const = _INIT_B
    out = np.empty((rows, 8), dtype=np.uint32)
    for i in range(8):
        value = pool[i % _POOL_SIZE] ^ np.uint32(hash_const)
        hash_const = (hash_const * _MULT_B) & _MASK32
        value *= np.uint32(hash_const)
        value ^= value >> _XSHIFT
        out[:, i] = value
    return out.astype("<u4").view("<u8").astype(np.uint64)


def _words(n: int) -> list[int]:
    """An integer as SeedSequence's little-endian 32-bit words (0 is one word)."""
    words = [n & _MASK32]
    n >>= 32
    while n:
        words.append(n & _MASK32)
        n >>= 32
    return words


class _PreparedSeed(ISpawnableSeedSequence):
    """The SeedSequence of one generator, with the PCG64 seed already computed; the rest is the real one's."""

    __slots__ = ("_key", "_real", "_state")

    def __init__(self, key: list, state: np.ndarray) -> None:
        self._key = key  # [seed, purpose name, *keys]: the entropy, once the purpose is made a number
        self._state = state
        self._real: np.random.SeedSequence | None = None

    @property
    def real(self) -> np.random.SeedSequence:
        """The equivalent numpy SeedSequence (made on demand)."""
        if self._real is None:
            seed, purpose, *keys = self._key
            self._real = np.random.SeedSequence([seed, purpose_id(purpose), *(int(k) for k in keys)])
        return self._real

    def generate_state(self, n_words: int, dtype: _DTypeLikeUint_ = np.uint32) -> np.ndarray:
        """As ``SeedSequence.generate_state``."""
        if n_words == 4 and dtype is np.uint64:
            return self._state
        return self.real.generate_state(n_words, dtype)

    # numpy's stubs want list[Self]; the children are plain SeedSequences, as the real one's are
    def spawn(self, n_children: int) -> list[np.random.SeedSequence]:  # type: ignore[override]
        """As ``SeedSequence.spawn``."""
        return self.real.spawn(n_children)


class RandomStreams:
    """Named, independent random streams derived from one seed.

    Args:
        seed: the run's seed (a non-negative integer).
    """

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        self.seed = int(seed)
        self._seed_hash = _splitmix64(self.seed)
        self._day_keys: dict[tuple[str, int], int] = {}
        self._seed_words = _words(self.seed)
        self._prepared: dict[tuple, np.ndarray] = {}  # (purpose, *keys) -> PCG64 seed, hashed ahead
        self._last_first_key: dict[tuple, int] = {}  # (purpose, *keys[1:]) -> the last keys[0] asked for

    def generator(self, purpose: str, *keys: int) -> np.random.Generator:
        """A numpy generator for one purpose (and optional integer keys such as the day).

        The same as ``np.random.default_rng([seed, purpose_id(purpose), *keys])``.
        """
        state = self._prepared.pop((purpose, *keys), None)  # numpy integers hash and compare like Python ones
        if state is not None:  # the usual case, kept short: it runs several times a day
            return np.random.Generator(np.random.PCG64(_PreparedSeed([self.seed, purpose, *keys], state)))  # type: ignore[arg-type]
        keys = tuple(int(k) for k in keys)
        if keys and 0 <= keys[0] < _MASK32 - _PREPARE_AHEAD:
            rest = (purpose, *keys[1:])
            if self._last_first_key.get(rest) == keys[0] - 1:  # asked for day after day: hash the next days now
                self._prepare(purpose, keys)
                state = self._prepared.pop((purpose, *keys), None)
            self._last_first_key[rest] = keys[0]
        if state is None:
            return np.random.default_rng([self.seed, purpose_id(purpose), *keys])
        return np.random.Generator(np.random.PCG64(_PreparedSeed([self.seed, purpose, *keys], state)))  # type: ignore[arg-type]

    def prepare(self, purpose: str, keys: Sequence[Sequence[int]] | np.ndarray) -> None:
        """Hash ahead, in one pass, the seeds of ``generator(purpose, *row)`` for every row of ``keys``.

        For a model that knows in advance which generators it will ask for; they are the same generators.
        """
        keys = np.asarray(keys, dtype=np.int64)
        if keys.size == 0:
            return
        keys = keys.reshape(len(keys), -1)
        if keys.min() < 0 or keys.max() > _MASK32:
            return  # keys of more than one word, or refused by numpy: made one at a time
        n_seed = len(self._seed_words)
        entropy = np.empty((len(keys), n_seed + 1 + keys.shape[1]), dtype=np.uint32)
        entropy[:, :n_seed] = self._seed_words
        entropy[:, n_seed] = purpose_id(purpose)
        entropy[:, n_seed + 1 :] = keys
        for row, state in zip(keys.tolist(), seed_states(entropy), strict=True):
            self._prepared[(purpose, *row)] = state

    def _prepare(self, purpose: str, keys: tuple[int, ...]) -> None:
        """Hash ahead the generator seeds of ``keys[0]`` and the next days (the other keys the same)."""
        block = np.empty((_PREPARE_AHEAD, len(keys)), dtype=np.int64)
        block[:, 0] = np.arange(keys[0], keys[0] + _PREPARE_AHEAD)
        block[:, 1:] = keys[1:]
        self.prepare(purpose, block)

    def _day_key(self, purpose: str, day: int) -> int:
        key = self._day_keys.get((purpose, day))
        if key is None:
            key = _splitmix64(_splitmix64(self._seed_hash ^ purpose_id(purpose)) ^ (day & _MASK))
            self._day_keys[(purpose, day)] = key
        return key

    def uniform(self, purpose: str, day: int, student: int, slot: int = 0) -> float:
        """A keyed uniform draw in [0, 1) for one event: the same key always gives the same number.

        ``splitmix64(splitmix64(day key ^ student) ^ slot)``, top 53 bits: the scalar form of :meth:`uniforms`.
        """
        key = self._day_keys.get((purpose, day))
        if key is None:
            key = self._day_key(purpose, day)
        return (_splitmix64(_splitmix64(key ^ (student & _MASK)) ^ (slot & _MASK)) >> 11) * _TO_UNIT

    def uniforms(self, purpose: str, day: int, students: np.ndarray, slot: int | np.ndarray = 0) -> np.ndarray:
        """Vectorised :meth:`uniform` for many students on one day (identical numbers, element by element)."""
        students = np.asarray(students, dtype=np.int64)
        if students.ndim == 0:  # numpy scalars warn on overflow, which is intended here
            with np.errstate(over="ignore"):
                return self.uniforms(purpose, day, students.reshape(1), slot)[0]
        if len(students) <= _FEW and isinstance(slot, int | np.integer):  # numpy's per-call cost would dominate
            return np.array([self.uniform(purpose, day, s, int(slot)) for s in students.tolist()], dtype=np.float64)
        h = students.astype(np.uint64)  # a copy, hashed in place
        h ^= np.uint64(self._day_key(purpose, day))
        return self._finish(h, slot)

    def uniforms_for(
        self, purposes: Sequence[str], day: int, students: np.ndarray, slot: int | np.ndarray = 0
    ) -> np.ndarray:
        """:meth:`uniforms` for several purposes at once: row ``i`` is ``uniforms(purposes[i], day, students, slot)``.

        One pass over a (purposes x students) array costs about what one purpose costs for a few students.
        """
        students = np.asarray(students, dtype=np.int64).reshape(-1)
        if len(students) * len(purposes) <= _FEW and isinstance(slot, int | np.integer):
            ids = students.tolist()
            return np.array([[self.uniform(p, day, s, int(slot)) for s in ids] for p in purposes], dtype=np.float64)
        students = students.astype(np.uint64)
        keys = np.array([self._day_key(p, day) for p in purposes], dtype=np.uint64)
        h = keys[:, None] ^ students[None, :]
        return self._finish(h, slot)

    @staticmethod
    def _finish(h: np.ndarray, slot: int | np.ndarray) -> np.ndarray:
        """From ``day key ^ student`` to uniforms: ``splitmix64(splitmix64(h) ^ slot)``, top 53 bits (in place)."""
        _splitmix64_array(h)
        if isinstance(slot, int | np.integer):
            h ^= np.uint64(int(slot) & _MASK)
        else:
            h ^= np.asarray(slot, dtype=np.int64).astype(np.uint64)
        _splitmix64_array(h)
        h >>= _U64[11]
        out = h.astype(np.float64)
        out *= _TO_UNIT
        return out
