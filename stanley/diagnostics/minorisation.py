"""The small-set constant of Theorem 1 (eq. 15) on balls O, computed on a grid.

For a kernel with a transition density p(z, y), the largest eps with
``Pi(z, .) >= eps nu(.)`` for every z in O and some probability nu is
``eps(O) = integral of min_{z in O} p(z, y) dy`` (nu is that minimum, normalised). The
Langevin-type proposals are Gaussian, ``T(z, .) = N(z + drift(z) g(z), diag(noise(z)^2))``,
so for the unadjusted kernels p = T; for the accept/reject ones the absolutely continuous part
``alpha(z, y) T(z, y)`` gives a lower bound (the proof's eq. 20), reported beside the
proposal-only constant. The minimum is over a grid of O and the integral a grid sum over a box
that holds every proposal's mass, so the number is an estimate (the minimum over finitely many
z is an upper bound of the infimum). Only 2-D targets: the grids are squares. HMC (several
leapfrog steps) and ``gd`` (no noise) have no explicit density and get NaN.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Sequence, Tuple

import pandas as pd
import torch

from ..sampling import samplers
from ..errors import ConfigError
from ..learning.evaluation import Grid
from ..sampling.state import State
from ..sampling.targets import Target
from .drift import kernel_temperature, option_columns

REACH = 6.0  # the y box extends this many proposal sds beyond every proposal mean
MAX_PAIRS = 1 << 20


def _moments(kernel, state: State) -> Tuple[torch.Tensor, torch.Tensor]:
    drift, noise, _ = kernel.rule.coefficients(state)
    drift = torch.as_tensor(drift, dtype=state.z.dtype).expand_as(state.z)
    noise = torch.as_tensor(noise, dtype=state.z.dtype).expand_as(state.z)
    return state.z + drift * state.grad, noise


def _pairwise_log_normal(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """log N(x_j; mean_i, diag(std_i^2)) for every pair, an (I, J) matrix, 2 pi included.

    Expanded into matrix products (sum of x^2/s^2 - 2 x m/s^2 + m^2/s^2), so no (I, J, d)
    array is ever built: a grid of pairs costs a few matmuls."""
    precision = std.pow(-2)
    quadratic = (x * x) @ precision.T - 2 * x @ (mean * precision).T + (mean * mean * precision).sum(1)
    log_norm = -torch.log(std).sum(1) - 0.5 * x.shape[1] * math.log(2 * math.pi)
    return (-0.5 * quadratic + log_norm).T


def has_density(kernel) -> bool:
    rule = getattr(kernel, "rule", None)
    return rule is not None and rule.noise_scale > 0


def ball_points(radius: float, size: int) -> torch.Tensor:
    """A size x size grid of [-R, R]^2 cut to the ball of radius R (the origin alone for R = 0)."""
    if radius == 0:
        return torch.zeros(1, 2, dtype=torch.float64)
    axis = torch.linspace(-radius, radius, size, dtype=torch.float64)
    points = torch.cartesian_prod(axis, axis)
    return points[points.norm(dim=1) <= radius * (1 + 1e-9)]


@torch.no_grad()
def log_minorisation(kernel, radius: float, size: int) -> Dict[str, float]:
    """log eps(O) for the ball of ``radius``: proposal only, and with the accept step."""
    z_state = kernel.init(ball_points(radius, size))
    mean_z, std_z = _moments(kernel, z_state)
    low = (mean_z - REACH * std_z).min(dim=0).values
    high = (mean_z + REACH * std_z).max(dim=0).values
    centre, half = (low + high) / 2, float((high - low).max()) / 2
    box = Grid(half, 2 * size)
    y = box.points.double() + centre
    y_state = kernel.init(y)
    adjusted = isinstance(kernel, samplers.MetropolisAdjusted)
    if adjusted:
        mean_y, std_y = _moments(kernel, y_state)
        temperature = kernel_temperature(kernel)
    log_cell = math.log(box.cell_area)
    proposal_min, adjusted_min = [], []
    per = max(1, MAX_PAIRS // len(mean_z))
    for j in range(0, len(y), per):
        ys = slice(j, j + per)
        forward = _pairwise_log_normal(y[ys], mean_z, std_z)  # (Z, Y): T(z, y)
        proposal_min.append(forward.min(dim=0).values)
        if adjusted:
            backward = _pairwise_log_normal(z_state.z, mean_y[ys], std_y[ys]).T  # (Z, Y): T(y, z)
            log_ratio = (y_state.logp[ys][None] - z_state.logp[:, None]) / temperature + backward - forward
            log_alpha = torch.nan_to_num(log_ratio, nan=-math.inf).clamp(max=0.0)
            adjusted_min.append((log_alpha + forward).min(dim=0).values)
    out = {"log_eps_proposal": float(torch.logsumexp(torch.cat(proposal_min), 0)) + log_cell,
           "box_cells": len(y), "ball_points": len(mean_z)}
    out["log_eps"] = (float(torch.logsumexp(torch.cat(adjusted_min), 0)) + log_cell) if adjusted \
        else out["log_eps_proposal"]
    return out


def minorisation_table(target: Target, target_name: str, sampler: str, options: Dict[str, Any],
                       radii: Sequence[float], size: int) -> pd.DataFrame:
    """One row per ball radius: log eps with and without the accept step."""
    if target.dim != 2:
        raise ConfigError(f"minorisation is computed on 2-D grids; target {target_name!r} has dim {target.dim}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 3:
        raise ConfigError(f"minorisation grid must be an integer >= 3, got {size!r}")
    kernel = samplers.get(sampler, target.log_prob, **options)
    rows = []
    for radius in sorted(set(float(r) for r in radii)):
        row = {"target": target_name, "sampler": sampler, "radius": radius}
        if has_density(kernel):
            row.update(log_minorisation(kernel, radius, size), density="explicit")
        else:
            row.update(log_eps_proposal=math.nan, log_eps=math.nan, box_cells=0, ball_points=0,
                       density="none (deterministic)" if not isinstance(kernel, samplers.HMC) else "none (leapfrog)")
        rows.append(row)
    table = pd.DataFrame(rows)
    for key, value in option_columns(sampler, options).items():
        table[key] = value
    return table
