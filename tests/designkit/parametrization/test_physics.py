"""Two physics for one design: the scalar speed model and rigid solids in a fluid (acoustic)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from wavefab.designkit.config import ConfigError, config_from_dict
from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.parametrization.media import AcousticMedium, RigidSolid, sound_speed
from wavefab.designkit.problems.base import Fold
from wavefab.designkit.run import build_parametrization, build_problem, run
from wavefab.solver import PML, Grid, LineSource, PointProbe, ricker
from wavefab.solver.acoustic import propagate_acoustic

# gray cells of an acoustic design are slow (1/ρ between the fluid's and the wall's): the solver
# says so while the design is still gray
pytestmark = pytest.mark.filterwarnings("ignore::wavefab.solver.ResolutionWarning")

LENS = {"problem": "lens", "lens": {"steps": 400}, "material": {"beta": 4.0},
        "training": {"optimizer": "lbfgs", "epochs": 3, "lbfgs_iterations": 6}}


def _config(**changes):
    return config_from_dict({**LENS, **changes})


def test_the_rigid_solid_law_goes_from_fluid_to_a_sound_hard_wall():
    law = RigidSolid(c0=1.0, contrast=1e4)
    medium = law(torch.tensor([0.0, 0.5, 1.0]))
    np.testing.assert_allclose(medium.inv_density.numpy(), [1.0, 0.50005, 1e-4], rtol=1e-6)
    np.testing.assert_allclose(medium.bulk_modulus.numpy(), 1.0)  # K stays: no smaller step
    np.testing.assert_allclose(sound_speed(medium).numpy(), np.sqrt([1.0, 0.50005, 1e-4]),
                               rtol=1e-6)
    with pytest.raises(DesignValueError, match="contrast"):
        RigidSolid(contrast=0.5)
    with pytest.raises(ConfigError, match="physics"):
        _config(physics="optical")


def test_the_impedance_law_keeps_the_speed_and_reflects_as_an_impedance_step():
    """``interpolation: impedance``: only the impedance changes, R = (Z − 1)/(Z + 1) on a face."""
    law = RigidSolid(c0=1.0, contrast=9.0, interpolation="impedance")
    assert law.at_epoch(3).interpolation == "impedance"
    density = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    medium = law(density)
    np.testing.assert_allclose(sound_speed(medium).numpy(), 1.0, rtol=1e-12)
    np.testing.assert_allclose((medium.bulk_modulus / medium.inv_density).numpy(),
                               [1.0, 1.8**2, 81.0], rtol=1e-12)  # Z = K·ρ/c = 1/(1/ρ)
    with pytest.raises(DesignValueError, match="interpolation"):
        RigidSolid(interpolation="linear")
    with pytest.raises(ConfigError, match="interpolation"):
        _config(physics="acoustic", acoustic={"interpolation": "linear"})
    config = _config(physics="acoustic", acoustic={"interpolation": "impedance"})
    identity = build_parametrization(config, build_problem(config)).describe()["material"]
    assert identity["interpolation"] == "impedance"  # a resumed run cannot switch laws
    plain = _config(physics="acoustic")
    assert "interpolation" not in build_parametrization(
        plain, build_problem(plain)).describe()["material"]

    # a plane wave on a half-space of the solid: the echo is R = 0.8 of the incident pulse,
    # in phase, and the face is where the density changes (no slower wave inside to delay it)
    ny, nx = 600, 220
    grid = Grid(shape=(ny, nx), h=1.0, dt=0.5)
    f, steps = 0.05, 560
    waves = ricker(f, steps, grid.dt, dtype=torch.float64)[None]
    kw = {"grid": grid, "sources": [LineSource((20, 40), (ny - 21, 40))],
          "probes": [PointProbe(300, 100)], "boundary": PML(20)}
    solid = torch.zeros(ny, nx, dtype=torch.float64)
    solid[:, 160:] = 1.0
    probes = [propagate_acoustic(m.inv_density, m.bulk_modulus, waves, **kw).probes[0, :, 0]
              for m in (law(torch.zeros_like(solid)), law(solid))]
    free, reflected = probes[0].numpy(), (probes[1] - probes[0]).numpy()
    spectrum = np.fft.rfftfreq(4096, grid.dt)
    band = (spectrum > 0.5 * f) & (spectrum < 1.5 * f)
    ratio = np.abs(np.fft.rfft(reflected, 4096)[band]) / np.abs(np.fft.rfft(free, 4096)[band])
    assert ratio == pytest.approx(0.8, abs=0.01)
    xc = np.correlate(reflected, free, "full")
    assert xc[np.argmax(np.abs(xc))] > 0
    lag = int(np.argmax(np.abs(xc))) - (steps - 1)
    assert abs(lag * grid.dt - 2 * 59.5) <= 2.0


def test_an_acoustic_problem_measures_against_the_same_empty_fluid():
    config = _config(physics="acoustic")
    problem = build_problem(config)
    parametrization = build_parametrization(config, problem)
    assert problem.setup.physics == "acoustic"
    assert isinstance(parametrization.material, RigidSolid)
    empty = parametrization.material(torch.zeros(140, 140))
    assert isinstance(empty, AcousticMedium)
    metrics = problem.evaluate(empty, Fold(train=np.arange(1)))
    assert metrics["focus_gain"] == pytest.approx(1.0, rel=1e-9)
    with pytest.raises(DesignValueError, match="physics: acoustic"):
        build_problem(_config()).setup.simulate(empty, problem.pulse[None])


def test_a_printed_wall_is_not_a_slow_medium():
    """The speed-only model of a solid (c1 = 0.5 c0) and the rigid one disagree."""
    density = torch.zeros(140, 140)
    density[40:100, 60:66] = 1.0  # a wall between the source and the focus, with gaps
    fold = Fold(train=np.arange(1))
    gains = {}
    for physics in ("scalar", "acoustic"):
        config = _config(physics=physics)
        problem = build_problem(config)
        medium = build_parametrization(config, problem).material(density)
        gains[physics] = problem.evaluate(medium, fold)["focus_gain"]
    assert gains["acoustic"] < 0.8 * gains["scalar"]  # the rigid wall blocks; slow glass lets


@pytest.mark.slow
def test_the_lens_optimizes_in_the_acoustic_model(tmp_path):
    config = _config(physics="acoustic", training={
        "optimizer": "lbfgs", "epochs": 4, "lbfgs_iterations": 6,
        "beta_schedule": [[0, 8.0], [2, 64.0]]})  # binary by the end: gray 1/ρ is soft
    for _ in run(config, tmp_path / "acoustic"):
        pass
    metrics = json.loads((tmp_path / "acoustic" / "metrics.json").read_text())
    # measured: 2.68 nominal, 2.63 binary (the gray phase reached 7: a soft medium is not a
    # wall, the rigid design has to find another way)
    assert metrics["binary_focus_gain"] > 2.0
    assert metrics["binary_focus_gain"] == pytest.approx(metrics["focus_gain"], rel=0.1)
    with np.load(tmp_path / "acoustic" / "design.npz") as design:
        speed, binary = design["speed"], design["binary"]
    assert np.median(speed[binary]) < 0.05  # the saved map is the sound speed: solids ≈ 0.01
    from wavefab.designkit.project.playback import field_movie

    problem = build_problem(config)
    medium = build_parametrization(config, problem).material(torch.from_numpy(
        binary.astype(np.float32)))
    movie = field_movie(problem, medium, frames=10)
    assert movie.frames.shape == (10, 140, 140) and np.isfinite(movie.frames).all()
    # simulate what you print: STL → section at mid-height → acoustic re-simulation
    from wavefab.designkit.export import ExportSettings, export_design, load_design
    from wavefab.designkit.verify import verify

    export_design(load_design(tmp_path / "acoustic"), [tmp_path / "lens.stl"],
                  ExportSettings(pitch=1e-4, height=2e-3, base=0.5e-3))
    check = verify(tmp_path / "acoustic", tmp_path / "lens.stl", pitch=1e-4)
    assert check.changed_cells == 0
    assert check.imported["focus_gain"] == pytest.approx(metrics["binary_focus_gain"],
                                                         rel=1e-4)


def test_a_speed_only_design_verified_as_a_printed_rigid_part(lens_fab_result, tmp_path):
    """How wrong the speed-only model is for a printed part: the same file, both models."""
    from wavefab.designkit.export import ExportSettings, export_design, load_design
    from wavefab.designkit.verify import verify

    export_design(load_design(lens_fab_result), [tmp_path / "lens.stl"],
                  ExportSettings(height=2e-3, base=1e-3))
    own = verify(lens_fab_result, tmp_path / "lens.stl")
    printed = verify(lens_fab_result, tmp_path / "lens.stl", physics="acoustic")
    assert own.changed_cells == printed.changed_cells == 0
    assert own.imported["focus_gain"] == pytest.approx(own.design["focus_gain"], rel=1e-6)
    # trained as slow glass, printed as rigid plastic: it no longer focuses as designed
    assert printed.imported["focus_gain"] < 0.8 * own.imported["focus_gain"]
    with pytest.raises(DesignValueError, match="physics"):
        verify(lens_fab_result, tmp_path / "lens.stl", physics="optical")


def test_a_contrast_continuation_trains_soft_and_makes_rigid(tmp_path):
    """``acoustic.contrast_schedule``: each epoch trains with its solid; the part is rigid."""
    law = RigidSolid(contrast=1e4, contrast_schedule=((0, 4.0), (2, 100.0)))
    assert [law.at_epoch(e).contrast for e in range(4)] == [4.0, 4.0, 100.0, 100.0]
    assert RigidSolid(contrast=1e4, contrast_schedule=((1, 4.0),)).at_epoch(0).contrast == 1e4
    for bad in (((2, 4.0), (1, 9.0)), ((0, 0.5),), ((-1, 4.0),)):
        with pytest.raises(DesignValueError, match="contrast_schedule"):
            RigidSolid(contrast_schedule=bad)
    with pytest.raises(ConfigError, match="acoustic"):
        _config(physics="acoustic", acoustic={"contrast_schedule": [[0, 1.0]]})
    plain = _config(physics="acoustic")  # identities of runs from before the schedule still match
    assert "contrast_schedule" not in build_parametrization(
        plain, build_problem(plain)).describe()["material"]

    config = _config(physics="acoustic", acoustic={"contrast_schedule": [[0, 4.0], [1, 50.0]]},
                     training={"optimizer": "lbfgs", "epochs": 3, "lbfgs_iterations": 3})
    for _ in run(config, tmp_path / "soft"):
        pass
    metrics = json.loads((tmp_path / "soft" / "metrics.json").read_text())
    history = (tmp_path / "soft" / "history.csv").read_text().splitlines()
    column = history[0].split(",").index("contrast")
    assert [float(row.split(",")[column]) for row in history[1:]] == [4.0, 50.0, 50.0]
    # the epoch's metrics are of the solid it trained with; the made part is rigid
    problem = build_problem(config)
    rigid = build_parametrization(config, problem).material
    with np.load(tmp_path / "soft" / "design.npz") as design:
        binary = torch.from_numpy(design["binary"].astype(np.float32))
    gain = problem.evaluate(rigid(binary), Fold(train=np.arange(1)))["focus_gain"]
    assert metrics["binary_focus_gain"] == pytest.approx(gain, rel=1e-5)
