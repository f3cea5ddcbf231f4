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
"""

from __future__ import annotations

import zlib
from functools import lru_cache

import numpy as np

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


def _splitmix64_array(x: np.ndarray) -> np.ndarray:
    z = x + np.uint64(_GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_MIX2)
    return z ^ (z >> np.uint64(31))


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

    def generator(self, purpose: str, *keys: int) -> np.random.Generator:
        """A numpy generator for one purpose (and optional integer keys such as the day)."""
        return np.random.default_rng([self.seed, purpose_id(purpose), *(int(k) for k in keys)])

    def _day_key(self, purpose: str, day: int) -> int:
        key = self._day_keys.get((purpose, day))
        if key is None:
            key = _splitmix64(_splitmix64(self._seed_hash ^ purpose_id(purpose)) ^ (day & _MASK))
            self._day_keys[(purpose, day)] = key
        return key

    def uniform(self, purpose: str, day: int, student: int, slot: int = 0) -> float:
        """A keyed uniform draw in [0, 1) for one event: the same key always gives the same number."""
        h = _splitmix64(self._day_key(purpose, day) ^ (student & _MASK))
        h = _splitmix64(h ^ (slot & _MASK))
        return (h >> 11) * _TO_UNIT

    def uniforms(self, purpose: str, day: int, students: np.ndarray, slot: int | np.ndarray = 0) -> np.ndarray:
        """Vectorised :meth:`uniform` for many students on one day (identical numbers, element by element)."""
        h0 = self._day_key(purpose, day)
        with np.errstate(over="ignore"):
            h = _splitmix64_array(np.uint64(h0) ^ np.asarray(students, dtype=np.int64).astype(np.uint64))
            h = _splitmix64_array(h ^ np.asarray(slot, dtype=np.int64).astype(np.uint64))
        return (h >> np.uint64(11)).astype(np.float64) * _TO_UNIT
