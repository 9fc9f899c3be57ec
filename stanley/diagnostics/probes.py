"""The points where a drift is measured: a grid of radii times directions.

Theorem 1's inequality is about ``|z| -> infinity`` in every direction, so the grid is polar:
in 2-D the directions are evenly spaced angles starting on the first axis (STANLEY's step is
per coordinate, so the axes are where it differs most from the diagonal); in higher
dimensions they are fixed pseudo-random unit vectors (seeded, so every sampler sees the same).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch

from ..errors import ConfigError


@dataclass(frozen=True)
class Probes:
    points: torch.Tensor  # (P, dim)
    radius: torch.Tensor  # (P,)
    direction: torch.Tensor  # (P,) index of the direction; 0 for the origin


def directions(dim: int, count: int) -> torch.Tensor:
    """``count`` unit vectors in R^dim, float64."""
    if dim == 2:
        angle = 2 * math.pi * torch.arange(count, dtype=torch.float64) / count
        return torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    if dim == 1:
        return torch.tensor([[1.0], [-1.0]], dtype=torch.float64)[: max(1, min(count, 2))]
    u = torch.randn(count, dim, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return u / u.norm(dim=1, keepdim=True)


def probes(dim: int, radii: Sequence[float], count: int) -> Probes:
    """Every radius times every direction; radius 0 gives the origin once."""
    if count < 1:
        raise ConfigError(f"directions must be an integer >= 1, got {count!r}")
    if not radii or any(r < 0 for r in radii):
        raise ConfigError(f"radii must be non-negative numbers, got {list(radii)!r}")
    units = directions(dim, count)
    points, radius, index = [], [], []
    for r in sorted(set(float(r) for r in radii)):
        chosen = units[:1] if r == 0 else units
        points.append(r * chosen)
        radius += [r] * len(chosen)
        index += list(range(len(chosen)))
    return Probes(torch.cat(points), torch.tensor(radius, dtype=torch.float64), torch.tensor(index))
