"""The grid: ``dt`` is a float once constructed; equality, hashing and ``replace`` keep working."""

from __future__ import annotations

import dataclasses
import math

import pytest

from wavefab.solver import Grid, SolverValueError


def test_dt_is_always_a_float():
    picked = Grid(shape=(10, 12), h=2.0, c_max=4.0)
    assert isinstance(picked.dt, float)
    assert math.isclose(picked.dt, 0.9 * math.sqrt(3 / 8) * 2.0 / 4.0)
    given = Grid(shape=(10, 12), h=1, dt=1)
    assert type(given.dt) is float and given.dt == 1.0 and type(given.h) is float


def test_positional_arguments_keep_their_order():
    assert Grid((10, 12), 1.0, 0.5, 2.0, "si") == Grid(shape=(10, 12), h=1.0, dt=0.5, c_max=2.0,
                                                       units="si")


def test_equal_grids_hash_alike():
    a, b = Grid(shape=[10, 12], h=1.0), Grid(shape=(10, 12), h=1.0)
    assert a == b and hash(a) == hash(b) and a.shape == (10, 12)
    assert repr(a) == f"Grid(shape=(10, 12), h=1.0, dt={a.dt!r}, c_max=1.0, units='normalized')"
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.dt = 0.1  # type: ignore[misc]


def test_replace_builds_a_checked_copy():
    grid = Grid(shape=(10, 12), h=1.0, dt=0.5)
    finer = dataclasses.replace(grid, shape=(20, 24), h=0.5)
    assert (finer.shape, finer.h, finer.dt) == ((20, 24), 0.5, 0.5)
    with pytest.raises(SolverValueError, match=r"Grid\.h must be a positive cell size"):
        dataclasses.replace(grid, h=-1.0)
