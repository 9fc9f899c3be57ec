"""Where every file of a run and of ``results/`` lives: the one place their names are spelt.

A *run directory* is what ``stanley train`` fills (the workflow puts it at
``results/runs/DATASET/SAMPLER/seedN``); the *layout* is the tree of ``results/`` around the
runs: gathered tables, figures, diagnostics, inpainting, the report. Readers and writers ask
these objects for paths instead of joining names by convention, so renaming a file is one edit.
Torch-free: the table, figure and report jobs read run directories without loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

import json

import yaml

from ..experiment.config import complete_run, data_kind, load_yaml
from ..errors import ConfigError

RUN_TABLES = ("metrics", "eval", "fid")
"""A run's CSV tables, and the kinds gathered across runs (a kind no run has is skipped)."""
STUDY_SPEC = "study.yaml"
PILOTS_TABLE = "pilots.csv"
CHECKPOINT_GLOB = "ckpt_*.pt"
"""Every checkpoint under :attr:`RunDir.checkpoints` (:mod:`stanley.plumbing.checkpoints` reads and writes them)."""


def checkpoint_name(iteration: int) -> str:
    """Zero-padded, so the names sort by iteration."""
    return f"ckpt_{iteration:09d}.pt"

INPAINTING_TABLE = "inpainting.csv"


