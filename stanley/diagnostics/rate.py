"""Distance to the target per step, from a far start (Corollary 1's geometric rate).

Many chains start at one point at ``start_radius`` (on the diagonal, so STANLEY's
per-coordinate step acts on every coordinate). After each transition the cloud of chains is
compared with exact target draws, by sliced 2-Wasserstein (any dimension) or by total
variation between histograms on a 2-D grid.

What the chains converge to depends on the kernel. The accept/reject kernels with ``T = 1``
converge to the target itself. The unadjusted kernels (``langevin``, ``stanley``, ``gd``)
converge to a biased limit, and accept/reject kernels with ``T != 1`` to ``pi^(1/T)``, which
has no exact sampler here: for those the limit is approximated by ``2 n`` chains started from
exact draws and run ``limit_steps`` gradient evaluations, and the distance to that limit is
measured too. rho is fitted on the distance to what the chain actually converges to; the
distance of the limit to the target is the bias. For the rate test (:mod:`.geometric`) the chains
and the reference are also split into ``GROUPS`` independent groups, each with its own curve and
floor.
"""

from __future__ import annotations

from typing import Any, Dict

import math

import numpy as np
import pandas as pd
import torch

from ..sampling import samplers
from ..errors import ConfigError, unknown
from ..learning.evaluation import Grid, normalise_on_grid
from ..sampling.targets import Target
from .drift import kernel_temperature, option_columns
from .geometric import GROUPS, rate_test

DISTANCES = ("sw", "tv")
SW_SEED = 12345  # the same projections at every step, so the curve is smooth in k


def exact_limit(kernel) -> bool:
    adjusted = isinstance(kernel, (samplers.MetropolisAdjusted, samplers.HMC))
    return adjusted and kernel_temperature(kernel) == 1.0


def limit_label(kernel) -> str:
    if exact_limit(kernel):
        return "target (accept/reject, T = 1)"
    if isinstance(kernel, (samplers.MetropolisAdjusted, samplers.HMC)):
        return f"pi^(1/T), T = {kernel_temperature(kernel):g} (long run)"
    return "biased limit of the unadjusted kernel (long run)"


class Histogram:
    """Cell probabilities on a 2-D grid (plus one cell for everything outside it)."""

    def __init__(self, extent: float, size: int):
        self.grid = Grid(extent, size)

    def of_samples(self, x: torch.Tensor) -> torch.Tensor:
        g = self.grid
        finite = torch.isfinite(x).all(dim=1)
        idx = torch.floor((x[finite] + g.extent) / (2 * g.extent / g.size)).long()
        inside = ((idx >= 0) & (idx < g.size)).all(dim=1)
        cells = idx[inside, 1] * g.size + idx[inside, 0]  # row = y, as Grid.points (indexing="xy")
        counts = torch.bincount(cells, minlength=g.size**2).double()
        return torch.cat([counts, torch.tensor([len(x) - float(inside.sum())], dtype=torch.float64)]) / len(x)

    def of_density(self, target: Target) -> torch.Tensor:
        log_p = normalise_on_grid(target.log_prob(self.grid.points.double()), self.grid)
        p = log_p.exp() * self.grid.cell_area
        return torch.cat([p, torch.zeros(1, dtype=p.dtype)])


class SlicedW2:
    """Sliced 2-Wasserstein distance to a fixed reference sample, the same quantity as
    :func:`stanley.learning.evaluation.sliced_wasserstein` but with the projections and the sorted
    reference computed once (the curve is measured at every step), in double precision."""

    def __init__(self, reference: torch.Tensor, directions):
        self.directions = directions
        self.reference = np.sort(reference.double().numpy() @ directions, axis=0)

    def __call__(self, x: torch.Tensor) -> float:
        x = x.double().numpy()
        if x.shape[0] != self.reference.shape[0]:
            raise ValueError("sliced W2 needs samples of the reference's size")
        if not np.isfinite(x).all():
            return math.nan
        return float(np.sqrt(((np.sort(x @ self.directions, axis=0) - self.reference) ** 2).mean()))


