"""Algorithm 1 (short-run, non-persistent by default): learn an EBM with any sampler.

``training.scheme: improved_cd`` adds Du et al.'s Improved CD pieces (:mod:`stanley.learning.improved_cd`).

Each iteration draws a data batch (plus Gaussian data noise), fresh chain starts from p0,
runs K sampler steps on ``f_theta``, and takes one optimiser step on
``f(z).mean() - f(x).mean()`` (z detached): the paper's learning gradient, step 9.

A run is resumable: every ``checkpoint_every`` iterations the whole state (network,
optimiser, random generators, chain bank, tables so far) is checkpointed, and a rerun of
the same config in the same directory carries on from the newest good checkpoint, ending
with the same tables as an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from . import budget, models
from ..images import data
from ..plumbing import locks
from ..sampling import samplers, targets
from ..plumbing.checkpoints import Checkpoints, save_tensors
from ..experiment.config import config_hash, data_kind, run_label
from ..errors import ConfigError
from .evaluation import Grid, density_distances, model_log_density, sliced_wasserstein
from .improved_cd import ImprovedCD, sample_through_last_step
from ..plumbing.io import remove_stale_temps, write_atomic, write_csv, write_json, write_yaml
from ..plumbing.provenance import collect, now
from ..plumbing.rundir import RunDir

SNAPSHOT_SAMPLES = 1000  # toy samples kept per snapshot for the figures
SNAPSHOT_IMAGES = 64  # images kept per snapshot (an 8 x 8 grid)


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("config asks for device: cuda, but no CUDA device is visible; set device: auto or cpu")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def ensure_writable(out: Path) -> None:
    """Fail before any work when the run directory cannot be written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test.{os.getpid()}"  # per process: a concurrent starter's probe is not ours
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        raise ConfigError(f"cannot write to the run directory {out}: {error.strerror or error}; "
                          "choose another --out, or free space") from None


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


def build_optimizer(params, training: Dict[str, Any]) -> torch.optim.Optimizer:
    if training["optimizer"] == "adam":
        return torch.optim.Adam(params, lr=training["lr"], betas=tuple(training["betas"]))
    return torch.optim.SGD(params, lr=training["lr"], momentum=training["momentum"])


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