@dataclass(frozen=True)
class RunDir:
    """The files of one training run (and of its inpainting, which may sit in a folder of its own)."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @property
    def config(self) -> Path:
        """The complete run config it was trained with."""
        return self.path / "config.yaml"

    @property
    def request(self) -> Path:
        """The run config the workflow asks ``stanley train --config`` to train (written by a job
        of its own, so that a changed config reruns the run)."""
        return self.path / "run.yaml"

    def written(self, run: Dict[str, Any]) -> Dict[str, Path]:
        """``{name: path}``: every file ``stanley train`` (or ``train-batch``) leaves here for this
        run config, so the workflow declares each file a later job reads. A toy run keeps its
        energy networks, an image run its weights and, with FID on, its FID table."""
        return self.training_files(data_kind(run["data"]["name"]) == "images", bool(run["fid"]["every"]))

    def training_files(self, images: bool, fid: bool) -> Dict[str, Path]:
        """:meth:`written` for a kind of run: image or toy, FID on or off."""
        files = {"metrics": self.metrics, "eval": self.eval, "samples": self.samples,
                 "provenance": self.provenance, "config": self.config}
        if not images:
            files.update(energies=self.energies, energies_checksum=checksum_of(self.energies))
            return files
        files.update(model=self.model, model_checksum=checksum_of(self.model))
        if fid:
            files["fid"] = self.fid
        return files

    def table(self, kind: str) -> Path:
        """``metrics`` (training curves; written last, so it marks the run finished), ``eval``
        (evaluation rows) or ``fid`` (image runs with FID on)."""
        if kind not in RUN_TABLES:
            raise ValueError(f"a run has no {kind!r} table; its tables are {RUN_TABLES}")
        return self.path / f"{kind}.csv"

    @property
    def metrics(self) -> Path:
        return self.table("metrics")

    @property
    def eval(self) -> Path:
        return self.table("eval")

    @property
    def fid(self) -> Path:
        return self.table("fid")

    @property
    def samples(self) -> Path:
        """Snapshots of samples (and, for toys, the model's log density) through training."""
        return self.path / "samples.npz"

    @property
    def energies(self) -> Path:
        """Toy runs: the energy network's weights at each evaluation (Theorem 1's family)."""
        return self.path / "energies.pt"

    @property
    def model(self) -> Path:
        """Image runs: the weights evaluation used (EMA ones under Improved CD)."""
        return self.path / "model.pt"

    @property
    def provenance(self) -> Path:
        return self.path / "provenance.json"

    @property
    def checkpoints(self) -> Path:
        """Resumable training state; not an output (a rerun resumes from it)."""
        return self.path / "checkpoints"

    @property
    def lock(self) -> Path:
        """Held by the one process writing this run (:func:`stanley.plumbing.locks.run_directory`)."""
        return self.path / ".stanley.lock"

    @property
    def inpainting_arrays(self) -> Path:
        """Figure 6's images: originals, masked inputs, completions, the mask, per-image MSE."""
        return self.path / "inpainting.npz"

    @property
    def inpainting_table(self) -> Path:
        """One row per inpainted test image."""
        return self.path / INPAINTING_TABLE

    def load_provenance(self) -> Dict[str, Any]:
        """What :func:`stanley.plumbing.provenance.collect` wrote: status, times, versions."""
        try:
            record = json.loads(self.provenance.read_text())
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read {self.provenance}: {error} (rerun its training job)") from None
        if not isinstance(record, dict):
            raise ConfigError(f"{self.provenance} is not a mapping (rerun its training job)")
        return record

    def load_config(self) -> Dict[str, Any]:
        """The run config, completed with the defaults and checked: one shape for every block."""
        if not self.config.is_file():
            raise ConfigError(f"{self.path} is not a finished run: {self.config.name} is missing "
                              "(rerun its training job)")
        try:
            return complete_run(load_yaml(self.config))
        except ConfigError as error:
            raise ConfigError(f"{self.config}: {error}") from None


@dataclass(frozen=True)
class Tables:
    """A folder of tables gathered across runs (``stanley tables``): one CSV per kind."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    def table(self, kind: str) -> Path:
        """A run table's kind (:data:`RUN_TABLES`), ``provenance`` (one row per run) or ``claims``."""
        return self.path / f"{kind}.csv"

    @property
    def study_spec(self) -> Path:
        """A study's tables only: its spec, as the workflow resolved it."""
        return self.path / STUDY_SPEC

    def load_study_spec(self) -> Dict[str, Any]:
        try:
            spec = yaml.safe_load(self.study_spec.read_text())
        except (OSError, yaml.YAMLError) as error:
            raise ConfigError(f"cannot read the study spec {self.study_spec}: {error}") from None
        if not isinstance(spec, dict):
            raise ConfigError(f"the study spec {self.study_spec} is not a mapping")
        return spec


@dataclass(frozen=True)
class TuningDir:
    """One data set's tuning stage (``stanley tune``): its pilots' table and the choice its runs train with."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @property
    def pilots(self) -> Path:
        """One row per pilot: its grid point, score and what its chains did."""
        return self.path / PILOTS_TABLE

    @property
    def choice(self) -> Path:
        """Each sampler's chosen multipliers (:func:`stanley.experiment.tuning.load_choice`)."""
        return self.path / "choice.yaml"


@dataclass(frozen=True)
class Layout:
    """The tree of ``results/`` (one per scale: the smoke config writes under ``results/smoke``)."""

    root: Path = Path("results")

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    def run(self, dataset: str, sampler: str, seed: int | str) -> RunDir:
        """A run of the matrix."""
        return RunDir(self.root / "runs" / dataset / sampler / f"seed{seed}")

    def pilot(self, dataset: str, sampler: str, point: str) -> RunDir:
        """A tuning pilot: one grid point of (data set, sampler)."""
        return RunDir(self.tuning / dataset / sampler / point)

    def ablation_run(self, dataset: str, variant: str, seed: int | str) -> RunDir:
        """A variant of the ambiguity ablation on a data set (its unchanged reading is the matrix's run)."""
        return RunDir(self.root / "ablation" / dataset / variant / f"seed{seed}")

    def study_run(self, study: str, variant: str, sampler: str, seed: int | str) -> RunDir:
        """A study's own run (one identical to a run trained already lives there instead)."""
        return RunDir(self.root / "studies" / study / variant / sampler / f"seed{seed}")

    def inpainting(self, dataset: str, sampler: str, seed: int | str) -> RunDir:
        """Where a matrix run's inpainting (arrays and table) is written."""
        return RunDir(self.root / "inpainting" / dataset / sampler / f"seed{seed}")

    def reference_stats(self, dataset: str, protocol: str, size: int | str) -> Path:
        """A data set's FID reference statistics, per feature protocol and image size."""
        return self.root / "reference" / f"{dataset}_{protocol}_{size}.npz"

    def data_checked(self, dataset: str) -> Path:
        """The stamp ``stanley download`` leaves once a data set's files are complete."""
        return self.root / "data" / f"{dataset}.checked"

    @property
    def tables(self) -> Tables:
        return Tables(self.root / "tables")

    def ablation_tables(self, dataset: str) -> Tables:
        """One data set's ablation: its variants' and paper-text runs' tables."""
        return Tables(self.tables.path / "ablation" / dataset)

    def ablations(self) -> List[Tables]:
        """The ablation table folders present, one per data set."""
        return [Tables(metrics.parent) for metrics in sorted((self.tables.path / "ablation").glob("*/metrics.csv"))]

    def study_tables(self, name: str) -> Tables:
        return Tables(self.tables.path / "studies" / name)

    def studies(self) -> List[Tables]:
        """The study table folders present, each with its spec."""
        return [Tables(spec.parent) for spec in sorted((self.tables.path / "studies").glob(f"*/{STUDY_SPEC}"))]

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    def figure(self, name: str) -> Path:
        return self.figures / f"{name}.png"

    @property
    def diagnostics(self) -> Path:
        return self.root / "diagnostics"

    @property
    def diagnostics_verdicts(self) -> Path:
        """One row per (target, sampler): the Theorem 1 checks' verdicts."""
        return self.diagnostics / "verdicts.csv"

    @property
    def uniformity_verdicts(self) -> Path:
        """One row per training run checked for uniformity in theta."""
        return self.diagnostics / "uniformity_verdicts.csv"

    def diagnostics_table(self, kind: str, target: str) -> Path:
        """One Theorem 1 check (``drift``, ``minorisation``, ``rate``, ``mixing``) on one target."""
        return self.diagnostics / kind / f"{target}.csv"

    def uniformity_table(self, sampler: str) -> Path:
        """Uniformity in theta of one sampler's training run."""
        return self.diagnostics / "uniformity" / f"{sampler}.csv"

    def diagnostics_figure(self, name: str) -> Path:
        return self.figure(f"diagnostics_{name}")

    def inpainting_runs(self) -> List[RunDir]:
        """The inpainting folders (``inpainting/DATASET/SAMPLER/seedN``) that hold a finished table."""
        return [RunDir(path.parent) for path in sorted((self.root / "inpainting").glob(f"*/*/seed*/{INPAINTING_TABLE}"))]

    @property
    def tuning(self) -> Path:
        """The tuning stage: ``<dataset>/<sampler>/<point>/`` pilot runs and each data set's :class:`TuningDir`."""
        return self.root / "tuning"

    def tuning_dir(self, dataset: str) -> TuningDir:
        return TuningDir(self.tuning / dataset)

    def tuning_tables(self) -> List[Path]:
        return sorted(self.tuning.glob(f"*/{PILOTS_TABLE}"))

    @property
    def report(self) -> Path:
        """The rendered report, under the results of its own scale."""
        return self.root / "report" / "index.html"


def checksum_of(path: str | Path) -> Path:
    """The SHA-256 written beside a run's weights file (``model.pt.sha256``): the weights stay a
    plain torch file that anyone can ``torch.load``, and the suite checks them before reading
    (:mod:`stanley.plumbing.checkpoints` writes and checks it)."""
    return Path(f"{path}.sha256")