def tv(p: torch.Tensor, q: torch.Tensor) -> float:
    return float(0.5 * (p - q).abs().sum())


def rate_table(target: Target, target_name: str, sampler: str, options: Dict[str, Any], chains: int,
               steps: int, start_radius: float, generator: torch.Generator, distance: str = "sw",
               projections: int = 64, limit_steps: int = 2000, grid: int = 40) -> pd.DataFrame:
    """One row per transition: gradient evaluations, distance to the target and to the limit."""
    if distance not in DISTANCES:
        raise unknown("rate distance", distance, DISTANCES)
    if distance == "tv" and target.dim != 2:
        raise ConfigError(f"rate: distance tv needs a 2-D target; {target_name!r} has dim {target.dim}; use sw")
    for key, value in (("chains", chains), ("steps", steps), ("projections", projections), ("grid", grid)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise ConfigError(f"rate: {key} must be an integer >= 2, got {value!r}")
    if chains < 4 * GROUPS:
        raise ConfigError(f"rate: chains must be at least {4 * GROUPS} (the rate test splits them into "
                          f"{GROUPS} groups), got {chains}")
    kernel = samplers.get(sampler, target.log_prob, **options)
    n_steps = samplers.steps_for_budget(kernel, steps)
    exact = target.sample(2 * chains, generator).double()
    ref_a, ref_b = exact[:chains], exact[chains:]

    if distance == "sw":
        directions = torch.randn(target.dim, projections, generator=torch.Generator().manual_seed(SW_SEED))
        directions = (directions / directions.norm(dim=0, keepdim=True)).double().numpy()
        measure = lambda ref: SlicedW2(ref, directions)  # noqa: E731
        against_target = measure(ref_a)
    else:
        hist = Histogram(target.extent * 1.25, grid)
        p_target = hist.of_density(target)
        measure = lambda ref: (lambda x, q=hist.of_samples(ref): tv(hist.of_samples(x), q))  # noqa: E731
        against_target = lambda x: tv(hist.of_samples(x), p_target)  # noqa: E731
    floor_target = against_target(ref_b)
    size = chains // GROUPS
    groups = [slice(g * size, (g + 1) * size) for g in range(GROUPS)]

    with torch.no_grad():
        if exact_limit(kernel):
            lim_a, lim_b, bias = ref_a, ref_b, math.nan
            against_limit, floor_limit = against_target, floor_target
        else:
            state = kernel.init(exact)
            for _ in range(samplers.steps_for_budget(kernel, limit_steps)):
                state, _ = kernel.step(state, generator)
            lim_a, lim_b = state.z[:chains], state.z[chains:]
            against_limit = measure(lim_a)
            floor_limit, bias = against_limit(lim_b), against_target(lim_b)
        # each group against its own share of the limit sample; its floor from the other half
        group_limit = [measure(lim_a[g]) for g in groups]
        group_floor = np.array([against(lim_b[g]) for against, g in zip(group_limit, groups)])

        direction = torch.ones(target.dim, dtype=torch.float64) / math.sqrt(target.dim)
        state = kernel.init((start_radius * direction).expand(chains, target.dim).clone())
        rows, curves = [], []
        for k in range(n_steps + 1):
            if k:
                state, _ = kernel.step(state, generator)
            rows.append({"step": k, "grad_evals": k * kernel.grad_evals_per_step,
                         "distance_to_target": against_target(state.z),
                         "distance_to_limit": against_limit(state.z)})
            curves.append([against(state.z[g]) for against, g in zip(group_limit, groups)])
    table = pd.DataFrame(rows)
    fit = rate_test(table["grad_evals"].to_numpy(), np.array(curves).T, group_floor)
    table = table.assign(target=target_name, sampler=sampler, distance=distance, chains=chains,
                         start_radius=start_radius, limit=limit_label(kernel), floor_target=floor_target,
                         floor_limit=floor_limit, bias=bias, **fit)
    for key, value in option_columns(sampler, options).items():
        table[key] = value
    return table
