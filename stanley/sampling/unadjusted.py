"""Unadjusted Langevin-type kernels (``langevin``, ``stanley``, ``gd``): move, never reject."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, Tuple

import torch

from .state import LogDensityFn, State, chain_grad_norm, evaluate, normal, reduce_info
from .stepsize import Anisotropic, Isotropic


@dataclass(frozen=True)
class Unadjusted:
    """``z <- z + drift * g(z) + noise * xi``, with (drift, noise) from a step-size rule."""

    logdensity_fn: LogDensityFn
    rule: Isotropic | Anisotropic
    grad_evals_per_step = 1

    def init(self, z: torch.Tensor) -> State:
        return self.rule.prepare(evaluate(self.logdensity_fn, z))

    def transition(self, state: State, generator: torch.Generator) -> Tuple[State, Dict[str, torch.Tensor]]:
        """One step, its info per chain (reduced by the caller: once per call in ``sample``)."""
        drift, noise, info = self.rule.coefficients(state)
        move = drift * state.grad
        if self.rule.noise_scale > 0:
            move = move + noise * normal(state.z, generator)
        new = replace(evaluate(self.logdensity_fn, state.z + move), gamma=state.gamma)
        return new, {"grad_norm": chain_grad_norm(new), **info}

    def step(self, state: State, generator: torch.Generator) -> Tuple[State, Dict[str, torch.Tensor]]:
        new, info = self.transition(state, generator)
        return new, reduce_info(info)
