"""Improved Contrastive Divergence (Du, Li, Tenenbaum, Mordatch 2021, Algorithm 1),
with any of our samplers as its MCMC kernel.

On top of the short-run trainer's contrastive loss it adds, each one a switch of the run
config's ``improved_cd`` block:

- a replay buffer of past chain ends: chains restart from it, and from p0 noise at the rate
  ``restart`` (0.1% in the paper's text and code; its Algorithm 1 box says 1%);
- data-augmentation transitions (:mod:`stanley.learning.augment`) on the buffer samples before the chains run;
- the KL term's ``L_opt``: the energy of the chain end, with the parameters frozen, through the
  *last* sampler step only (the earlier steps are cut from the graph, as the paper does);
- the KL term's ``L_ent``: a nearest-neighbour entropy estimate of the chain ends against
  ``entropy_samples`` past samples from the buffer;
- a multi-scale energy (:class:`stanley.learning.models.MultiScale`, built by the trainer);
- EMA weights for evaluation.

Sign convention: ``f = -E`` (our networks return the negative energy), so ``L_opt = -f(x_hat)``.
Weights follow the authors' code: ``kl_weight`` 1, ``entropy_weight`` 0.3 (the paper gives none).
With every component off the trainer is the plain short-run trainer, bit for bit.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any, Dict, Optional, Tuple

import torch
from torch.func import functional_call

from . import augment
from ..sampling import samplers
from ..experiment.options import IMPROVED_CD as DEFAULTS  # noqa: F401 (torch-free, for config)
from ..sampling.state import State


class WithGraph:
    """``f`` and ``grad_z f`` with the graph to the network's parameters kept.

    A kernel built on it (:func:`samplers.state.evaluate` honours ``differentiable``) makes a
    step the learning gradient flows through: Algorithm 1's last step, the one ``L_opt`` needs.
    """

    differentiable = True

    def __init__(self, net: torch.nn.Module):
        self.net = net

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    def value_and_grad(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        with torch.enable_grad():
            point = z if z.requires_grad else z.detach().requires_grad_(True)
            logp = self.net(point)
            (grad,) = torch.autograd.grad(logp.sum(), point, create_graph=True)
        return logp, grad


def sample_through_last_step(kernel, net: torch.nn.Module, z: torch.Tensor, budget: int,
                             generator: torch.Generator) -> Tuple[State, Dict[str, torch.Tensor]]:
    """``samplers.sample`` whose last transition keeps the graph to ``net``'s parameters.

    The chain and its random draws are those of ``samplers.sample(kernel, z, budget, ...)``;
    re-evaluating the gradient at the start of the last transition with its graph costs one
    gradient evaluation more than the budget.
    """
    head = budget - kernel.grad_evals_per_step
    if head > 0:
        state, info = samplers.sample(kernel, z, head, generator)
    else:
        samplers.steps_for_budget(kernel, budget)  # the same error for a bad budget
        state, info = kernel.init(z), {}
    graph = WithGraph(net)
    logp, grad = graph.value_and_grad(state.z)
    final, last = replace(kernel, logdensity_fn=graph).step(replace(state, logp=logp, grad=grad), generator)
    last = {key: value.detach()[None] for key, value in last.items()}
    return final, {key: torch.cat([info[key], last[key]]) if key in info else last[key] for key in last}


def energy_with_frozen_parameters(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``f_{stop-grad(theta)}(x)``: gradients reach the parameters only through ``x``."""
    frozen = {name: p.detach() for name, p in net.named_parameters()}
    return functional_call(net, frozen, (x,))


