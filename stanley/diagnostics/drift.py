"""Monte Carlo estimate of the drift ratio ``Pi V(z) / V(z)`` of one kernel, in log space.

Theorem 1 uses ``V = c pi^(-beta)``, ``beta in (0, 1)``. The kernels here do not all target
``pi``: the accept/reject ones (``mala``, ``stanley_mh``, ``hmc``) target ``pi^(1/T)`` with
``T = noise_scale**2``, and the unadjusted ones (``langevin``, ``stanley``) approximate it, so V
is built from that density: ``log V = -(beta / T) (log pi - max log pi)`` (``c`` makes
``V >= 1``). ``gd`` has no noise and no target; it gets ``T = 1``.

V overflows for any interesting z, so the estimator never leaves log space: the mean over M
one-step transitions is a log-sum-exp, and its standard error comes from the delta method on
the shifted weights. For the accept/reject kernels with an explicit proposal
(:class:`samplers.MetropolisAdjusted`) the accept step is integrated out (Rao-Blackwellised):
each proposal y contributes ``alpha V(y) + (1 - alpha) V(z)``. HMC exposes no proposal, so it
gets the plain estimator over full transitions (writing the leapfrog endpoint here would copy
:mod:`samplers.hmc`).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, Sequence, Tuple

import pandas as pd
import torch

from .. import samplers
from ..errors import ConfigError
from ..samplers.state import State
from ..targets import Target
from .probes import probes

LogV = Callable[[State], torch.Tensor]
"""log V at a batch of evaluated states (so V may reuse ``state.logp``)."""

MAX_CHAINS = 1 << 17  # chains per batch: bounds memory for networks, irrelevant for toys


def kernel_temperature(kernel) -> float:
    """The T such that the kernel targets (or approximates) ``pi^(1/T)``."""
    eps = kernel.noise_scale if hasattr(kernel, "noise_scale") else kernel.rule.noise_scale
    return float(eps) ** 2 if eps > 0 else 1.0


def check_beta(beta: float) -> float:
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not 0 < beta < 1:
        raise ConfigError(f"beta must be a number in (0, 1) (Theorem 1's V = c pi^-beta), got {beta!r}")
    return float(beta)


def target_log_v(target: Target, beta: float, temperature: float, reference: torch.Tensor) -> LogV:
    """``log V = -(beta / T) (log pi - max log pi)``, the max taken over ``reference`` points."""
    top = float(target.log_prob(reference).max())
    scale = check_beta(beta) / temperature
    return lambda state: -scale * (state.logp - top)


def _log1mexp(log_alpha: torch.Tensor) -> torch.Tensor:
    """log(1 - alpha) for log alpha <= 0 (-inf where alpha = 1)."""
    return torch.log(-torch.expm1(log_alpha))


def transition_log_weights(kernel, state: State, log_v: LogV, generator: torch.Generator,
                           rao_blackwell: bool) -> torch.Tensor:
    """log(V(next) / V(z)) per chain for one transition (Rao-Blackwellised if asked and possible)."""
    start = log_v(state)
    if rao_blackwell and hasattr(kernel, "propose"):
        proposal, log_alpha, _ = kernel.propose(state, generator)
        moved = log_v(proposal) - start
        accepted = torch.where(log_alpha > -math.inf, log_alpha + moved, torch.full_like(moved, -math.inf))
        log_w = torch.logaddexp(accepted, _log1mexp(log_alpha))
    else:
        new, _ = kernel.step(state, generator)
        log_w = log_v(new) - start
    return torch.nan_to_num(log_w, nan=math.inf)  # a chain that left the reals counts as V = inf


def log_mean_exp(log_w: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Row-wise log of the mean of exp(log_w), its delta-method standard error, and the
    weights' effective sample size ``(sum w)^2 / sum w^2``.

    The standard error assumes the weights have a finite variance. A weight ESS of a few
    (one transition carries the mean) says they do not, or barely: then ``Pi V`` may be
    infinite and the estimate describes typical transitions only. That happens whenever V
    grows faster than a Gaussian proposal decays, e.g. ``V = pi^(-beta)`` for light tails
    exp(-|z|^4) under any unadjusted kernel."""
    top = log_w.max(dim=1, keepdim=True).values
    finite = torch.isfinite(top)
    w = torch.exp(log_w - torch.where(finite, top, torch.zeros_like(top)))
    mean = w.mean(dim=1)
    estimate = torch.where(finite[:, 0], top[:, 0] + torch.log(mean), top[:, 0])
    se = w.std(dim=1) / (math.sqrt(log_w.shape[1]) * mean)
    se = torch.where(finite[:, 0], se, torch.full_like(se, math.nan))
    ess = w.sum(dim=1) ** 2 / (w * w).sum(dim=1)
    return estimate, se, torch.where(finite[:, 0], ess, torch.full_like(ess, math.nan))


