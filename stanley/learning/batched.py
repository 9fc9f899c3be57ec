"""Many toy runs trained in one process as one computation (``stanley train-batch``).

A toy iteration is 100 chains x K small matrix products: on a CPU each op costs more in
dispatch than in arithmetic. A batch puts the chains of R runs in one tensor and their
networks in stacks (:class:`stanley.learning.models.ToyNetStack`), so a sampler step is one sequence
of ops for all R. Everything else stays each run's own: its :class:`stanley.learning.training.Trainer`
(its learning step's seed, generators and optimiser; its schedule, evaluation, checkpoints
and output directory), and its random draws, which :class:`RunStreams` takes from the run's own generator in the solo
order. So a batched run writes the tables its solo run writes (to float rounding: the
batched products may round differently), and a killed batch resumes each run from its own
checkpoints.

Runs are sampled together when they share what the stacked step needs (:func:`group_key`:
sampler and its options, K, chains, network shape); a batch may hold several such groups.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

import torch

from ..sampling import samplers
from ..experiment.config import data_kind, run_label
from ..errors import ConfigError
from .models import ToyNetStack
from .training import Trainer, claimed


class RunStreams:
    """Random draws for R equal blocks of chains, block r from run r's own generator.

    Each block gets what its solo run's kernel would draw (same shape, same generator, same
    order), which is what makes a batched run equal its solo run.
    """

    def __init__(self, generators: Sequence[torch.Generator]):
        self.generators = tuple(generators)

    def _draw(self, like: torch.Tensor, fill) -> torch.Tensor:
        out = torch.empty_like(like).unflatten(0, (len(self.generators), -1))
        for block, generator in zip(out, self.generators):
            fill(block.shape, generator=generator, out=block)
        return out.flatten(0, 1)

    def normal(self, like: torch.Tensor) -> torch.Tensor:
        return self._draw(like, torch.randn)

    def uniform(self, like: torch.Tensor) -> torch.Tensor:
        return self._draw(like, torch.rand)


def check_batchable(run: Dict[str, Any]) -> None:
    """One clear line when a run cannot join a batch (before any work)."""
    label = run_label(run)
    if data_kind(run["data"]["name"]) != "toy" or run["model"]["name"] != "toynet":
        raise ConfigError(f"{label}: only toy runs (toynet on a toy data set) can be batched; "
                          "train image runs one per job with stanley train")
    if run["training"]["scheme"] != "short_run":
        raise ConfigError(f"{label}: training.scheme {run['training']['scheme']!r} cannot be batched; "
                          "use stanley train for it")


def group_key(run: Dict[str, Any]) -> str:
    """Runs with equal keys are sampled as one computation."""
    training = run["training"]
    return json.dumps([run["sampler"], training["mcmc_steps"], training["n_chains"], run["model"],
                       run["device"], run["data"]["name"]], sort_keys=True)


class Group:
    """Runs sampled together: one stacked network and one kernel over all their chains."""

    def __init__(self, trainers: List[Trainer]):
        self.trainers = trainers
        self.stacks: Dict[Tuple[int, ...], Tuple[ToyNetStack, Any]] = {}

    def kernel_for(self, members: Tuple[Trainer, ...]):
        """The stacked network and kernel of the runs still running (cached per membership)."""
        key = tuple(id(t) for t in members)
        if key not in self.stacks:
            stack = ToyNetStack([t.learner.net for t in members])
            sampler = members[0].run["sampler"]
            self.stacks[key] = (stack, samplers.get(sampler["name"], stack, **sampler["options"]))
        return self.stacks[key]

    def iterate(self) -> List[Tuple[Trainer, Dict[str, torch.Tensor]]]:
        """One iteration of every running run in the group (draws, batched sampling, learning):
        each run with its iteration's values, not yet booked."""
        members = tuple(t for t in self.trainers if t.running)
        if not members:
            return []
        stack, kernel = self.kernel_for(members)
        stack.refresh()
        starts = [t.learner.starts() for t in members]
        z0 = torch.cat([z for _, z in starts])
        streams = RunStreams([t.learner.chain_generator for t in members])
        final, info = samplers.sample(kernel, z0, members[0].run["training"]["mcmc_steps"], streams,
                                      groups=len(members))
        ends = final.z.unflatten(0, (len(members), -1))
        return [(trainer, trainer.learner.learn(x, z, ends[r], {key: value[:, r] for key, value in info.items()}))
                for r, (trainer, (x, z)) in enumerate(zip(members, starts))]

    def step(self) -> None:
        for trainer, values in self.iterate():
            trainer.advance(values)


class BatchTrainer:
    """Several toy runs, each into its own directory, trained side by side in one process."""

    def __init__(self, jobs: Sequence[Tuple[Dict[str, Any], Path]], progress: bool = False,
                 log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)):
        if not jobs:
            raise ConfigError("a batch needs at least one run (--config FILE --out DIR, repeated)")
        outs = [Path(out).resolve() for _, out in jobs]
        if len(set(outs)) != len(outs):
            duplicate = next(out for out in outs if outs.count(out) > 1)
            raise ConfigError(f"two runs of the batch write to {duplicate}; give each run its own --out")
        for run, _ in jobs:
            check_batchable(run)
        self.trainers = [Trainer(run, Path(out), progress=progress, log=log) for run, out in jobs]
        groups: Dict[str, List[Trainer]] = {}
        for trainer in self.trainers:
            groups.setdefault(group_key(trainer.run), []).append(trainer)
        self.groups = [Group(members) for members in groups.values()]

    @property
    def running(self) -> bool:
        return any(t.running for t in self.trainers)

    def train(self) -> List[Path]:
        with contextlib.ExitStack() as held:  # every run directory locked, as a solo run locks its own
            for trainer in self.trainers:
                held.enter_context(claimed(trainer.out))
            for trainer in self.trainers:
                trainer.begin()
            while self.running:
                for group in self.groups:
                    group.step()
            return [trainer.finish() for trainer in self.trainers]


def train_batch(jobs: Sequence[Tuple[Dict[str, Any], Path]], progress: bool = False) -> List[Path]:
    """Train toy runs ``(run config, output directory)`` as one batch; each resumes on its own."""
    return BatchTrainer(jobs, progress=progress).train()
