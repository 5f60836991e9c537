"""``wavefab run``: a tiny configuration end to end, the results contract, resume, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from wavefab.app.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::wavefab.solver.errors.ResolutionWarning")

TINY = """\
schema_version: 1
data: {vowels: [ae, ei, iy], rate: 10000}
geometry: {shape: [50, 60], absorber: 8, source_inset: 5, probe_inset: 5, probe_spacing: 7,
           region_gap: 3}
training: {epochs: 2, batch_size: 9, learning_rate: 0.01, window: 200, folds: 2}
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def test_run_writes_the_results_contract(tiny, tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["run", str(tiny), "--out", str(out), "--set", "training.seed=4"]) == 0
    assert "test accuracy" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("train_accuracy", "test_accuracy", "per_fold", "loss", "wall_time_s"):
        assert key in metrics
    assert 0 <= metrics["test_accuracy"] <= 1 and len(metrics["per_fold"]) == 2
    with np.load(out / "design.npz") as design:
        assert design["speed"].shape == (50, 60) and design["region"].dtype == bool
        assert {"latent", "density", "speed", "region", "binary",
                "min_feature_cells"} <= set(design.files)
        assert design["speed"][~design["region"]].min() == 1.0
        assert design["binary"].dtype == bool and not design["binary"][~design["region"]].any()
    report = json.loads((out / "drc.json").read_text())
    assert {"min_solid_cells", "min_void_cells", "violations", "pass"} <= set(report)
    assert "binary_test_accuracy" in metrics
    history = (out / "history.csv").read_text().splitlines()
    assert history[0].startswith("fold,epoch,loss") and len(history) == 5
    for png in ("curves.png", "confusion.png", "material.png", "fields.png",
                "probe_power.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    resolved = (out / "config.yaml").read_text()
    assert "seed: 4" in resolved
    # the resolved config is itself a runnable config; resuming a finished run changes nothing
    assert main(["run", str(out / "config.yaml"), "--out", str(out), "--resume"]) == 0
    assert json.loads((out / "metrics.json").read_text())["test_accuracy"] == \
        metrics["test_accuracy"]


def test_bad_input_lists_problems_and_exits_2(tiny, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("training: {epochs: 0, bogus: 1}\n")
    assert main(["run", str(bad), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "training.bogus: unknown key" in err
    assert "Traceback" not in err
    assert main(["run", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read the file" in capsys.readouterr().err
    assert main(["run", str(tiny), "--out", str(tmp_path / "r2"),
                 "--data", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err


def _run_short_example(name: str, out) -> None:
    """Run an example configuration for 2 epochs of a 400-step pulse into ``out``."""
    from pathlib import Path

    example = Path(__file__).parents[3] / "assets" / "examples" / name
    assert main(["run", str(example), "--out", str(out), "--set", "training.epochs=2",
                 "--set", "lens.steps=400"]) == 0


def test_the_lens_example_runs_with_lbfgs(tmp_path, capsys):
    out = tmp_path / "lens"
    _run_short_example("lens.yaml", out)
    assert "focus gain" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["problem"] == "lens" and metrics["focus_gain"] > 3.0
    assert "test_accuracy" not in metrics and len(metrics["per_fold"]) == 1
    header = (out / "history.csv").read_text().splitlines()[0]
    assert header == "fold,epoch,loss,focus_gain,peak_gain,gray_level,beta,seconds"
    for png in ("curves.png", "material.png", "fields.png", "probe_power.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    assert not (out / "confusion.png").exists()


def test_a_bad_lens_section_is_listed_by_dotted_path(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("problem: lens\nlens: {source: [70, 60], colour: red}\n")
    assert main(["run", str(bad), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "lens.colour: unknown key" in err
    bad.write_text("problem: lens\nlens: {source: [70, 60]}\n")
    assert main(["run", str(bad), "--out", str(tmp_path / "r")]) == 2
    assert "lens.source (70, 60) lies inside the design region" in capsys.readouterr().err


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_uninterrupted_result(tiny, tmp_path):
    """SIGKILL a real `wavefab run` process after its first checkpoint, then `--resume` it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    reference = tmp_path / "reference"
    assert main(["run", str(tiny), "--out", str(reference)]) == 0
    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "wavefab.app.cli", "run", str(tiny), "--out", str(killed)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    checkpoint = killed / "checkpoint" / "checkpoint.json"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert checkpoint.exists(), "the run never wrote a checkpoint"
    assert not (killed / "metrics.json").exists(), "the run finished before it was killed"
    assert main(["run", str(tiny), "--out", str(killed), "--resume"]) == 0
    with np.load(reference / "design.npz") as a, np.load(killed / "design.npz") as b:
        np.testing.assert_array_equal(a["latent"], b["latent"])
    ours = json.loads((killed / "metrics.json").read_text())
    theirs = json.loads((reference / "metrics.json").read_text())
    assert ours["per_fold"] == theirs["per_fold"]


def test_drc_command_checks_a_result_and_sets_the_exit_code(tmp_path, capsys):
    out = tmp_path / "result"
    out.mkdir()
    binary = np.zeros((40, 40), bool)
    binary[10:30, 10:20] = True
    binary[20, 22:35] = True  # a 1-cell line
    region = np.zeros_like(binary)
    region[5:35, 5:38] = True
    np.savez(out / "design.npz", binary=binary, region=region, min_feature_cells=np.asarray(3))
    assert main(["drc", str(out)]) == 1
    text = capsys.readouterr().out
    assert "DRC FAIL" in text and "solid" in text
    report = json.loads((out / "drc.json").read_text())
    assert report["pass"] is False and report["rule_solid_cells"] == 3
    assert (out / "drc.png").read_bytes()[:4] == b"\x89PNG"
    binary[20, 22:35] = False
    np.savez(out / "design.npz", binary=binary, region=region, min_feature_cells=np.asarray(3))
    assert main(["drc", str(out), "--min-feature", "0.8mm", "--pitch", "0.1mm"]) == 0
    assert json.loads((out / "drc.json").read_text())["rule_solid_cells"] == 8
    assert main(["drc", str(tmp_path / "nowhere")]) == 2
    assert "nowhere does not exist" in capsys.readouterr().err
    assert main(["drc", str(out), "--process", "fdm-0.4"]) == 2
    assert "--pitch" in capsys.readouterr().err


def test_the_fabrication_example_carries_rules_and_physical_scale(tmp_path, capsys):
    out = tmp_path / "fab"
    _run_short_example("lens_fab.yaml", out)
    metrics = json.loads((out / "metrics.json").read_text())
    fab = metrics["fabrication"]
    assert fab["process"] == "sla" and fab["min_solid_cells"] == 5 and fab["robust"] is True
    scale = fab["scale"]
    assert scale["pitch_m"] == pytest.approx(1e-4) and scale["size_m"] == pytest.approx(
        [0.014, 0.014])
    assert 1e3 < scale["band_hz"][0] < scale["band_hz"][1] < 1e6  # audible-to-ultrasonic
    with np.load(out / "design.npz") as design:
        assert int(design["min_feature_cells"]) == 5
    assert "drc_pass" in metrics and "repaired_cells" in metrics["per_fold"][0]
    capsys.readouterr()
    code = main(["drc", str(out)])
    assert code == (0 if json.loads((out / "drc.json").read_text())["pass"] else 1)
    assert "rule solid 5 / void 5 cells" in capsys.readouterr().out


def test_the_data_folder_given_on_the_command_line_is_recorded(tiny, tmp_path, capsys):
    import wave

    import yaml

    folder = tmp_path / "wavs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    t = np.arange(4000) / 16_000
    for g in "mw":
        for k in range(1, 4):
            for v, f in (("ae", 700.0), ("ei", 450.0), ("iy", 300.0)):
                tone = 8000 * np.sin(2 * np.pi * f * t) + 300 * rng.standard_normal(t.size)
                with wave.open(str(folder / f"{g}{k:02d}{v}.wav"), "wb") as w:
                    w.setnchannels(1)
                    w.setsampwidth(2)
                    w.setframerate(16_000)
                    w.writeframes(tone.astype("<i2").tobytes())
    out = tmp_path / "results"
    assert main(["run", str(tiny), "--out", str(out), "--data", str(folder),
                 "--set", "training.epochs=1"]) == 0
    capsys.readouterr()
    recorded = yaml.safe_load((out / "config.yaml").read_text())["data"]["folder"]
    assert recorded == str(folder.resolve())  # export/verify of this folder use the same data
