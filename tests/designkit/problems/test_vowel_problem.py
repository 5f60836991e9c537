"""The reference vowel geometry, batching and loss; a tiny training run lowers the loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.parametrization import LinearSpeed, Parametrization
from wavefab.designkit.problems.synthetic_vowels import synthetic_vowels
from wavefab.designkit.problems.vowels import (
    VowelGeometry,
    class_probabilities,
    length_groups,
    padded_batch,
    training_batch,
    vowel_loss,
)
from wavefab.solver import propagate


def test_reference_geometry_matches_the_paper():
    g = VowelGeometry()
    assert (g.source.row, g.source.col) == (70, 40)
    assert [(p.row, p.col) for p in g.probes] == [(50, 100), (70, 100), (90, 100)]
    region = g.region()
    cols = np.flatnonzero(region.any(0).numpy())
    rows = np.flatnonzero(region.any(1).numpy())
    assert (cols[0], cols[-1]) == (45, 95) and (rows[0], rows[-1]) == (20, 119)
    with pytest.raises(DesignValueError, match="no room for a design region"):
        VowelGeometry(shape=(140, 70))
    with pytest.raises(DesignValueError, match="do not fit"):
        VowelGeometry(classes=6, probe_spacing=30)


def test_length_groups_cover_everything_and_stay_tight():
    data = synthetic_vowels(speakers={"m": 6, "w": 6}, duration=(0.1, 0.5))
    index = np.arange(len(data))
    groups = length_groups(data, index, tolerance=0.1)
    assert sorted(np.concatenate(groups).tolist()) == index.tolist()
    for g in groups:
        sizes = [data.waveforms[i].size for i in g]
        assert max(sizes) <= 1.1 * min(sizes)
    batch = padded_batch(data, groups[-1])
    assert batch.shape[1] == max(data.waveforms[i].size for i in groups[-1])


def test_loss_is_cross_entropy_of_normalized_powers():
    probes = torch.tensor([[[1.0, 1.0, 2.0]], [[3.0, 0.5, 0.5]]]).repeat(1, 4, 1)
    probs = class_probabilities(probes)
    assert torch.allclose(probs.sum(1), torch.ones(2))
    labels = torch.tensor([2, 0])
    expected = -(torch.log(torch.tensor(0.5)) + torch.log(torch.tensor(0.75))) / 2
    assert torch.allclose(vowel_loss(probes, labels), expected)
    # the reference code's read-out: the same powers as softmax logits
    logits = torch.nn.functional.cross_entropy(probs, labels)
    assert torch.allclose(vowel_loss(probes, labels, "logits"), logits)
    certain = torch.zeros(1, 4, 3)
    certain[..., 0] = 1.0  # all the energy at the right probe
    assert float(vowel_loss(certain, torch.tensor([0]))) == pytest.approx(0.0, abs=1e-6)
    assert float(vowel_loss(certain, torch.tensor([0]), "logits")) == pytest.approx(
        np.log(1 + 2 / np.e))  # the softmax read-out cannot become confident
    with pytest.raises(DesignValueError, match="readout must be"):
        vowel_loss(probes, labels, "softmax")


@pytest.mark.filterwarnings("ignore::wavefab.solver.errors.ResolutionWarning")
def test_a_few_adam_steps_lower_the_loss_on_a_small_model():
    geometry = VowelGeometry(shape=(60, 70), absorber=10, source_inset=6, probe_inset=6,
                             probe_spacing=8, region_gap=3)
    data = synthetic_vowels(speakers={"m": 2, "w": 2}, rate=10_000, seed=1)
    clips, labels = training_batch(data, np.arange(len(data)), window=300)
    par = Parametrization(region=geometry.region(), beta=100.0, material=LinearSpeed(1.0, 0.5))
    torch.manual_seed(0)
    latent = (0.5 + 0.05 * torch.randn(geometry.shape)).requires_grad_(True)
    optimizer = torch.optim.Adam([latent], lr=0.02)
    losses = []
    for _ in range(8):
        optimizer.zero_grad()
        out = propagate(par.speed(latent), clips, grid=geometry.grid, sources=[geometry.source],
                        probes=geometry.probes, boundary=geometry.boundary)
        loss = vowel_loss(out.probes, labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.9 * losses[0], losses
