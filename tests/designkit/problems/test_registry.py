"""The problem table: one entry per problem, which the schema, the runner and the designer read."""

from __future__ import annotations

import dataclasses
import typing

import numpy as np
import pytest

from wavefab.designkit.config import RunConfig, config_from_dict, config_to_dict
from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.problems.registry import PROBLEMS, problem_kind
from wavefab.designkit.project.templates import TEMPLATES

pytestmark = pytest.mark.filterwarnings("ignore::wavefab.solver.ResolutionWarning")


def test_the_schema_takes_the_problems_and_their_sections_from_the_table():
    fields = [f.name for f in dataclasses.fields(RunConfig)]
    sections = [key for kind in PROBLEMS.values() for key, _ in kind.sections]
    assert fields == ["schema_version", "problem", "physics", *sections, "material", "training",
                      "fabrication", "acoustic", "nonlinearity", "limits"]
    hints = typing.get_type_hints(RunConfig)
    assert typing.get_args(hints["problem"]) == tuple(PROBLEMS)
    for kind in PROBLEMS.values():
        for key, section in kind.sections:
            assert hints[key] is section


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_each_sketch_draws_the_setup_the_problem_builds(name):
    kind = problem_kind(name)
    config = config_from_dict({"problem": name})
    sketch = kind.sketch_of(config)
    problem = kind.build_from(config)
    setup = problem.setup
    assert sketch.shape == tuple(setup.grid.shape) and sketch.h == setup.grid.h
    np.testing.assert_array_equal(sketch.region, setup.region.numpy())
    cells = [(int(c.rows[0]), int(c.cols[0]))
             for c in (p.cells(setup.grid) for p in (*setup.sources, *setup.probes))]
    assert [*sketch.sources, *sketch.probes] == cells
    assert sketch.probe_names == tuple(setup.probe_names)
    assert sketch.absorber == setup.boundary.width
    assert len(sketch.input_names) == len(problem.examples())


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_the_designer_keys_name_real_settings(name):
    kind = problem_kind(name)
    values = config_to_dict(config_from_dict({"problem": name}))
    assert kind.section in dict(kind.sections) and "shape" in kind.keys
    for key in kind.keys.values():
        node = values
        for part in key.split("."):
            node = node[part]
    for template, (_description, template_values) in kind.templates.items():
        assert template in TEMPLATES
        assert config_from_dict(template_values).problem == name
    if kind.data_section is not None:
        assert "folder" in values[kind.data_section]


def test_an_unknown_problem_names_the_known_ones():
    with pytest.raises(DesignValueError, match="choose one of vowels, lens, custom"):
        problem_kind("antenna")
