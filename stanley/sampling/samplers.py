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

from typing import Any, Dict, Tuple

import torch

from ..experiment import readings
from ..errors import ConfigError
from ..experiment.options import ALL_OPTIONS, NAMES, OPTIONS, check_sampler as _check, options_for
from .hmc import HMC
from .metropolis import MetropolisAdjusted
from .state import LogDensityFn, State, evaluate, reduce_info
from .stepsize import Anisotropic, Isotropic
from .unadjusted import Unadjusted


def get(name: str, logdensity_fn: LogDensityFn, **options: Any):
    """A kernel by its registry name; unknown names and options raise :class:`ConfigError`."""
    o = _check(name, options)
    if name == "hmc":
        return HMC(logdensity_fn, o["step_size"], o["noise_scale"], o["leapfrog"])
    if name == "gd":
        return Unadjusted(logdensity_fn, Isotropic(o["step_size"], 0.0))
    if name in ("stanley", "stanley_mh") or name in readings.PINNED:
        rule = Anisotropic(
            o["step_size"], o["noise_scale"], o["threshold"], o["norm"], float(o["noise_power"]),
            o["drift"], o["refresh"], o["noise_sd"],
        )
    else:
        rule = Isotropic(o["step_size"], o["noise_scale"])
    return (MetropolisAdjusted if name in ("mala", "stanley_mh") else Unadjusted)(logdensity_fn, rule)


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
    blocks (the runs of a batch, :mod:`stanley.learning.batched`).
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
