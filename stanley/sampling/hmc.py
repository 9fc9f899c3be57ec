"""Hamiltonian Monte Carlo with a Metropolis accept step (``hmc``).

Same temperature convention as :mod:`.metropolis`: the target is ``pi^(1/T)``, ``T = eps^2``,
and the leapfrog step is ``h = sqrt(s) * eps``, so one leapfrog step is exactly the MALA
proposal with the same (s, eps). A transition costs ``leapfrog`` gradient evaluations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Tuple

import torch

from .metropolis import metropolis_accept
from .state import (
    LogDensityFn,
    State,
    chain_grad_norm,
    evaluate,
    normal,
    per_chain_sum,
    reduce_info,
)

DIVERGENCE = 1000.0  # an energy error beyond this marks a divergent trajectory


@dataclass(frozen=True)
class HMC:
    logdensity_fn: LogDensityFn
    step_size: float
    noise_scale: float
    leapfrog: int

    @property
    def grad_evals_per_step(self) -> int:
        return self.leapfrog

    def init(self, z: torch.Tensor) -> State:
        return evaluate(self.logdensity_fn, z)

    def transition(self, state: State, generator: torch.Generator) -> Tuple[State, Dict[str, torch.Tensor]]:
        """One step, its info per chain (reduced by the caller: once per call in ``sample``)."""
        temperature = self.noise_scale**2
        h = math.sqrt(self.step_size) * self.noise_scale
        p = normal(state.z, generator)
        energy_before = -state.logp / temperature + 0.5 * per_chain_sum(p * p)
        end = state
        p = p + (h / 2) * end.grad / temperature
        for i in range(self.leapfrog):
            end = evaluate(self.logdensity_fn, end.z + h * p)
            p = p + (h if i < self.leapfrog - 1 else h / 2) * end.grad / temperature
        energy_after = -end.logp / temperature + 0.5 * per_chain_sum(p * p)
        error = torch.nan_to_num(energy_after - energy_before, nan=math.inf)
        new, accepted = metropolis_accept(state, end, (-error).clamp(max=0.0), generator)
        return new, {"grad_norm": chain_grad_norm(new), "acceptance": accepted, "divergent": error > DIVERGENCE}

    def step(self, state: State, generator: torch.Generator) -> Tuple[State, Dict[str, torch.Tensor]]:
        new, info = self.transition(state, generator)
        return new, reduce_info(info)
