"""One update of Algorithm 1 (short-run, non-persistent by default), and what it draws from.

Each iteration draws a data batch (plus Gaussian data noise), fresh chain starts from p0,
runs K sampler steps on ``f_theta``, and takes one optimiser step on
``f(z).mean() - f(x).mean()`` (z detached): the paper's learning gradient, step 9.
``training.scheme: improved_cd`` adds Du et al.'s Improved CD pieces (:mod:`stanley.learning.improved_cd`).

The step knows nothing of schedules or files: :class:`stanley.learning.training.Trainer` decides
when to evaluate and what to write; :mod:`stanley.learning.batched` runs the sampling of many
steps as one computation and hands each its chain ends (:meth:`LearningStep.learn`).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import torch

from . import models, optim
from ..errors import ConfigError
from ..images import data
from ..sampling import samplers, targets
from .improved_cd import ImprovedCD, sample_through_last_step


class ChainStarts:
    """p0: fresh Gaussian or uniform noise, or a persistent bank with random restarts."""

    def __init__(self, training: Dict[str, Any], shape: tuple, device: torch.device):
        self.kind = training["init"]
        self.scale = training["init_scale"]
        self.n = training["n_chains"]
        self.shape, self.device = tuple(shape), device
        self.reinit_prob = training["reinit_prob"]
        self.bank: Optional[torch.Tensor] = None
        self.index: Optional[torch.Tensor] = None
        if self.kind == "persistent":
            self.size = training["persistent_size"]
            if self.size < self.n:
                raise ConfigError("training.persistent_size must be at least training.n_chains")

    def noise(self, n: int, generator: torch.Generator) -> torch.Tensor:
        if self.kind == "uniform":
            u = torch.rand((n, *self.shape), generator=generator, device=self.device)
            return self.scale * (2 * u - 1)
        return self.scale * torch.randn((n, *self.shape), generator=generator, device=self.device)

    def draw(self, generator: torch.Generator, n: Optional[int] = None) -> torch.Tensor:
        if self.kind != "persistent" or n is not None:
            return self.noise(n or self.n, generator)
        if self.bank is None:
            self.bank = self.noise(self.size, generator)
        self.index = torch.randint(self.size, (self.n,), generator=generator, device=self.device)
        starts = self.bank[self.index]
        restart = torch.rand(self.n, generator=generator, device=self.device) < self.reinit_prob
        fresh = self.noise(self.n, generator)
        return torch.where(restart.view(-1, *([1] * len(self.shape))), fresh, starts)

    def update(self, z: torch.Tensor) -> None:
        if self.kind == "persistent":
            self.bank[self.index] = z


class ToyData:
    """Training batches drawn exactly from a toy target (the data set is infinite)."""

    def __init__(self, run: Dict[str, Any]):
        self.target = targets.get(run["data"]["name"], **run["data"]["options"])
        self.shape = (self.target.dim,)

    def batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.target.sample(n, generator)


class ImageData:
    """A whole image data set held as uint8 on the training device; batches in [-1, 1]."""

    def __init__(self, run: Dict[str, Any], device: torch.device):
        spec = run["data"]
        if spec["name"] != "shapes":
            data.check(spec["name"], spec["root"])  # a missing data set stops here, before any work
        self.images = data.load(spec["name"], spec["root"], spec["image_size"], split=spec["split"],
                                limit=spec["limit"], seed=run["seed"], verify=spec["verify"],
                                dtype=torch.uint8).to(device)
        self.shape = tuple(self.images.shape[1:])

    def batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        index = torch.randint(len(self.images), (n,), generator=generator)
        return data.to_unit(self.images[index.to(self.images.device)])


def build_optimizer(params, training: Dict[str, Any]) -> optim.Adam | optim.SGD:
    if training["optimizer"] == "adam":
        return optim.Adam(params, lr=training["lr"], betas=training["betas"])
    return optim.SGD(params, lr=training["lr"], momentum=training["momentum"])


def build_model(run: Dict[str, Any], shape: tuple) -> torch.nn.Module:
    """The run's energy network; Improved CD's multi-scale energy sums one per resolution."""
    name, base = run["model"]["name"], dict(run["model"]["options"])

    def network(image_size: int) -> torch.nn.Module:
        options = dict(base)
        if name == "toynet":
            options.setdefault("dim", shape[0])
        if name == "convnet":
            options["image_size"] = image_size
            options.setdefault("channels", shape[0])
        try:
            return models.build(name, **options)
        except TypeError as error:
            raise ConfigError(f"model.options: {error}") from None

    size = base.get("image_size", shape[-1])
    if run["training"]["scheme"] == "improved_cd" and run["improved_cd"]["multiscale"]:
        return models.MultiScale(network, size)
    return network(size)


class LearningStep:
    """The learning state of one run (network, sampler, optimiser, chain starts, its two random
    streams) and one Algorithm 1 update on it; ``eval_net`` is the network evaluation measures
    (the EMA one under Improved CD with ema on)."""

    def __init__(self, run: Dict[str, Any], data_source, device: torch.device):
        self.run, self.data, self.device = run, data_source, device
        torch.manual_seed(run["seed"])  # network initialisation
        self.net = build_model(run, data_source.shape).to(device)
        self.kernel = samplers.get(run["sampler"]["name"], self.net, **run["sampler"]["options"])
        self.improved = (ImprovedCD(run["improved_cd"], self.net, isinstance(data_source, ImageData))
                         if run["training"]["scheme"] == "improved_cd" else None)
        self.eval_net = self.improved.eval_net(self.net) if self.improved else self.net
        self.eval_kernel = (self.kernel if self.eval_net is self.net else
                            samplers.get(run["sampler"]["name"], self.eval_net, **run["sampler"]["options"]))
        self.optimizer = build_optimizer(self.net.parameters(), run["training"])
        self.chains = ChainStarts(run["training"], data_source.shape, device)
        self.data_generator = torch.Generator().manual_seed(run["seed"])
        self.chain_generator = torch.Generator(device).manual_seed(run["seed"] + 1)

    def state_dict(self) -> Dict[str, Any]:
        return {
            "model": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "data_generator": self.data_generator.get_state(),
            "chain_generator": self.chain_generator.get_state(),
            "bank": None if self.chains.bank is None else self.chains.bank.cpu(),
            "improved_cd": self.improved.state_dict() if self.improved else None,
        }

    def load_state_dict(self, payload: Dict[str, Any]) -> None:
        self.net.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.data_generator.set_state(payload["data_generator"])
        self.chain_generator.set_state(payload["chain_generator"])
        if payload["bank"] is not None:
            self.chains.bank = payload["bank"].to(self.device)
        if self.improved:
            self.improved.load_state_dict(payload["improved_cd"], self.device)

    def __call__(self) -> Dict[str, torch.Tensor]:
        """One whole update: draws, K sampler steps, the learning step; the iteration's values."""
        x, z0 = self.starts()
        steps = self.run["training"]["mcmc_steps"]
        if self.improved and self.improved.differentiable_last_step:
            final, info = sample_through_last_step(self.kernel, self.net, z0, steps, self.chain_generator)
        else:
            final, info = samplers.sample(self.kernel, z0, steps, self.chain_generator)
        return self.learn(x, z0, final.z, info)

    def starts(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """An iteration's random draws before sampling: the data batch (plus noise) and the chain starts."""
        training, improved, generator = self.run["training"], self.improved, self.chain_generator
        x = self.data.batch(training["batch_size"], self.data_generator).to(self.device)
        if self.run["data"]["noise"] > 0:
            x = x + self.run["data"]["noise"] * torch.randn(x.shape, generator=generator, device=self.device)
        z0 = self.chains.draw(generator)
        if improved:
            z0 = improved.starts(z0, generator)
        return x, z0

    def learn(self, x: torch.Tensor, z0: torch.Tensor, z: torch.Tensor,
              info: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """The learning step on data ``x`` and the sampler's chain ends ``z`` (started at ``z0``, for
        the chains' movement); the iteration's values."""
        improved = self.improved
        chain_ends = z.detach()
        self.chains.update(chain_ends)
        f_data, f_model = self.net(x).mean(), self.net(chain_ends).mean()
        loss = f_model - f_data
        terms = improved.kl_terms(self.net, z, self.chain_generator) if improved else {}
        total = sum(terms.values(), loss)
        self.optimizer.zero_grad()
        total.backward()
        self.optimizer.step()
        if improved:
            improved.after_step(chain_ends, self.net)
        return {"loss": loss.detach(), "total_loss": total.detach(), "f_data": f_data.detach(),
                "f_model": f_model.detach(), "finite_chains": torch.isfinite(chain_ends).all(),
                "movement": (chain_ends - z0.detach()).abs().mean(),
                **{key: value.detach() for key, value in terms.items()}, **info}

    def divergence(self, values: Dict[str, torch.Tensor]) -> str:
        """Why this iteration counts as diverged, or '' (one host sync per iteration)."""
        bound = self.run["training"]["divergence_bound"]
        gap = (values["f_data"] - values["f_model"]).abs()
        finite = torch.isfinite(values["loss"]) & torch.isfinite(values["total_loss"])
        bad = torch.stack([~finite, ~values["finite_chains"], gap > bound]).tolist()
        reasons = ("non-finite loss", "non-finite chain states",
                   f"energy difference beyond training.divergence_bound = {bound:g}")
        return "; ".join(r for r, b in zip(reasons, bad) if b)