class Trainer:
    """One run of Algorithm 1 in one output directory, resumable."""

    def __init__(self, run: Dict[str, Any], out: Path, progress: bool = True,
                 log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)):
        self.run, self.out, self.progress, self.log = run, Path(out), progress, log
        self.files = RunDir(self.out)
        ensure_writable(self.out)
        self.device = resolve_device(run["device"])
        budget.check_run(run, self.device, build_model)  # a size typo stops here, before any allocation
        self.images = data_kind(run["data"]["name"]) == "images"
        self.fid = FIDEvaluation(run, self.device) if run["fid"]["every"] else None
        self.data = ImageData(run, self.device) if self.images else ToyData(run)
        torch.manual_seed(run["seed"])  # network initialisation
        self.net = build_model(run, self.data.shape).to(self.device)
        self.kernel = samplers.get(run["sampler"]["name"], self.net, **run["sampler"]["options"])
        self.improved = (ImprovedCD(run["improved_cd"], self.net, self.images)
                         if run["training"]["scheme"] == "improved_cd" else None)
        self.eval_net = self.improved.eval_net(self.net) if self.improved else self.net
        self.eval_kernel = (self.kernel if self.eval_net is self.net else
                            samplers.get(run["sampler"]["name"], self.eval_net, **run["sampler"]["options"]))
        self.optimizer = build_optimizer(self.net.parameters(), run["training"])
        self.chains = ChainStarts(run["training"], self.data.shape, self.device)
        self.data_generator = torch.Generator().manual_seed(run["seed"])
        self.chain_generator = torch.Generator(self.device).manual_seed(run["seed"] + 1)
        if not self.images:
            ev = run["evaluation"]
            self.grid = Grid(self.data.target.extent, ev["grid_size"])
            exact_generator = torch.Generator().manual_seed(10_000 + run["seed"])
            self.exact_samples = self.data.target.sample(ev["n_samples"], exact_generator)
            # the metric's noise floor: the distance between two exact sample sets of this size
            twin = self.data.target.sample(ev["n_samples"], torch.Generator().manual_seed(20_000 + run["seed"]))
            self.sliced_w2_floor = sliced_wasserstein(twin, self.exact_samples, ev["projections"],
                                                      torch.Generator().manual_seed(run["seed"]))
        self.checkpoints = Checkpoints(self.files.checkpoints, config_hash(run),
                                       run["training"]["keep_checkpoints"], log)
        self.iteration = 0
        self.elapsed = 0.0
        self.status = "running"
        self.metrics: List[Dict[str, Any]] = []
        self.evals: List[Dict[str, Any]] = []
        self.fids: List[Dict[str, Any]] = []
        self.snapshots: Dict[int, Dict[str, np.ndarray]] = {}
        self.energies: Dict[int, Dict[str, torch.Tensor]] = {}

    # -- state ---------------------------------------------------------------------------
    def state_dict(self) -> Dict[str, Any]:
        return {
            "model": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "data_generator": self.data_generator.get_state(),
            "chain_generator": self.chain_generator.get_state(),
            "bank": None if self.chains.bank is None else self.chains.bank.cpu(),
            "improved_cd": self.improved.state_dict() if self.improved else None,
            "elapsed": self.elapsed, "status": self.status,
            "metrics": self.metrics, "evals": self.evals, "fids": self.fids,
            "snapshots": {i: {k: torch.from_numpy(v) for k, v in s.items()} for i, s in self.snapshots.items()},
            "energies": self.energies,  # tensors and plain types only: checkpoints load with weights_only
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
        self.iteration, self.elapsed, self.status = payload["iteration"], payload["elapsed"], payload["status"]
        self.metrics, self.evals, self.fids = payload["metrics"], payload["evals"], payload["fids"]
        self.snapshots = {i: {k: v.numpy() for k, v in s.items()} for i, s in payload["snapshots"].items()}
        self.energies = payload["energies"]

    # -- the loop ------------------------------------------------------------------------
    def step(self) -> Dict[str, torch.Tensor]:
        x, z0 = self.starts()
        training, improved = self.run["training"], self.improved
        if improved and improved.differentiable_last_step:
            final, info = sample_through_last_step(self.kernel, self.net, z0, training["mcmc_steps"],
                                                   self.chain_generator)
        else:
            final, info = samplers.sample(self.kernel, z0, training["mcmc_steps"], self.chain_generator)
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
        self.optimizer.zero_grad(set_to_none=True)
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
        gap = (values["f_data"] - values["f_model"]).abs()
        finite = torch.isfinite(values["loss"]) & torch.isfinite(values["total_loss"])
        bad = torch.stack([~finite, ~values["finite_chains"],
                           gap > self.run["training"]["divergence_bound"]]).tolist()
        reasons = ("non-finite loss", "non-finite chain states",
                   f"energy difference beyond training.divergence_bound = {self.run['training']['divergence_bound']:g}")
        return "; ".join(r for r, b in zip(reasons, bad) if b)

    def record_metrics(self, values: Dict[str, torch.Tensor], iteration: int) -> None:
        row: Dict[str, Any] = {"iteration": iteration}
        row["energy_diff"] = float(values["f_data"] - values["f_model"])
        row["loss"] = float(values["loss"])
        row["grad_norm"] = float(values["grad_norm"].mean())
        row["movement"] = float(values["movement"])  # mean |z_K - z_0| per coordinate: do the chains move?
        for key in ("kl_loss", "entropy_loss"):
            if key in values:
                row[key] = float(values[key])
        for key in ("acceptance", "gamma_mean", "divergent"):
            if key in values:
                row[key] = float(values[key].mean())
        if "gamma_min" in values:
            row["gamma_min"] = float(values["gamma_min"].min())
        row["wall_time"] = round(self.elapsed, 3)
        self.metrics.append(row)

    def eval_generator(self, salt: int = 0) -> torch.Generator:
        """Evaluation draws its own randomness, so the training stream is the same with or without it."""
        return torch.Generator(self.device).manual_seed(1_000_003 * (self.run["seed"] + 1) + 7 * self.iteration + salt)

    @torch.no_grad()
    def evaluate(self) -> None:
        """Metrics at the current iteration, and a snapshot for the figures."""
        if self.images:
            self.evaluate_images()
        else:
            self.evaluate_toy()
        if not self.images:
            self.energies[self.iteration] = {k: v.detach().cpu().clone() for k, v in self.eval_net.state_dict().items()}

    def evaluate_toy(self) -> None:
        ev = self.run["evaluation"]
        generator = self.eval_generator()
        z0 = self.chains.noise(ev["n_samples"], generator)
        final, _ = samplers.sample(self.eval_kernel, z0, self.run["training"]["mcmc_steps"], generator)
        samples = final.z.float().cpu()
        log_q = model_log_density(self.eval_net, ev["temperature"], self.grid, self.device)
        row = {"iteration": self.iteration, **density_distances(self.data.target, log_q, self.grid)}
        finite = torch.isfinite(samples).all()
        row["sliced_w2"] = (sliced_wasserstein(samples, self.exact_samples, ev["projections"],
                                               torch.Generator().manual_seed(self.iteration))
                            if finite else float("nan"))
        row["sliced_w2_floor"] = self.sliced_w2_floor
        self.evals.append(row)
        self.snapshots[self.iteration] = {
            "log_density": log_q.view(self.grid.size, self.grid.size).numpy(),
            "samples": samples[:SNAPSHOT_SAMPLES].numpy(),
        }

    def evaluate_images(self) -> None:
        """Short-run images from fresh chains (an 8 x 8 grid) and the energy gap to data."""
        generator = self.eval_generator()
        z0 = self.chains.noise(SNAPSHOT_IMAGES, generator)
        final, _ = samplers.sample(self.eval_kernel, z0, self.run["training"]["mcmc_steps"], generator)
        x = self.data.batch(SNAPSHOT_IMAGES, torch.Generator().manual_seed(self.iteration))
        self.evals.append({"iteration": self.iteration, "f_data": float(self.eval_net(x).mean()),
                           "f_samples": float(self.eval_net(final.z).mean())})
        self.snapshots[self.iteration] = {"samples": data.to_uint8(final.z.clamp(-1, 1).cpu()).numpy()}
        if self.fid is not None and self.iteration > 0 and (
                self.iteration % self.fid.every == 0 or self.iteration == self.run["training"]["iterations"]):
            self.fids.append({"iteration": self.iteration,
                              **self.fid(self.eval_kernel, self.run["training"]["mcmc_steps"], self.data.shape,
                                         self.eval_generator(salt=1))})

    def train(self) -> Path:
        self.begin()
        while self.running:
            self.advance(self.step())
        return self.finish()

    @property
    def running(self) -> bool:
        return self.iteration < self.run["training"]["iterations"] and self.status == "running"

    def begin(self) -> None:
        """Resume from the newest good checkpoint, or evaluate the untrained model; start the clock."""
        total = self.run["training"]["iterations"]
        payload = self.checkpoints.load_latest()
        if payload is not None:
            self.load_state_dict(payload)
            self.log(f"stanley: {run_label(self.run)}: resuming from iteration {self.iteration} of {total}")
        elif not self.evals:
            self.evaluate()  # iteration 0: the untrained model
        self.started, self.clock = now(), time.perf_counter()
        self.bar = tqdm(total=total, initial=self.iteration, disable=not self.progress, mininterval=2.0,
                        desc=run_label(self.run), unit="it", file=sys.stderr)
        self.last_good = None

    def advance(self, values: Dict[str, torch.Tensor]) -> None:
        """Book one iteration's values: divergence, metrics, evaluation, checkpoint."""
        training, every = self.run["training"], self.run["evaluation"]["every"]
        self.iteration += 1
        self.bar.update()
        problem = self.divergence(values)
        if problem:
            self.status = f"diverged at iteration {self.iteration}"
            self.log(f"stanley: {run_label(self.run)}: {self.status} ({problem}); stopping cleanly")
        done = self.iteration == training["iterations"] or self.status != "running"
        self.elapsed, self.clock = self.elapsed + time.perf_counter() - self.clock, time.perf_counter()
        if self.status != "running":  # diverged: keep the last good iteration's metrics
            if self.last_good is not None and (self.iteration - 1) % training["log_every"]:
                self.record_metrics(self.last_good, self.iteration - 1)
        elif self.iteration % training["log_every"] == 0 or done:
            self.record_metrics(values, self.iteration)
        self.last_good = values
        fid_due = self.fid is not None and self.iteration % self.fid.every == 0
        if (self.iteration % every == 0 or fid_due or done) and self.status == "running":
            self.evaluate()
        if self.iteration % training["checkpoint_every"] == 0 or done:
            self.checkpoints.save(self.iteration, self.state_dict())

    def finish(self) -> Path:
        self.bar.close()
        if self.status == "running":
            self.status = "completed"
        self.write_outputs(self.started)
        return self.out

    def write_outputs(self, started: str) -> None:
        """Every table atomically, ``metrics.csv`` last: its presence means the run is complete."""
        files = self.files
        write_yaml(files.config, self.run)
        iterations = sorted(self.snapshots)
        arrays = {"samples": self.snapshots[iterations[-1]]["samples"], "snapshot_iterations": np.array(iterations)}
        for key in self.snapshots[iterations[-1]]:
            arrays[f"snapshot_{key}"] = np.stack([self.snapshots[i][key] for i in iterations])
        if not self.images:
            arrays.update(grid_extent=np.array(self.grid.extent),
                          temperature=np.array(self.run["evaluation"]["temperature"]))
        write_atomic(files.samples, lambda tmp: np.savez_compressed(open(tmp, "wb"), **arrays))
        if self.energies:
            save_tensors(files.energies, copy.deepcopy(self.energies))
        if self.images:
            # the weights evaluation uses: the EMA ones under Improved CD with ema on
            save_tensors(files.model, self.eval_net.state_dict())
        if self.fid is not None:
            write_csv(files.fid, pd.DataFrame(self.fids, columns=FID_COLUMNS))
        write_csv(files.eval, pd.DataFrame(self.evals))
        write_json(files.provenance, collect(self.run, self.device, self.elapsed, started, self.status))
        write_csv(files.metrics, pd.DataFrame(self.metrics or None, columns=None if self.metrics else METRICS))


METRICS = ["iteration", "energy_diff", "loss", "grad_norm", "movement", "wall_time"]  # the columns every sampler has
FID_COLUMNS = ["iteration", "fid", "protocol", "n_samples", "reference"]


class FIDEvaluation:
    """FID of a run's own sampler against its data set's reference statistics (clean-fid).

    Everything it needs (weights, reference statistics) is checked when the run starts.
    """

    def __init__(self, run: Dict[str, Any], device: torch.device):
        from ..images import fid

        spec = run["fid"]
        self.every, self.n_samples, self.batch_size = spec["every"], spec["n_samples"], spec["batch_size"]
        self.reference = Path(spec["reference"])
        if not self.reference.is_file():
            raise ConfigError(f"FID reference statistics {self.reference} do not exist: make them first "
                              "with `stanley fid-stats`")
        self.extractor = fid.feature_extractor(spec["inception"], proxy=spec["proxy"], device=device)
        fid.load_stats(self.reference, self.extractor.protocol)  # a bad file stops the run now, not at the first FID
        self.device = device

    def __call__(self, kernel, budget: int, shape: tuple, generator: torch.Generator) -> Dict[str, Any]:
        from ..images import fid

        gen = fid.sampler_generator(kernel, budget, shape, generator, self.device)
        return fid.fid_of_generator(gen, self.n_samples, self.batch_size, self.extractor, self.reference).as_dict()


def train(run: Dict[str, Any], out: str | Path, progress: bool = True) -> Path:
    """Train one run config into ``out`` (resuming if it holds checkpoints of the same config).

    The run directory is locked for the run's life: a second writer stops before touching it.
    """
    with claimed(out) as out:
        return Trainer(run, out, progress=progress).train()


@contextlib.contextmanager
def claimed(out: str | Path) -> Iterator[Path]:
    """The run directory made and locked for the body, the temporary files of a killed run's writes
    removed: one writer per run directory, solo or in a batch."""
    out = Path(out)
    ensure_writable(out)
    with locks.run_directory(out):
        remove_stale_temps(out)
        yield out
