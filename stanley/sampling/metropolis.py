"""Metropolis-adjusted Langevin-type kernels (``mala``, ``stanley_mh``).

The chains target ``pi^(1/T)`` with ``T = noise_scale**2``: the temperature at which the
unadjusted proposal is an exact Langevin discretisation, so ``noise_scale = 1`` is textbook
MALA on ``pi`` and the same (s, eps) as the unadjusted kernel give its corrected twin.
STANLEY's proposal covariance depends on the point, so the reverse density uses gamma at the
proposal (the kernel of Theorem 1's proof). A gamma frozen at the chain start
(``refresh="iteration"``) has no such correction and is refused by :func:`stanley.sampling.samplers.get`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Dict, Tuple

import torch

from .state import (
    LogDensityFn,
    State,
    chain_grad_norm,
    evaluate,
    normal,
    per_chain_sum,
    reduce_info,
    uniform,
)
from .stepsize import Anisotropic, Isotropic


def gaussian_log_density(x: torch.Tensor, mean: torch.Tensor, std) -> torch.Tensor:
    """log N(x; mean, diag(std^2)) per chain, without the 2 pi constant (it cancels)."""
    if not isinstance(std, torch.Tensor):  # one scale for all coordinates: half the ops of the general form
        return per_chain_sum((x - mean).square()) * (-0.5 / std**2) - x[0].numel() * math.log(std)
    std = std.expand_as(x)
    return per_chain_sum(-0.5 * ((x - mean) / std) ** 2 - torch.log(std))


def metropolis_accept(
    state: State, proposal: State, log_alpha: torch.Tensor, generator: torch.Generator
) -> Tuple[State, torch.Tensor]:
    """Accept each chain's proposal with probability ``exp(log_alpha)``."""
    u = uniform(log_alpha, generator)
    accepted = torch.log(u) < log_alpha
    return state.where(accepted, proposal), accepted


@dataclass(frozen=True)
class MetropolisAdjusted:
    logdensity_fn: LogDensityFn
    rule: Isotropic | Anisotropic
    grad_evals_per_step = 1

    @property
    def temperature(self) -> float:
        return self.rule.noise_scale**2

    def init(self, z: torch.Tensor) -> State:
        return self.rule.prepare(evaluate(self.logdensity_fn, z))

    def propose(
        self, state: State, generator: torch.Generator
    ) -> Tuple[State, torch.Tensor, Dict[str, torch.Tensor]]:
        """One proposal, its log acceptance probability and the rule's info (per chain).

        Public so that diagnostics can Rao-Blackwellise over the accept step.
        """
        drift, noise, info = self.rule.coefficients(state)
        xi = normal(state.z, generator)
        forward_mean = state.z + drift * state.grad
        proposal = replace(evaluate(self.logdensity_fn, forward_mean + noise * xi), gamma=state.gamma)
        back_drift, back_noise, _ = self.rule.coefficients(proposal)
        log_forward = gaussian_log_density(proposal.z, forward_mean, noise)
        log_backward = gaussian_log_density(state.z, proposal.z + back_drift * proposal.grad, back_noise)
        log_alpha = (proposal.logp - state.logp) / self.temperature + log_backward - log_forward
        return proposal, torch.nan_to_num(log_alpha, nan=-math.inf).clamp(max=0.0), info

    def transition(self, state: State, generator: torch.Generator) -> Tuple[State, Dict[str, torch.Tensor]]:
        """One step, its info per chain (reduced by the caller: once per call in ``sample``)."""
        proposal, log_alpha, info = self.propose(state, generator)
        new, accepted = metropolis_accept(state, proposal, log_alpha, generator)
        return new, {"grad_norm": chain_grad_norm(new), "acceptance": accepted, **info}

    def step(self, state: State, generator: torch.Generator) -> Tuple[State, Dict[str, torch.Tensor]]:
        new, info = self.transition(state, generator)
        return new, reduce_info(info)
