"""The README's benchmark table is what ``bench/table.py`` renders from bench/solver.py output."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _table_module():
    spec = importlib.util.spec_from_file_location("bench_table", ROOT / "bench" / "table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RECORDS = [
    {"benchmark": "wavefab.solver", "torch": "2.13.0", "numba": "0.62", "OMP_WAIT_POLICY": None},
    {"measure": "p1-damping-numba-fwd", "seconds": 0.06, "cell_updates_per_s": 2.94e9,
     "peak_rss_mib": 358.0, "loadavg_1min": 1.2},
    {"measure": "p1-damping-naive-fwd", "seconds": 0.42, "cell_updates_per_s": 4.2e8,
     "peak_rss_mib": 290.0, "loadavg_1min": 1.1},
    {"measure": "p1-pml-numba-fb-ckptauto", "seconds": 0.82, "cell_updates_per_s": 2.1e8,
     "peak_rss_mib": 2048.0, "loadavg_1min": 1.4},
    {"measure": "p1-pml-deepwave-fb", "error": "timed out"},
]


def test_the_table_puts_each_row_beside_its_reference():
    table = _table_module().render(RECORDS, commit="abc1234", machine="a CPU", date="2026-12-04")
    assert "commit `abc1234` on a CPU" in table and "load average 1.1–1.4" in table
    rows = [line for line in table.splitlines() if line.startswith("| P1")]
    assert rows[0].startswith("| P1 140², batch 9, 1000 steps, damping layer: forward | 2.9e+09")
    assert "naive autograd | 4.2e+08 | 290 MiB | 7.0× |" in rows[0]
    assert rows[1] == ("| P1 CPML: forward + backward | 2.1e+08 (0.82 s) | 2.0 GiB | "
                       "deepwave (timed out) | — | — | — |")
    assert len(rows) == 2  # measurements that are missing are left out


def test_write_replaces_only_the_marked_section(tmp_path):
    table = _table_module()
    text = f"intro\n{table.START}\nold table\n{table.END}\noutro\n"
    new = table.replace_table(text, "NEW")
    assert new == f"intro\n{table.START}\nNEW\n{table.END}\noutro\n"
    with pytest.raises(SystemExit, match="no"):
        table.replace_table("no markers", "NEW")


def test_the_readme_has_the_section():
    table = _table_module()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(table.START) == 1 and text.count(table.END) == 1
    section = text.split(table.START, 1)[1].split(table.END, 1)[0]
    assert "Regenerate: `python bench/table.py --write README.md`" in section
