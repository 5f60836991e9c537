"""``wavefab sweep``: real tiny lens points through the CLI, the local pool, Dask and Optuna.

Every point here is a 60×60 lens trained for a few L-BFGS epochs (a few seconds each). The
module starts by running one point in this process, so that the numba kernels are cached on
disk before any worker starts: a kernel compiled cold gives float32 figures ~1e-6 apart from
the cached one, and the comparisons below are exact.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from wavefab.app.cli import main

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::wavefab.solver.errors.ResolutionWarning")]


GRID = """\
base: base.yaml
grid:
  material.c1: [0.5, 0.6]
  training.initial_density: [0.4, 0.5]
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, tiny_lens_text: str) -> Path:
    """A folder with the base configuration, its kernels warmed up in this process."""
    from wavefab.designkit.config import load_config
    from wavefab.designkit.run import run

    folder = tmp_path_factory.mktemp("sweep_files")
    _write(folder, "base.yaml", tiny_lens_text)
    for _ in run(load_config(folder / "base.yaml", ["training.epochs=1"]), folder / "warm"):
        pass
    return folder


@pytest.fixture(scope="module")
def grid(files: Path) -> Path:
    """The 4-point grid run by ``wavefab sweep`` on the local pool (2 workers)."""
    out = files / "grid_out"
    assert main(["sweep", str(_write(files, "grid.yaml", GRID)), "--out", str(out),
                 "--workers", "2"]) == 0
    return out


def _state(out: Path) -> dict:
    return json.loads((out / "sweep.json").read_text())


def _metrics(out: Path) -> dict[str, dict]:
    return {p["id"]: p["metrics"] for p in _state(out)["points"]}