@torch.no_grad()
def estimate_log_ratio(kernel, log_v: LogV, points: torch.Tensor, samples: int, generator: torch.Generator,
                       rao_blackwell: bool = True) -> Dict[str, torch.Tensor]:
    """At each point: ``log_ratio`` = log Pi V(z) / V(z), its standard error ``se``, the
    weights' effective sample size ``weight_ess`` and ``log_v`` = log V(z).

    Each point is copied into ``samples`` chains, which take one transition together.
    """
    if samples < 2:
        raise ConfigError(f"samples must be an integer >= 2 (a standard error needs two), got {samples!r}")
    per_batch = max(1, MAX_CHAINS // samples)
    parts: Dict[str, list] = {"log_ratio": [], "se": [], "weight_ess": [], "log_v": []}
    for i in range(0, len(points), per_batch):
        chunk = points[i:i + per_batch]
        state = kernel.init(chunk.repeat_interleave(samples, dim=0))
        log_w = transition_log_weights(kernel, state, log_v, generator, rao_blackwell)
        for key, value in zip(parts, (*log_mean_exp(log_w.view(len(chunk), samples)), log_v(kernel.init(chunk)))):
            parts[key].append(value)
    return {key: torch.cat(values) for key, values in parts.items()}


def estimator_name(kernel, rao_blackwell: bool) -> str:
    return "rao-blackwellised" if rao_blackwell and hasattr(kernel, "propose") else "plain"


def option_columns(sampler: str, options: Dict[str, Any]) -> Dict[str, Any]:
    """The sampler's full option set (defaults filled in), for the tables."""
    return {**samplers.OPTIONS[sampler], **options}


def drift_table(target: Target, target_name: str, sampler: str, options: Dict[str, Any], beta: float,
                radii: Sequence[float], directions: int, samples: int, generator: torch.Generator,
                rao_blackwell: bool = True) -> pd.DataFrame:
    """One row per (radius, direction): the point, log V, the log ratio and its standard error."""
    kernel = samplers.get(sampler, target.log_prob, **options)
    temperature = kernel_temperature(kernel)
    grid = probes(target.dim, radii, directions)
    reference = torch.cat([grid.points, torch.zeros(1, target.dim, dtype=torch.float64),
                           target.sample(4096, generator).double()])
    log_v = target_log_v(target, beta, temperature, reference)
    measured = estimate_log_ratio(kernel, log_v, grid.points, samples, generator, rao_blackwell)
    table = pd.DataFrame({
        "target": target_name, "sampler": sampler, "beta": beta, "temperature": temperature,
        "estimator": estimator_name(kernel, rao_blackwell), "samples": samples,
        "radius": grid.radius.numpy(), "direction": grid.direction.numpy(),
        **{f"z{j}": grid.points[:, j].numpy() for j in range(target.dim)},
        **{key: value.numpy() for key, value in measured.items()},
    })
    for key, value in option_columns(sampler, options).items():
        table[key] = value
    return table

