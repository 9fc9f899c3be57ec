"""One run of Algorithm 1 in one output directory, resumable: the learning step, the schedule
and the record put together.

Three pieces, each one concern: :class:`stanley.learning.step.LearningStep` (one update: draws,
K sampler steps, the loss, the optimiser), :class:`stanley.learning.schedule.Schedule` (decided
once from the run config: the iterations at which metrics rows, evaluations, snapshots, FID and
checkpoints are due) and :class:`stanley.learning.record.Record` (the rows and snapshots so far,
written through :class:`stanley.plumbing.rundir.RunDir`). :class:`Trainer` books each iteration:
divergence, what the schedule says is due, the checkpoint.

A run is resumable: at each scheduled checkpoint the whole state (network, optimiser, random
generators, chain bank, the record so far) is saved, and a rerun of the same config in the same
directory carries on from the newest good checkpoint, ending with the same tables as an
uninterrupted run.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, Iterator

import torch
from tqdm import tqdm

from . import budget
from ..errors import ConfigError
from ..experiment.config import config_hash, data_kind, run_label
from ..plumbing import locks
from ..plumbing.checkpoints import Checkpoints
from ..plumbing.io import remove_stale_temps
from ..plumbing.provenance import collect, now
from ..plumbing.rundir import RunDir
from .evaluators import FIDEvaluation, ImageEvaluation, ToyEvaluation
from .record import Record, metrics_row
from .schedule import Schedule
from .step import ImageData, LearningStep, ToyData, build_model


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
        self.schedule = Schedule.of(run)
        self.fid = FIDEvaluation(run, self.device) if run["fid"]["every"] else None
        self.data = ImageData(run, self.device) if self.images else ToyData(run)
        self.learner = LearningStep(run, self.data, self.device)
        self.evaluation = (ImageEvaluation(run, self.data, self.device) if self.images
                           else ToyEvaluation(run, self.data.target, self.device))
        self.checkpoints = Checkpoints(self.files.checkpoints, config_hash(run), run["training"]["keep_checkpoints"], log)
        self.record = Record()
        self.iteration = 0
        self.elapsed = 0.0
        self.status = "running"

    def state_dict(self) -> Dict[str, Any]:
        return {**self.learner.state_dict(), **self.record.state_dict(),
                "elapsed": self.elapsed, "status": self.status}

    def load_state_dict(self, payload: Dict[str, Any]) -> None:
        self.learner.load_state_dict(payload)
        self.record.load_state_dict(payload)
        self.iteration, self.elapsed, self.status = payload["iteration"], payload["elapsed"], payload["status"]

    def step(self) -> Dict[str, torch.Tensor]:
        """One learning step (not yet booked: see :meth:`advance`)."""
        return self.learner()

    def observe(self, due: FrozenSet[str]) -> None:
        """The evaluation row, snapshot and FID row due at the current iteration."""
        if due & {"eval", "snapshot"}:
            row, snapshot = self.evaluation(self.learner, self.iteration, "eval" in due, "snapshot" in due)
            if row is not None:
                self.record.evals.append(row)
                if not self.images:
                    self.record.keep_weights(self.iteration, self.learner.eval_net)
            if snapshot is not None:
                self.record.snapshots[self.iteration] = snapshot
        if "fid" in due and self.fid is not None:
            self.record.fids.append(self.fid(self.learner, self.iteration))

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
        else:
            self.observe(self.schedule.due(0))  # iteration 0: the untrained model
        self.started, self.clock = now(), time.perf_counter()
        self.bar = tqdm(total=total, initial=self.iteration, disable=not self.progress, mininterval=2.0,
                        desc=run_label(self.run), unit="it", file=sys.stderr)
        self.last_good = None

    def advance(self, values: Dict[str, torch.Tensor]) -> None:
        """Book one iteration's values: divergence, then what the schedule says is due."""
        self.iteration += 1
        self.bar.update()
        problem = self.learner.divergence(values)
        if problem:
            self.status = f"diverged at iteration {self.iteration}"
            self.log(f"stanley: {run_label(self.run)}: {self.status} ({problem}); stopping cleanly")
        self.elapsed, self.clock = self.elapsed + time.perf_counter() - self.clock, time.perf_counter()
        due = self.schedule.due(self.iteration)
        if self.status == "running":
            if "metrics" in due:
                self.record.metrics.append(metrics_row(values, self.iteration, self.elapsed))
            self.observe(due)
        elif self.last_good is not None and not self.schedule.is_due("metrics", self.iteration - 1):
            # diverged: keep the last good iteration's metrics
            self.record.metrics.append(metrics_row(self.last_good, self.iteration - 1, self.elapsed))
        self.last_good = values
        if "checkpoint" in due or self.status != "running":
            self.checkpoints.save(self.iteration, self.state_dict())

    def finish(self) -> Path:
        self.bar.close()
        if self.status == "running":
            self.status = "completed"
        self.record.write(self.files, self.run, collect(self.run, self.device, self.elapsed, self.started, self.status),
                          self.evaluation.constants(), self.learner.eval_net if self.images else None,
                          FIDEvaluation.COLUMNS if self.fid is not None else None)
        return self.out


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
