"""The readings of STANLEY (stanley/experiment/readings.py): each one step against a hand computation."""

from __future__ import annotations

import math

import pytest
import torch

from stanley.experiment import readings
from stanley.sampling import samplers
from stanley.errors import ConfigError


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def quadratic(a: torch.Tensor):
    """log pi(z) = -a z^2 / 2 per coordinate, so the gradient is -a z."""
    return lambda x: -0.5 * (a * x * x).flatten(1).sum(1)


def test_authors_image_code_reading_by_hand():
    """Per-pixel channel norm, unscaled drift, noise sqrt(s) eps gamma (main.py's anilangevin)."""
    a = torch.linspace(0.1, 3.0, 48, dtype=torch.float64).view(1, 3, 4, 4)
    z = torch.randn(5, 3, 4, 4, generator=gen(0), dtype=torch.float64)
    z[0] *= 1e-3  # small gradients: gamma = 1 there
    s, eps, th = 0.2, 0.3, 0.5
    kernel = samplers.get("stanley_code", quadratic(a), step_size=s, noise_scale=eps, threshold=th)
    g = -a * z
    gamma = th / (g**2).sum(dim=1, keepdim=True).sqrt().clamp(min=th)  # one gamma per pixel
    assert (gamma == 1).any() and (gamma < 0.5).any()
    xi = torch.randn(z.shape, generator=gen(1), dtype=torch.float64)
    new, info = kernel.step(kernel.init(z), gen(1))
    torch.testing.assert_close(new.z, z + (s / 2) * g + math.sqrt(s) * eps * gamma * xi)
    torch.testing.assert_close(info["gamma_mean"], gamma.mean())


def test_authors_toy_script_reading_by_hand():
    """Per-sample gradient norm, drift (s/2) gamma g, noise sd sqrt(gamma) with no eps, th = 0.001
    (train_toy.py's anilangevin, whose unit drift is s = 2 in our form)."""
    a = torch.tensor([[0.5, 2.0]], dtype=torch.float64)
    z = torch.randn(64, 2, generator=gen(0), dtype=torch.float64) * 0.01
    z[:4] *= 1e-3  # gradient norms below th: gamma = 1
    s, eps = 2.0, 0.0070710678
    kernel = samplers.get("stanley_toy", quadratic(a), step_size=s, noise_scale=eps)
    g = -a * z
    gamma = 0.001 / g.norm(dim=1, keepdim=True).clamp(min=0.001)
    assert (gamma == 1).any() and (gamma < 0.5).any()
    xi = torch.randn(z.shape, generator=gen(1), dtype=torch.float64)
    new, _ = kernel.step(kernel.init(z), gen(1))
    torch.testing.assert_close(new.z, z + (s / 2) * gamma * g + gamma.sqrt() * xi)
    # eps plays no part: the noise is 1/(sqrt(s) eps) = 100 times the Langevin noise where gamma = 1
    other = samplers.get("stanley_toy", quadratic(a), step_size=s, noise_scale=10 * eps)
    torch.testing.assert_close(other.step(other.init(z), gen(1))[0].z, new.z)


def test_unit_noise_switch_on_the_paper_reading():
    """noise_sd: unit on the paper's kernel is the same step as the toy reading's pinned one."""
    a = torch.tensor([[1.0, 3.0]], dtype=torch.float64)
    z = torch.randn(32, 2, generator=gen(2), dtype=torch.float64)
    toy = samplers.get("stanley_toy", quadratic(a), step_size=0.5, noise_scale=0.1)
    same = samplers.get("stanley", quadratic(a), step_size=0.5, noise_scale=0.1, threshold=0.001,
                        norm="sample", noise_sd="unit")
    torch.testing.assert_close(toy.step(toy.init(z), gen(3))[0].z, same.step(same.init(z), gen(3))[0].z)


@pytest.mark.parametrize("reading", [n for n in readings.NAMES if n != readings.KERNEL])
def test_a_reading_takes_the_shared_pool_but_never_its_pinned_options(reading):
    pool = {"step_size": 2.0, "noise_scale": 0.007, "threshold": 2e-4, "norm": "coordinate",
            "noise_power": 0.5, "drift": "scaled", "refresh": "step", "leapfrog": 5}
    taken = samplers.options_for(reading, pool)
    assert not set(taken) & set(readings.PINNED[reading])
    assert {"step_size", "noise_scale"} <= set(taken)
    key = next(iter(readings.PINNED[reading]))
    with pytest.raises(ConfigError, match=f"{key} pinned"):
        samplers.get(reading, quadratic(torch.ones(1, 2)), **{key: readings.PINNED[reading][key]})


def test_unit_noise_is_refused_on_the_accept_reject_kernel():
    with pytest.raises(ConfigError, match="noise_sd"):
        samplers.get("stanley_mh", quadratic(torch.ones(1, 2)), noise_sd="unit")


def test_every_reading_has_a_distinct_label_and_a_source():
    assert set(readings.LABELS) == set(readings.SOURCES) == set(readings.NAMES)
    assert len(set(readings.LABELS.values())) == len(readings.NAMES)
