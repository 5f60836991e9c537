"""No code path of wavefab can run code from a file: no pickle, no eval, no unsafe YAML.

Scanned from the syntax tree of every module (comments and strings do not count), so a new
``np.load(...)`` or ``torch.load(...)`` anywhere fails here and goes through the one door of its
format instead (``npzfile.read_npz``, ``yamlfile.read_yaml``). The behaviour of those doors on
pickled content is tested with them (``tests/designkit/test_design_door.py``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("solver", "designkit", "app", "bench")

#: module → attributes whose call can unpickle or execute what a file holds.
UNSAFE_CALLS = {
    "np": {"load", "loads", "fromfile"}, "numpy": {"load", "loads", "fromfile"},
    "pickle": {"load", "loads", "Unpickler"}, "cPickle": {"load", "loads"},
    "dill": {"load", "loads"}, "joblib": {"load"}, "marshal": {"load", "loads"},
    "shelve": {"open"}, "torch": {"load"},
    "yaml": {"load", "load_all", "unsafe_load", "full_load", "unsafe_load_all", "full_load_all"},
}
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "joblib", "marshal", "shelve",
                  "cloudpickle"}
UNSAFE_BUILTINS = {"eval", "exec", "__import__"}
#: The one place a ``.npy`` member is parsed, with ``allow_pickle=False`` (checked below).
NPY_DOOR = ROOT / "designkit" / "npzfile.py"


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            found += [f"{where}: import {a.name}" for a in node.names
                      if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in UNSAFE_MODULES:
                found.append(f"{where}: from {node.module} import ...")
            found += [f"{where}: from {node.module} import {a.name}" for a in node.names
                      if a.name in UNSAFE_CALLS.get(node.module.split(".")[0], ())]
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in UNSAFE_BUILTINS:
                found.append(f"{where}: {func.id}()")
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                    func.attr in UNSAFE_CALLS.get(func.value.id, ()):
                found.append(f"{where}: {func.value.id}.{func.attr}()")
            for keyword in node.keywords:
                if keyword.arg == "allow_pickle" and not (
                        isinstance(keyword.value, ast.Constant) and keyword.value.value is False):
                    found.append(f"{where}: allow_pickle other than False")
    return found


def test_the_scan_sees_what_it_forbids(tmp_path):
    """The scanner itself: each forbidden form is caught, the safe forms are not."""
    bad = tmp_path / "bad.py"
    bad.write_text("import pickle\nimport numpy as np\nfrom yaml import load\n"
                   "np.load('x.npy')\neval('1')\ntorch.load('m.pt')\n"
                   "np.lib.format.read_array(f, allow_pickle=True)\n")
    good = tmp_path / "good.py"
    good.write_text("import yaml\nyaml.safe_load('a: 1')\ndialog.exec()\n"
                    "np.lib.format.read_array(f, allow_pickle=False)\n# np.load(x)\n"
                    "'eval(1)'\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert len(_offences(bad)) == 6, _offences(bad)
        assert _offences(good) == []
    finally:
        ROOT = saved


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_can_run_code_from_a_file(path):
    assert _offences(path) == []


def test_npy_members_are_read_in_one_place_without_pickle():
    readers = [p for p in _modules() if "read_array" in p.read_text(encoding="utf-8")]
    assert readers == [NPY_DOOR]
    assert "allow_pickle=False" in NPY_DOOR.read_text(encoding="utf-8")