def nearest_neighbour_entropy_loss(x: torch.Tensor, reference: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``L_ent = mean_i -log NN(x_i, X)``, the Kozachenko-Leonenko entropy estimate up to constants.

    ``X`` is ``reference`` (past samples), else the batch itself without each point's own
    distance. It grows as samples collapse onto each other; scaling every point by c lowers it
    by exactly log c.
    """
    a = x.flatten(1)
    b = a.detach() if reference is None else reference.flatten(1).to(a)
    d2 = (a[:, None, :] - b[None, :, :]).pow(2).sum(-1)
    if reference is None:
        d2 = d2 + torch.diag(torch.full((len(a),), float("inf"), device=a.device, dtype=a.dtype))
    return -0.5 * torch.log(d2.min(dim=1).values.clamp_min(1e-24)).mean()


class ReplayBuffer:
    """The last ``capacity`` chain ends (first in, first out), on the training device."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.store: Optional[torch.Tensor] = None
        self.size = 0
        self.next = 0

    def __len__(self) -> int:
        return self.size

    def add(self, z: torch.Tensor) -> None:
        z = z.detach()
        if self.store is None:
            self.store = torch.empty((self.capacity, *z.shape[1:]), dtype=z.dtype, device=z.device)
        for start in range(0, len(z), self.capacity):  # a batch larger than the buffer keeps its end
            part = z[start:start + self.capacity]
            index = (self.next + torch.arange(len(part), device=z.device)) % self.capacity
            self.store[index] = part
            self.next = (self.next + len(part)) % self.capacity
            self.size = min(self.size + len(part), self.capacity)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        index = torch.randint(self.size, (n,), generator=generator, device=generator.device)
        return self.store[index.to(self.store.device)]

    def state_dict(self) -> Dict[str, Any]:
        store = None if self.store is None else self.store[: self.size].cpu()
        return {"store": store, "size": self.size, "next": self.next}

    def load_state_dict(self, state: Dict[str, Any], device: torch.device) -> None:
        self.size, self.next = state["size"], state["next"]
        if state["store"] is None:
            self.store = None
            return
        stored = state["store"].to(device)
        self.store = torch.empty((self.capacity, *stored.shape[1:]), dtype=stored.dtype, device=device)
        self.store[: len(stored)] = stored


class EMA:
    """Exponential moving average of the weights, the network Du et al. evaluate."""

    def __init__(self, net: torch.nn.Module, decay: float):
        self.decay = decay
        self.net = copy.deepcopy(net).requires_grad_(False)

    @torch.no_grad()
    def update(self, net: torch.nn.Module) -> None:
        for mine, theirs in zip(self.net.parameters(), net.parameters()):
            mine.lerp_(theirs, 1.0 - self.decay)


class ImprovedCD:
    """The pieces Improved CD's Algorithm 1 adds to a short-run trainer, each one switchable."""

    def __init__(self, spec: Dict[str, Any], net: torch.nn.Module, images: bool):
        self.spec = spec
        self.buffer = ReplayBuffer(spec["buffer_size"]) if spec["buffer_size"] else None
        self.ops = augment.check(spec["augment"]) if images else ()
        self.ema = EMA(net, spec["ema"]) if spec["ema"] else None

    @property
    def differentiable_last_step(self) -> bool:
        """Both KL terms reach the parameters through the last sampler step."""
        return bool(self.spec["kl"] or self.spec["entropy"])

    def starts(self, fresh: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Buffer samples (augmented), restarted from ``fresh`` p0 draws at the configured rate."""
        n = len(fresh)
        if self.buffer is None or len(self.buffer) < n:
            return fresh
        replay = augment.augment(self.buffer.sample(n, generator), self.ops, generator)
        restart = torch.rand(n, generator=generator, device=generator.device) < self.spec["restart"]
        return torch.where(restart.to(fresh.device).view(-1, *([1] * (fresh.dim() - 1))), fresh, replay)

    def kl_terms(self, net: torch.nn.Module, x_hat: torch.Tensor,
                 generator: torch.Generator) -> Dict[str, torch.Tensor]:
        """The weighted ``L_opt`` and ``L_ent`` of this iteration's chain ends (those switched on)."""
        terms: Dict[str, torch.Tensor] = {}
        if self.spec["kl"]:
            terms["kl_loss"] = -self.spec["kl_weight"] * energy_with_frozen_parameters(net, x_hat).mean()
        if self.spec["entropy"]:
            k = self.spec["entropy_samples"]
            reference = self.buffer.sample(k, generator) if self.buffer is not None and len(self.buffer) >= k else None
            terms["entropy_loss"] = self.spec["entropy_weight"] * nearest_neighbour_entropy_loss(x_hat, reference)
        return terms

    def after_step(self, chain_ends: torch.Tensor, net: torch.nn.Module) -> None:
        if self.buffer is not None:
            self.buffer.add(chain_ends)
        if self.ema is not None:
            self.ema.update(net)

    def eval_net(self, net: torch.nn.Module) -> torch.nn.Module:
        return self.ema.net if self.ema is not None else net

    def state_dict(self) -> Dict[str, Any]:
        return {"buffer": None if self.buffer is None else self.buffer.state_dict(),
                "ema": None if self.ema is None else self.ema.net.state_dict()}

    def load_state_dict(self, state: Dict[str, Any], device: torch.device) -> None:
        if self.buffer is not None:
            self.buffer.load_state_dict(state["buffer"], device)
        if self.ema is not None:
            self.ema.net.load_state_dict(state["ema"])
