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

Two guards keep an estimate from speaking where it cannot. Where ``Pi V`` is infinite by the
target's tails (:func:`pi_v_infinite`) nothing is estimated. Elsewhere the estimate comes with
what the verdict needs to judge its reliability: the weights' effective sample size and the
estimates from the first ``M/16`` and ``M/4`` of the ``M`` transitions (an infinite-variance
mean keeps moving as M grows; a sound one agrees within its standard errors).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, Sequence, Tuple

import pandas as pd
import torch

from ..sampling import samplers
from ..errors import ConfigError
from ..sampling.state import State
from ..sampling.targets import Target
from .probes import probes
from .verdicts import SUBSETS

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


def pi_v_infinite(kernel, target: Target, beta: float, temperature: float, points: torch.Tensor) -> torch.Tensor:
    """Per point: is ``Pi V(z)`` infinite for this unadjusted kernel, by the target's tails?

    An unadjusted kernel moves to ``y ~ N(m(z), D(z))``, D diagonal with positive entries, so
    ``Pi V(z) = c int N(y; m, D) exp((beta/T)(-log pi(y))) dy``. If ``-log pi`` grows like
    ``|y|^q`` along some ray, the integrand there is ``exp((beta/T) a |y|^q - |y|^2 / (2 d) + O(|y|))``:
    infinite for every z when ``q > 2`` (light tails, the banana's arms: no Gaussian decays
    fast enough), finite when ``q < 2``. At ``q = 2`` with ``-log pi = y'Py/2 + O(|y|)`` the
    exponent's quadratic part is ``y'((beta/T) P - D^-1)y/2``: infinite iff ``(beta/T)
    lambda_max(D^1/2 P D^1/2) > 1`` (equality is left to the estimate). Where ``Pi V(z) = inf``
    the inequality ``Pi V <= mu V + delta 1_O`` fails at z for every mu, delta and O. The
    accept/reject kernels are not covered (their accept step weighs V(y) by pi(y), Theorem 1's
    proof), nor ``gd`` (deterministic, ``Pi V(z) = V(m(z))``), nor targets of unknown tails.
    """
    infinite = torch.zeros(len(points), dtype=torch.bool)
    power = getattr(target, "tail_power", None)
    if not isinstance(kernel, samplers.Unadjusted) or kernel.rule.noise_scale == 0 or power is None or power < 2:
        return infinite
    if power > 2:
        return ~infinite
    _, noise, _ = kernel.rule.coefficients(kernel.init(points))
    std = torch.as_tensor(noise, dtype=points.dtype).expand_as(points)
    precision = target.tail_precision.to(points.dtype)
    scaled = std[:, :, None] * precision * std[:, None, :]  # D^1/2 P D^1/2 per point
    return check_beta(beta) / temperature * torch.linalg.eigvalsh(scaled)[:, -1] > 1


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
    infinite and the estimate describes typical transitions only (where the target's tails
    decide it, :func:`pi_v_infinite` says so without estimating)."""
    top = log_w.max(dim=1, keepdim=True).values
    finite = torch.isfinite(top)
    w = torch.exp(log_w - torch.where(finite, top, torch.zeros_like(top)))
    mean = w.mean(dim=1)
    estimate = torch.where(finite[:, 0], top[:, 0] + torch.log(mean), top[:, 0])
    se = w.std(dim=1) / (math.sqrt(log_w.shape[1]) * mean)
    se = torch.where(finite[:, 0], se, torch.full_like(se, math.nan))
    ess = w.sum(dim=1) ** 2 / (w * w).sum(dim=1)
    return estimate, se, torch.where(finite[:, 0], ess, torch.full_like(ess, math.nan))


def summarise_log_weights(log_w: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Per row of log weights log(V(z')/V(z)): the estimate, its standard error, the weight ESS,
    and the estimates from the first 1/N of the columns (N in ``SUBSETS``)."""
    log_ratio, se, ess = log_mean_exp(log_w)
    out = {"log_ratio": log_ratio, "se": se, "weight_ess": ess}
    for n in SUBSETS:
        out[f"log_ratio_m{n}"] = log_mean_exp(log_w[:, : log_w.shape[1] // n])[0]
    return out


@torch.no_grad()
def estimate_log_ratio(kernel, log_v: LogV, points: torch.Tensor, samples: int, generator: torch.Generator,
                       rao_blackwell: bool = True) -> Dict[str, torch.Tensor]:
    """At each point: ``log_ratio`` = log Pi V(z) / V(z), its standard error ``se``, the
    weights' effective sample size ``weight_ess``, ``log_v`` = log V(z), and the estimate from
    the first ``samples // N`` transitions (``log_ratio_mN``, N in ``SUBSETS``), for the stability
    check of :mod:`.verdicts`.

    Each point is copied into ``samples`` chains, which take one transition together.
    """
    if samples < 2 * max(SUBSETS):
        raise ConfigError(f"samples must be an integer >= {2 * max(SUBSETS)} (the stability check estimates "
                          f"from samples/{max(SUBSETS)} transitions, and a standard error needs two), got {samples!r}")
    per_batch = max(1, MAX_CHAINS // samples)
    parts: Dict[str, list] = {}
    for i in range(0, len(points), per_batch):
        chunk = points[i:i + per_batch]
        state = kernel.init(chunk.repeat_interleave(samples, dim=0))
        log_w = transition_log_weights(kernel, state, log_v, generator, rao_blackwell).view(len(chunk), samples)
        for key, value in {**summarise_log_weights(log_w), "log_v": log_v(kernel.init(chunk))}.items():
            parts.setdefault(key, []).append(value)
    return {key: torch.cat(values) for key, values in parts.items()}


def estimator_name(kernel, rao_blackwell: bool) -> str:
    return "rao-blackwellised" if rao_blackwell and hasattr(kernel, "propose") else "plain"


def option_columns(sampler: str, options: Dict[str, Any]) -> Dict[str, Any]:
    """The sampler's full option set (defaults filled in), for the tables."""
    return {**samplers.OPTIONS[sampler], **options}


def drift_table(target: Target, target_name: str, sampler: str, options: Dict[str, Any], beta: float,
                radii: Sequence[float], directions: int, samples: int, generator: torch.Generator,
                rao_blackwell: bool = True, analytic: bool = True) -> pd.DataFrame:
    """One row per (radius, direction): the point, log V, the log ratio and its standard error.

    Where ``Pi V`` is infinite by :func:`pi_v_infinite` (column ``pi_v_infinite``) the log ratio
    is +inf and nothing is estimated, unless ``analytic=False`` (to look at typical transitions).
    """
    kernel = samplers.get(sampler, target.log_prob, **options)
    temperature = kernel_temperature(kernel)
    grid = probes(target.dim, radii, directions)
    reference = torch.cat([grid.points, torch.zeros(1, target.dim, dtype=torch.float64),
                           target.sample(4096, generator).double()])
    log_v = target_log_v(target, beta, temperature, reference)
    infinite = pi_v_infinite(kernel, target, beta, temperature, grid.points)
    estimate = ~infinite if analytic else torch.ones_like(infinite)
    measured = {key: torch.full((len(grid.points),), math.inf if key.startswith("log_ratio") else math.nan,
                                dtype=torch.float64)
                for key in ("log_ratio", "se", "weight_ess", *(f"log_ratio_m{n}" for n in SUBSETS))}
    measured["log_v"] = log_v(kernel.init(grid.points)).double()
    if estimate.any():
        found = estimate_log_ratio(kernel, log_v, grid.points[estimate], samples, generator, rao_blackwell)
        for key, value in found.items():
            measured[key][estimate] = value.double()
    table = pd.DataFrame({
        "target": target_name, "sampler": sampler, "beta": beta, "temperature": temperature,
        "estimator": estimator_name(kernel, rao_blackwell), "samples": samples,
        "radius": grid.radius.numpy(), "direction": grid.direction.numpy(),
        **{f"z{j}": grid.points[:, j].numpy() for j in range(target.dim)},
        **{key: value.numpy() for key, value in measured.items()},
        "pi_v_infinite": infinite.numpy(),
    })
    for key, value in option_columns(sampler, options).items():
        table[key] = value
    return table