def test_a_grid_sweep_writes_every_point_and_a_ranked_summary(grid: Path, files: Path):
    from wavefab.designkit.sweep import load_sweep

    state = _state(grid)
    assert state["metric"] == "binary_focus_gain" and state["direction"] == "maximize"
    assert state["swept_keys"] == ["material.c1", "training.initial_density"]
    points = state["points"]
    assert [p["status"] for p in points] == ["done"] * 4
    # the same point always lands in the same folder: ids are the resolved configurations'
    assert [p["id"] for p in points] == [p.id for p in load_sweep(files / "grid.yaml").points()]
    for p in points:
        folder = grid / "points" / p["id"]
        for name in ("config.yaml", "metrics.json", "design.npz", "sweep_point.log"):
            assert (folder / name).is_file(), name
        written = json.loads((folder / "metrics.json").read_text())
        assert p["metrics"]["binary_focus_gain"] == written["binary_focus_gain"]
        assert p["seconds"] > 0
    with open(grid / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4"]
    gains = [float(r["binary_focus_gain"]) for r in rows]
    assert gains == sorted(gains, reverse=True)
    assert {"material.c1", "training.initial_density", "focus_gain"} <= set(rows[0])
    assert "binary_focus_gain" in (grid / "summary.md").read_text()
    plots = {p.name for p in (grid / "plots").iterdir()}
    assert {"binary_focus_gain_vs_material.c1.png",
            "binary_focus_gain_map.png"} <= plots, plots
    assert not list(grid.rglob("*.tmp")), "a temporary file was left behind"


def test_a_rerun_recomputes_nothing(grid: Path, files: Path, capsys):
    before = {p: p.stat().st_mtime_ns for p in grid.glob("points/*/metrics.json")}
    capsys.readouterr()
    assert main(["sweep", str(files / "grid.yaml"), "--out", str(grid)]) == 0
    captured = capsys.readouterr()
    assert "4 already done (skipped)" in captured.err
    assert "4 of 4 points done (4 skipped" in captured.out
    assert "started" not in captured.err
    assert {p: p.stat().st_mtime_ns for p in grid.glob("points/*/metrics.json")} == before
    assert _state(grid)["skipped"] == 4


def test_a_failing_point_leaves_the_others_complete(files: Path, capsys):
    # c1 = 3.0 breaks the CFL limit at dt = 0.5: that point fails, the other one trains
    path = _write(files, "fail.yaml", "base: base.yaml\ngrid: {material.c1: [0.5, 3.0]}\n")
    out = files / "fail_out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "2"]) == 1
    err = capsys.readouterr().err
    assert "FAILED: StabilityError: CFL violated" in err
    points = {p["overrides"]["material.c1"]: p for p in _state(out)["points"]}
    assert points[0.5]["status"] == "done" and points[0.5]["metrics"]["binary_focus_gain"] > 0
    assert points[3.0]["status"] == "failed"
    assert points[3.0]["reason"].startswith("StabilityError: CFL violated")
    assert "Traceback" in (out / "points" / points[3.0]["id"] / "sweep_point.log").read_text()
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["done", "failed"]


def _wait(what, predicate, proc: subprocess.Popen, seconds: float = 180.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"the sweep ended (rc {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _pids(log: Path) -> list[int]:
    if not log.exists():
        return []
    return [int(line.rsplit("pid ", 1)[1].rstrip(")\n")) for line in log.read_text().splitlines()
            if "(threads" in line and "pid " in line]


def _epoch(folder: Path) -> int:
    try:
        return json.loads((folder / "checkpoint" / "checkpoint.json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return -1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def long_point(files: Path) -> tuple[Path, Path]:
    """A one-point sweep long enough to kill mid-point, and its uninterrupted results."""
    from wavefab.designkit.sweep import load_sweep, sweep

    path = _write(files, "long.yaml", "base: base.yaml\nset: {training.epochs: 24}\n"
                  "grid: {material.c1: [0.55]}\n")
    reference = files / "long_reference"
    for _ in sweep(load_sweep(path), reference, workers=1):
        pass
    return path, reference


def _same_point(out: Path, reference: Path, pid: str) -> None:
    assert _metrics(out) == _metrics(reference)
    with np.load(reference / "points" / pid / "design.npz") as a, \
            np.load(out / "points" / pid / "design.npz") as b:
        for key in ("latent", "density", "binary"):
            np.testing.assert_array_equal(a[key], b[key])


def test_a_sweep_killed_twice_resumes_to_the_uninterrupted_result(long_point, capsys):
    """kill -9 a worker (the point is retried), then the driver (``--resume`` continues)."""
    from wavefab.designkit.sweep import load_sweep

    path, reference = long_point
    out = path.parent / "long_killed"
    pid = load_sweep(path).points()[0].id
    folder, log = out / "points" / pid, out / "points" / pid / "sweep_point.log"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen([sys.executable, "-m", "wavefab.app.cli", "sweep", str(path),
                             "--out", str(out), "--workers", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait("the first checkpoint", lambda: _epoch(folder) >= 1, proc)
        first = _pids(log)[0]
        os.kill(first, signal.SIGKILL)  # a worker dies: the driver retries the point
        _wait("the retry", lambda: len(_pids(log)) >= 2, proc)
        reached = _epoch(folder)
        _wait("a checkpoint of the retry", lambda: _epoch(folder) > reached, proc)
        second = _pids(log)[1]
        proc.send_signal(signal.SIGKILL)  # now the driver dies
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 10
    while _alive(second) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(second), "the worker outlived its driver"
    assert "resuming" in [line for line in log.read_text().splitlines() if "pid " in line][1]
    assert not (folder / "metrics.json").exists(), "the point finished before the kill"
    assert _state(out)["points"][0]["status"] == "running"

    capsys.readouterr()
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    assert "rerun with --resume" in capsys.readouterr().err
    assert main(["sweep", str(path), "--out", str(out), "--resume"]) == 0
    assert "1 resumed" in capsys.readouterr().err
    _same_point(out, reference, pid)


def test_a_dask_worker_killed_mid_point_is_replaced_and_the_point_continues(long_point):
    """kill -9 the Dask worker running a point: its nanny starts another, which resumes it."""
    from wavefab.designkit.sweep import load_sweep

    path, reference = long_point
    out = path.parent / "long_dask_killed"
    pid = load_sweep(path).points()[0].id
    folder, log = out / "points" / pid, out / "points" / pid / "sweep_point.log"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen([sys.executable, "-m", "wavefab.app.cli", "sweep", str(path),
                             "--out", str(out), "--executor", "dask", "--workers", "1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        _wait("the first checkpoint", lambda: _epoch(folder) >= 1, proc)
        first = _pids(log)[0]
        os.kill(first, signal.SIGKILL)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    pids = _pids(log)
    assert len(pids) == 2 and pids[1] != first, pids
    assert "resuming" in [line for line in log.read_text().splitlines() if "pid " in line][1]
    assert _state(out)["points"][0]["status"] == "done"
    _same_point(out, reference, pid)


def test_a_dask_local_cluster_gives_the_local_pool_figures(grid: Path, files: Path, capsys):
    path = _write(files, "dask.yaml", "base: base.yaml\ngrid:\n  material.c1: [0.6]\n"
                  "  training.initial_density: [0.4, 0.5]\n")
    out = files / "dask_out"
    capsys.readouterr()
    assert main(["sweep", str(path), "--out", str(out), "--executor", "dask",
                 "--workers", "2"]) == 0
    err = capsys.readouterr().err
    assert "dask dashboard: http://127.0.0.1:" in err
    ours, local = _metrics(out), _metrics(grid)
    assert len(ours) == 2 and set(ours) <= set(local)
    for pid, metrics in ours.items():
        assert {k: v for k, v in metrics.items() if k != "wall_time_s"} == \
            {k: v for k, v in local[pid].items() if k != "wall_time_s"}


def test_an_optuna_study_resumes_to_its_trial_count(files: Path, capsys):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    from optuna.trial import TrialState

    from wavefab.designkit.sweep import PointEnd, load_sweep, sweep

    path = _write(files, "optuna.yaml", """\
base: base.yaml
set: {training.epochs: 1}
optuna:
  trials: 6
  sampler: tpe
  seed: 3
  material.c1: {low: 0.4, high: 0.7}
  training.initial_density: {choices: [0.3, 0.5]}
""")
    out = files / "optuna_out"
    events = sweep(load_sweep(path), out, workers=2)
    ended = 0
    for event in events:  # interrupt the study after its third trial
        ended += isinstance(event, PointEnd)
        if ended == 3:
            events.close()
            break
    capsys.readouterr()
    assert main(["sweep", str(path), "--out", str(out), "--resume"]) == 0
    captured = capsys.readouterr()
    assert "3 already done (skipped)" in captured.err
    storage = JournalStorage(JournalFileBackend(str(out / "optuna.journal")))
    trials = storage.get_all_trials(storage.get_study_id_from_name("wavefab-sweep"))
    assert len(trials) == 6 and all(t.state == TrialState.COMPLETE for t in trials)
    assert len(_state(out)["points"]) == 6
    # a second rerun asks for nothing
    assert main(["sweep", str(path), "--out", str(out)]) == 0
    assert "6 already done (skipped)" in capsys.readouterr().err
    trials = storage.get_all_trials(storage.get_study_id_from_name("wavefab-sweep"))
    assert len(trials) == 6
    plots = {p.name for p in (out / "plots").iterdir()}
    assert {"optuna_history.png", "optuna_importances.png"} <= plots, plots


def test_dry_run_lists_the_points_and_runs_nothing(files: Path, capsys):
    out = files / "dry_out"
    assert main(["sweep", str(_write(files, "dry.yaml", GRID)), "--out", str(out),
                 "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and lines[-1].startswith("4 points, ranked by binary_focus_gain")
    assert "material.c1=0.6" in lines[2]
    assert not out.exists()


@pytest.mark.parametrize("text, says", [
    ("base: base.yaml\ngrid: {material.c1: [0.5]}\nbogus: 1\n", "bogus: unknown key"),
    ("base: base.yaml\ngrid: {material.c1: []}\n", "material.c1"),
    ("base: base.yaml\nrandom: {samples: 2, material.c1: {low: 0.7, high: 0.4}}\n",
     "material.c1"),
    ("base: missing.yaml\ngrid: {material.c1: [0.5]}\n", "missing.yaml"),
    ("base: base.yaml\ngrid: {material.c1: [0.5, -1.0]}\n", "material.c1"),
    ("base: base.yaml\ngrid: {material.cc1: [0.5]}\n", "material.cc1"),
])
def test_a_bad_sweep_file_is_one_line_and_nothing_runs(files: Path, capsys, text, says):
    out = files / "bad_out"
    assert main(["sweep", str(_write(files, "bad.yaml", text)), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("wavefab sweep: error:") and says in err, err
    assert not out.exists()


def test_a_slurm_cluster_section_builds_its_job_script(tmp_path):
    from wavefab.designkit.sweep import jobqueue_cluster

    cluster = jobqueue_cluster({"kind": "slurm", "cores": 4, "memory": "8GB",
                                "walltime": "02:00:00", "queue": "short", "account": "lab42",
                                "local_directory": str(tmp_path)})
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -p short" in script and "#SBATCH -A lab42" in script
    assert "#SBATCH -t 02:00:00" in script and "#SBATCH --cpus-per-task=4" in script
    assert "--nthreads 1" in script and "distributed.cli.dask_worker" in script
    assert "export DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False" in script


def test_dry_run_of_a_cluster_sweep_shows_its_job_script(files: Path, capsys):
    path = _write(files, "slurm.yaml", "base: base.yaml\ngrid: {material.c1: [0.5, 0.6]}\n"
                  "cluster: {kind: slurm, cores: 2, memory: 4GB, walltime: '1:30:00', "
                  "jobs: 3}\n")
    assert main(["sweep", str(path), "--out", str(files / "slurm_out"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "2 points, ranked by" in out
    assert "each slurm job (with --executor dask) would run:" in out
    assert "#SBATCH -t 01:30:00" in out and "#SBATCH --cpus-per-task=2" in out
    assert not (files / "slurm_out").exists()


@pytest.mark.parametrize("kind, says", [
    ("pbs", ["#PBS -q short", "#PBS -A lab42", "#PBS -l walltime=02:00:00",
             "#PBS -l select=1:ncpus=4"]),
    ("lsf", ["#BSUB -q short", '#BSUB -P "lab42"', "#BSUB -W 02:00\n", "#BSUB -n 4"]),
])
def test_pbs_and_lsf_cluster_sections_build_their_job_scripts(kind, says, tmp_path):
    from wavefab.designkit.sweep import jobqueue_cluster

    cluster = jobqueue_cluster({"kind": kind, "cores": 4, "memory": "8GB",
                                "walltime": "02:00:00", "queue": "short", "account": "lab42",
                                "local_directory": str(tmp_path)})
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in says:
        assert line in script, (line, script)
    assert "--nthreads 1" in script and "distributed.cli.dask_worker" in script


def test_without_the_extra_dask_and_optuna_name_it(files: Path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    assert main(["sweep", str(_write(files, "nodask.yaml", GRID)), "--out",
                 str(files / "nodask_out"), "--executor", "dask"]) == 2
    assert 'pip install "wavefab[cluster]"' in capsys.readouterr().err


@pytest.mark.parametrize("name", ["sweep_lens_rules", "sweep_vowels_pitch", "optuna_lens"])
def test_the_example_sweeps_validate(name: str, tmp_path, capsys):
    root = Path(__file__).resolve().parents[3]
    out = tmp_path / name
    assert main(["sweep", str(root / "assets" / "examples" / f"{name}.yaml"), "--out", str(out),
                 "--dry-run"]) == 0
    listing = capsys.readouterr().out
    assert {"sweep_lens_rules": "12 points", "sweep_vowels_pitch": "3 points",
            "optuna_lens": "16 trials"}[name] in listing
    assert not out.exists()
