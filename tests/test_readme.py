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


def _resolve(path: str) -> object:
    """The module or attribute a dotted ``wavefab.…`` path names."""
    import importlib

    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ModuleNotFoundError(path)


def test_every_python_path_the_readme_names_exists():
    # `wavefab.x.y` and `wavefab.x.y` (`a`, `b`, …): the module and the names listed after it
    named = re.findall(r"`(wavefab(?:\.\w+)+)`(?:\s*\(((?:`\w+`(?:,\s*)?)+)\))?", README)
    assert len(named) > 10, "README names fewer Python paths than it should"
    for path, names in named:
        target = _resolve(path)
        for name in re.findall(r"`(\w+)`", names or ""):
            assert hasattr(target, name), f"README: {path} has no {name}"
    for path in re.findall(r"^from (wavefab[\w.]*) import (.+)$", README, re.M):
        module = _resolve(path[0])
        for name in re.findall(r"\w+", path[1].split("#")[0]):
            assert hasattr(module, name), f"README: from {path[0]} import {name}"
