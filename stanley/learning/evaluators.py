"""What a run measures of its model while it trains: eval.csv rows, snapshots, FID rows.

Every evaluation draws its own randomness (:func:`eval_generator`, seeded by the run's seed and
the iteration), so the training stream is the same with or without it, and a snapshot taken at
an iteration is the same whichever other outputs are due there. When they are, the evaluation
row and the snapshot come from the same chains. The schedule (:mod:`stanley.learning.schedule`)
says when; :class:`stanley.learning.training.Trainer` asks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import numpy as np
import torch

from ..errors import ConfigError
from ..images import data
from ..sampling import samplers
from .evaluation import Grid, density_distances, model_log_density, sliced_wasserstein
from .step import LearningStep

SNAPSHOT_SAMPLES = 1000  # toy samples kept per snapshot for the figures
SNAPSHOT_IMAGES = 64  # images kept per snapshot (an 8 x 8 grid)
# Toy evaluation chains are sampled on the CPU in blocks of this many, one block after another
# from the evaluation's stream: the block's activations stay in cache. 50,000 rings chains x 100
# steps cost 2.8 s of CPU in blocks of 2,000 against 6.4 s (Langevin) and 4.4 s (STANLEY) at once.
CPU_CHAIN_BLOCK = 2000
Row = Optional[Dict[str, Any]]
Snapshot = Optional[Dict[str, np.ndarray]]


def eval_generator(run: Dict[str, Any], device: torch.device, iteration: int, salt: int = 0) -> torch.Generator:
    """The evaluation stream of one iteration; ``salt`` tells apart the measures taken there."""
    return torch.Generator(device).manual_seed(1_000_003 * (run["seed"] + 1) + 7 * iteration + salt)


class ToyEvaluation:
    """KL, total variation and sliced W2 (with its noise floor) against the exact target; the
    snapshot is the model's log density on the grid and short-run samples from fresh chains."""

    def __init__(self, run: Dict[str, Any], target, device: torch.device):
        self.run, self.target, self.device = run, target, device
        ev = run["evaluation"]
        self.grid = Grid(target.extent, ev["grid_size"])
        self.exact_samples = target.sample(ev["n_samples"], torch.Generator().manual_seed(10_000 + run["seed"]))
        # the metric's noise floor: the distance between two exact sample sets of this size
        twin = target.sample(ev["n_samples"], torch.Generator().manual_seed(20_000 + run["seed"]))
        self.sliced_w2_floor = sliced_wasserstein(twin, self.exact_samples, ev["projections"],
                                                  torch.Generator().manual_seed(run["seed"]))

    def constants(self) -> Dict[str, np.ndarray]:
        """What the figures need beside the snapshots to draw them."""
        return {"grid_extent": np.array(self.grid.extent),
                "temperature": np.array(self.run["evaluation"]["temperature"])}

    @torch.no_grad()
    def __call__(self, step: LearningStep, iteration: int, row: bool, snapshot: bool) -> Tuple[Row, Snapshot]:
        ev = self.run["evaluation"]
        generator = eval_generator(self.run, self.device, iteration)
        z0 = step.chains.noise(ev["n_samples"], generator)
        block = CPU_CHAIN_BLOCK if self.device.type == "cpu" else len(z0)
        steps = self.run["training"]["mcmc_steps"]
        samples = torch.cat([samplers.sample(step.eval_kernel, part, steps, generator)[0].z.float().cpu()
                             for part in z0.split(block)])
        log_q = model_log_density(step.eval_net, ev["temperature"], self.grid, self.device)
        measured = None
        if row:
            measured = {"iteration": iteration, **density_distances(self.target, log_q, self.grid)}
            finite = torch.isfinite(samples).all()
            measured["sliced_w2"] = (sliced_wasserstein(samples, self.exact_samples, ev["projections"],
                                                        torch.Generator().manual_seed(iteration))
                                     if finite else float("nan"))
            measured["sliced_w2_floor"] = self.sliced_w2_floor
        kept = ({"log_density": log_q.view(self.grid.size, self.grid.size).numpy(),
                 "samples": samples[:SNAPSHOT_SAMPLES].numpy()} if snapshot else None)
        return measured, kept


class ImageEvaluation:
    """The energy gap between data and short-run images from fresh chains; the snapshot is an
    8 x 8 grid of those images."""

    def __init__(self, run: Dict[str, Any], data_source, device: torch.device):
        self.run, self.data, self.device = run, data_source, device

    def constants(self) -> Dict[str, np.ndarray]:
        return {}

    @torch.no_grad()
    def __call__(self, step: LearningStep, iteration: int, row: bool, snapshot: bool) -> Tuple[Row, Snapshot]:
        generator = eval_generator(self.run, self.device, iteration)
        z0 = step.chains.noise(SNAPSHOT_IMAGES, generator)
        final, _ = samplers.sample(step.eval_kernel, z0, self.run["training"]["mcmc_steps"], generator)
        measured = None
        if row:
            x = self.data.batch(SNAPSHOT_IMAGES, torch.Generator().manual_seed(iteration))
            measured = {"iteration": iteration, "f_data": float(step.eval_net(x).mean()),
                        "f_samples": float(step.eval_net(final.z).mean())}
        kept = {"samples": data.to_uint8(final.z.clamp(-1, 1).cpu()).numpy()} if snapshot else None
        return measured, kept


class FIDEvaluation:
    """FID of a run's own sampler against its data set's reference statistics (clean-fid).

    Everything it needs (weights, reference statistics) is checked when the run starts.
    """

    COLUMNS = ["iteration", "fid", "protocol", "n_samples", "reference"]

    def __init__(self, run: Dict[str, Any], device: torch.device):
        from ..images import fid

        spec = run["fid"]
        self.run, self.n_samples, self.batch_size = run, spec["n_samples"], spec["batch_size"]
        self.reference = Path(spec["reference"])
        if not self.reference.is_file():
            raise ConfigError(f"FID reference statistics {self.reference} do not exist: make them first "
                              "with `stanley fid-stats`")
        self.extractor = fid.feature_extractor(spec["inception"], proxy=spec["proxy"], device=device)
        fid.load_stats(self.reference, self.extractor.protocol)  # a bad file stops the run now, not at the first FID
        self.device = device

    @torch.no_grad()
    def __call__(self, step: LearningStep, iteration: int) -> Dict[str, Any]:
        """The fid.csv row of ``iteration``: samples of the evaluated network, their own stream."""
        from ..images import fid

        gen = fid.sampler_generator(step.eval_kernel, self.run["training"]["mcmc_steps"], step.data.shape,
                                    eval_generator(self.run, self.device, iteration, salt=1), self.device)
        return {"iteration": iteration,
                **fid.fid_of_generator(gen, self.n_samples, self.batch_size, self.extractor, self.reference).as_dict()}
