"""The toy runs' sliced 2-Wasserstein distance against closed forms and a second implementation."""

from __future__ import annotations

import math

import pytest
import torch

from stanley.learning.evaluation import sliced_wasserstein


def test_in_one_dimension_it_is_the_empirical_w2():
    """On a line every direction is +-1: the distance pairs the sorted samples."""
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(500, 1, generator=generator), 2 + 3 * torch.rand(500, 1, generator=generator)
    pairs = zip(sorted(x[:, 0].tolist()), sorted(y[:, 0].tolist()))
    exact = math.sqrt(sum((a - b) ** 2 for a, b in pairs) / 500)
    assert sliced_wasserstein(x, y, 16, torch.Generator().manual_seed(1)) == pytest.approx(exact, rel=1e-5)


def test_a_translation_by_c_is_c_over_root_two_in_the_plane():
    """Shifting a sample by c keeps every projection's order: the distance is the root mean
    square of (c . theta) over uniform directions theta, |c| / sqrt(2)."""
    x = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0))
    c = torch.tensor([3.0, -4.0])
    assert sliced_wasserstein(x, x + c, 4096, torch.Generator().manual_seed(2)) == pytest.approx(5 / math.sqrt(2), rel=0.03)


def test_equals_torch_sort_on_the_same_directions():
    generator = torch.Generator().manual_seed(3)
    x, y = torch.randn(3000, 2, generator=generator), torch.randn(3000, 2, generator=generator) * 1.5
    directions = torch.randn(2, 64, generator=torch.Generator().manual_seed(4))
    directions = directions / directions.norm(dim=0, keepdim=True)
    px, py = torch.sort(x @ directions, dim=0)[0], torch.sort(y @ directions, dim=0)[0]
    expected = float(((px - py) ** 2).mean().sqrt())
    assert sliced_wasserstein(x, y, 64, torch.Generator().manual_seed(4)) == expected
