"""Keyed random draws and named streams (sim.core.streams)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from scipy import stats

from sim.core.streams import RandomStreams, purpose_id


@pytest.mark.parametrize("seed", [0, 1, 2**40 + 7])
@pytest.mark.parametrize("purpose", ["record", "staff_notice", "cj_appropriate"])
def test_vector_uniforms_equal_scalar_uniform_element_by_element(seed, purpose):
    streams = RandomStreams(seed)
    students = np.array([0, 1, 2, 17, 999, 123_456, 2**31 + 5, 2**40 + 3, *range(5000, 5100, 7)], dtype=np.int64)
    for day in (0, 1, 189, 3649):
        for slot in (0, 1, 3):
            scalar = np.array([streams.uniform(purpose, day, int(s), slot) for s in students])
            for n in (1, 3, 8, len(students)):  # few students are hashed in Python, many with numpy
                np.testing.assert_array_equal(streams.uniforms(purpose, day, students[:n], slot), scalar[:n])
            for purposes in ((purpose,), (purpose, "other")):
                rows = streams.uniforms_for(purposes, day, students, slot)
                np.testing.assert_array_equal(rows[0], scalar)
                np.testing.assert_array_equal(streams.uniforms_for(purposes, day, students[:3], slot), rows[:, :3])


def test_vector_uniforms_accept_a_slot_per_student():
    streams = RandomStreams(5)
    students = np.arange(50)
    slots = np.arange(50) % 4
    vec = streams.uniforms("stop_find", 12, students, slots)
    scalar = [streams.uniform("stop_find", 12, int(s), int(k)) for s, k in zip(students, slots, strict=True)]
    np.testing.assert_array_equal(vec, np.array(scalar))


def test_keyed_draw_is_a_pure_function_of_its_key():
    a, b = RandomStreams(3), RandomStreams(3)
    # Draw in a different order and with unrelated draws in between: the numbers must not change.
    first = a.uniform("record", 4, 10, 1)
    a.uniforms("other", 4, np.arange(1000))
    b.uniforms("record", 9, np.arange(1000))
    assert a.uniform("record", 4, 10, 1) == first == b.uniform("record", 4, 10, 1)


def test_every_part_of_the_key_changes_the_draw():
    s = RandomStreams(11)
    base = s.uniform("record", 5, 100, 0)
    assert s.uniform("notice", 5, 100, 0) != base
    assert s.uniform("record", 6, 100, 0) != base
    assert s.uniform("record", 5, 101, 0) != base
    assert s.uniform("record", 5, 100, 1) != base
    assert RandomStreams(12).uniform("record", 5, 100, 0) != base


def test_different_purposes_and_seeds_give_unrelated_numbers():
    students = np.arange(10_000)
    a = RandomStreams(0).uniforms("record", 3, students)
    b = RandomStreams(0).uniforms("staff_notice", 3, students)
    c = RandomStreams(1).uniforms("record", 3, students)
    d = RandomStreams(0).uniforms("record", 4, students)
    for other in (b, c, d):
        assert np.mean(a == other) < 0.001
        assert abs(np.corrcoef(a, other)[0, 1]) < 0.05


@pytest.mark.parametrize("seed", [0, 99])
def test_keyed_uniforms_lie_in_unit_interval_and_look_uniform(seed):
    u = RandomStreams(seed).uniforms("incident", 7, np.arange(10_000))
    assert u.dtype == np.float64
    assert u.min() >= 0.0
    assert u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01  # sd of the mean is 0.0029
    assert abs(u.var() - 1 / 12) < 0.005
    assert stats.kstest(u, "uniform").pvalue > 1e-4
    # Consecutive student ids must not be correlated (a weak hash would leak the counter).
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.05
    # The same for draws across days for one student.
    s = RandomStreams(seed)
    by_day = np.array([s.uniform("incident", day, 42) for day in range(2000)])
    assert abs(by_day.mean() - 0.5) < 0.03


def test_generators_are_reproducible_and_keyed():
    s = RandomStreams(8)
    np.testing.assert_array_equal(s.generator("students").random(5), RandomStreams(8).generator("students").random(5))
    assert not np.array_equal(s.generator("drift", 1).random(5), s.generator("drift", 2).random(5))
    assert not np.array_equal(s.generator("drift", 1).random(5), s.generator("noise", 1).random(5))
    assert not np.array_equal(s.generator("drift", 1).random(5), RandomStreams(9).generator("drift", 1).random(5))


def test_purpose_ids_are_crc32_not_pythons_salted_hash():
    assert purpose_id("record") == zlib.crc32(b"record")
    assert purpose_id("record") != purpose_id("recorD")


def test_negative_seed_is_refused():
    with pytest.raises(ValueError, match="seed"):
        RandomStreams(-1)


@pytest.mark.parametrize("seed", [0, 7, 2**40 + 3])
def test_generators_are_numpys_default_rng_of_the_key_also_when_prepared_ahead(seed):
    # Day after day, the generators' seeds are hashed ahead in one vectorised pass: the numbers must not change.
    s = RandomStreams(seed)
    for day in [*range(0, 140), 500, 3, 141]:
        for keys in ((day,), (day, 1), (day, 4, 2)):
            ours = s.generator("propensity_drift", *keys).random(3)
            numpys = np.random.default_rng([seed, purpose_id("propensity_drift"), *keys]).random(3)
            np.testing.assert_array_equal(ours, numpys)
    # a generator made from a prepared seed still spawns like numpy's
    s.generator("x", 0)
    prepared = s.generator("x", 1)
    assert type(prepared.bit_generator.seed_seq).__name__ == "_PreparedSeed"
    child = prepared.spawn(1)[0].random(2)
    np.testing.assert_array_equal(child, np.random.default_rng([seed, purpose_id("x"), 1]).spawn(1)[0].random(2))


def test_seed_states_equal_numpys_seed_sequence():
    from sim.core.streams import seed_states

    rng = np.random.default_rng(0)
    for words in (1, 3, 4, 6):
        entropy = rng.integers(0, 2**32, size=(50, words), dtype=np.uint64).astype(np.uint32)
        expected = [np.random.SeedSequence([int(w) for w in row]).generate_state(4, np.uint64) for row in entropy]
        np.testing.assert_array_equal(seed_states(entropy), np.array(expected))
