"""MCMC kernels for batches of chains, in BlackJAX's pattern.

``kernel = get(name, logdensity_fn, **options)``, then ``state = kernel.init(z)`` and
``state, info = kernel.step(state, generator)``. :func:`sample` runs a kernel for a budget
of gradient evaluations, the unit in which every sampler is compared (HMC spends it as
transitions x leapfrog steps).

=============  ===============================================  =========================
name           update                                           paper name
=============  ===============================================  =========================
langevin       z + (s/2) g + sqrt(s) eps xi                     Langevin ("vanilla")
stanley        same, per-coordinate step s * gamma(z)           STANLEY (eqs. 4-5)
mala           langevin proposal + Metropolis-Hastings          MH
stanley_mh     stanley proposal + Metropolis-Hastings           Theorem 1's kernel
hmc            leapfrog (h = sqrt(s) eps) + Metropolis-Hastings HMC
gd             z + (s/2) g                                      GD without noise
=============  ===============================================  =========================
"""

from __future__ import annotations

import math
from typing import Any, Dict, Tuple

import torch

from ..errors import ConfigError, unknown
from .hmc import HMC
from .metropolis import MetropolisAdjusted
from .state import LogDensityFn, State, evaluate, reduce_info
from .stepsize import DRIFTS, NOISE_POWERS, NORMS, REFRESHES, Anisotropic, Isotropic
from .unadjusted import Unadjusted

_LANGEVIN = {"step_size": 0.1, "noise_scale": 1.0}
_STANLEY = {
    **_LANGEVIN,
    "threshold": 0.01,
    "norm": "coordinate",
    "noise_power": 0.5,
    "drift": "scaled",
    "refresh": "step",
}

OPTIONS: Dict[str, Dict[str, Any]] = {
    "langevin": dict(_LANGEVIN),
    "stanley": dict(_STANLEY),
    "mala": dict(_LANGEVIN),
    "stanley_mh": dict(_STANLEY),
    "hmc": {**_LANGEVIN, "leapfrog": 5},
    "gd": {"step_size": 0.1},
}
"""Each sampler's options and their defaults (the paper's text for the STANLEY switches)."""

NAMES = tuple(OPTIONS)
ALL_OPTIONS = sorted({key for options in OPTIONS.values() for key in options})


def _check(name: str, options: Dict[str, Any]) -> Dict[str, Any]:
    if name not in OPTIONS:
        raise unknown("sampler", name, NAMES)
    for key in options:
        if key not in OPTIONS[name]:
            raise unknown(f"option for sampler {name!r}:", key, OPTIONS[name])
    merged = {**OPTIONS[name], **options}

    def positive(key: str, allow_zero: bool = False) -> None:
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not (
            value >= 0 if allow_zero else value > 0
        ):
            bound = ">= 0" if allow_zero else "> 0"
            raise ConfigError(f"sampler {name!r}: {key} must be a finite number {bound}, got {value!r}")

    def one_of(key: str, allowed) -> None:
        if merged[key] not in allowed:
            raise ConfigError(
                f"sampler {name!r}: {key} must be one of {', '.join(map(str, allowed))}, got {merged[key]!r}"
            )

    positive("step_size")
    if "noise_scale" in merged:
        # accept/reject kernels target pi^(1/eps^2): eps = 0 has no target
        positive("noise_scale", allow_zero=name in ("langevin", "stanley"))
    if "threshold" in merged:
        positive("threshold")
        one_of("norm", NORMS)
        one_of("noise_power", NOISE_POWERS)
        one_of("drift", DRIFTS)
        one_of("refresh", REFRESHES)
    if "leapfrog" in merged:
        value = merged["leapfrog"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"sampler {name!r}: leapfrog must be an integer >= 1, got {value!r}")
    return merged


def get(name: str, logdensity_fn: LogDensityFn, **options: Any):
    """A kernel by its registry name; unknown names and options raise :class:`ConfigError`."""
    o = _check(name, options)
    if name == "hmc":
        return HMC(logdensity_fn, o["step_size"], o["noise_scale"], o["leapfrog"])
    if name == "gd":
        return Unadjusted(logdensity_fn, Isotropic(o["step_size"], 0.0))
    if name in ("stanley", "stanley_mh"):
        rule = Anisotropic(
            o["step_size"], o["noise_scale"], o["threshold"], o["norm"], float(o["noise_power"]),
            o["drift"], o["refresh"],
        )
    else:
        rule = Isotropic(o["step_size"], o["noise_scale"])
    return (MetropolisAdjusted if name in ("mala", "stanley_mh") else Unadjusted)(logdensity_fn, rule)


def options_for(name: str, pool: Dict[str, Any]) -> Dict[str, Any]:
    """The subset of a shared option pool that sampler ``name`` takes."""
    if name not in OPTIONS:
        raise unknown("sampler", name, NAMES)
    return {key: value for key, value in pool.items() if key in OPTIONS[name]}


def steps_for_budget(kernel, budget: int) -> int:
    """Transitions that spend exactly ``budget`` gradient evaluations."""
    per_step = kernel.grad_evals_per_step
    if budget < per_step or budget % per_step:
        raise ConfigError(
            f"a budget of {budget} gradient evaluations is not a whole number of transitions of "
            f"{per_step} evaluations each; choose K (mcmc_steps) as a multiple of leapfrog"
        )
    return budget // per_step


def sample(
    kernel, z: torch.Tensor, budget: int, generator: torch.Generator, groups: int = 0
) -> Tuple[State, Dict[str, torch.Tensor]]:
    """Run chains from ``z`` for ``budget`` gradient evaluations.

    Returns the final state and each info key stacked over transitions (tensors, so the loop
    never waits on the device): the kernels' per-chain info is kept and reduced once, at the
    end, to shape (transitions,), or (transitions, groups) when the chains are ``groups`` equal
    blocks (the runs of a batch, :mod:`stanley.batched`).
    """
    n_steps = steps_for_budget(kernel, budget)
    state = kernel.init(z)
    records = []
    for _ in range(n_steps):
        state, info = kernel.transition(state, generator)
        records.append(info)
    return state, reduce_info({key: torch.stack([r[key] for r in records]) for key in records[0]}, groups)


__all__ = [
    "ALL_OPTIONS", "HMC", "MetropolisAdjusted", "NAMES", "OPTIONS", "State", "Unadjusted",
    "evaluate", "get", "options_for", "sample", "steps_for_budget",
]
