"""README's promises: its solver example runs as printed, and its commands are the real ones."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_solver_example_runs_without_warnings():
    block = re.search(r"## The solver API\s+```python\n(.*?)```", README, re.S)
    assert block is not None, "README lost its solver example"
    namespace: dict = {}
    exec(compile(block.group(1), "README.md", "exec"), namespace)  # warnings are errors here
    out = namespace["out"]
    assert out.probes.shape == (9, 1000, 3)
    assert namespace["speed"].grad is not None and namespace["speed"].grad.abs().sum() > 0


def test_test_command_is_what_ci_runs():
    command = re.search(r"^(python -m pytest.*)$", README, re.M)
    assert command is not None
    assert command.group(1) in (ROOT / ".ci" / "run").read_text()
