"""Package layout and the one-way import rule (app → designkit → solver)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_packages_import_under_wavefab():
    import wavefab.app
    import wavefab.designkit
    import wavefab.solver

    assert Path(wavefab.solver.__file__).parent == ROOT / "solver"
    assert Path(wavefab.designkit.__file__).parent == ROOT / "designkit"
    assert Path(wavefab.app.__file__).parent == ROOT / "app"


def test_import_contracts_hold():
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    out = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def _import_graph() -> dict[str, set[str]]:
    """wavefab's module → the wavefab modules it imports (lazy and TYPE_CHECKING ones too).

    A package's ``__init__`` importing its own submodules is left out: that is its face.
    """
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("wavefab.solver", "wavefab.designkit", "wavefab.app",
                              include_external_packages=False,
                              exclude_type_checking_imports=False)
    return {m: {t for t in graph.find_modules_directly_imported_by(m)
                if not t.startswith(m + ".")} for m in graph.modules}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_counting_lazy_imports():
    assert _cycles(_import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_package_folder_is_installed():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    folders = {config["package-dir"][f"wavefab.{top}"]: f"wavefab.{top}"
               for top in ("solver", "designkit", "app")}
    found = set()
    for folder, name in folders.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((name, *parts)))
    assert found == listed


def test_designkit_shows_its_pipeline():
    designkit = ROOT / "designkit"
    top = sorted(p.stem for p in designkit.glob("*.py") if p.stem != "__init__")
    assert len(top) <= 14, top
    stages = {"problems", "parametrization", "optimize", "fab", "export", "project"}
    assert stages <= {p.name for p in designkit.iterdir() if (p / "__init__.py").is_file()}
    import importlib

    for stage in sorted(stages):
        face = importlib.import_module(f"wavefab.designkit.{stage}")
        assert face.__doc__ and face.__all__, stage
        for name in face.__all__:
            getattr(face, name)  # every name the face lists resolves


def test_every_subcommand_is_a_module_with_add_parser_and_run():
    from wavefab.app import cli

    names = {m.__name__.rsplit(".", 1)[-1] for m in cli.COMMANDS}
    assert names == {"demo", "run", "sweep", "drc", "export", "verify", "scale", "gui"}
    for module in cli.COMMANDS:
        assert callable(module.add_parser) and callable(module.run), module.__name__
