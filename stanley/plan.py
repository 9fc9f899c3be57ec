"""The experiment plan: a checked suite config and a results folder, turned into every job as data.

Each job has a kind, a key, the files it reads and the files it writes; a training job also has
its resolved run config and its run directory. A workflow builds one :class:`Plan` and looks
everything up in it; tests check the plan without any workflow engine. File names come from :mod:`stanley.plumbing.rundir`, configs from
:mod:`stanley.experiment.config` and the stage modules (tuning, ablation, studies, diagnostics).
Importing this module loads no torch; building a plan checks toy targets and the diagnostics
block, which does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .diagnostics import suite as diagnostics_suite
from .experiment import ablation, config as suite_config, studies, tuning
from .errors import ConfigError
from .plumbing.rundir import RunDir, Layout

IMAGE_FIGURES: Dict[str, List[str]] = {
    "fig2": ["flowers102"],
    "fig3": ["cifar10"],
    "fig4": ["flowers102", "cifar10"],
    "fig5": ["celeba"],
}
"""The paper's image figures and the data sets each is drawn from (the suite key ``figures``
replaces an entry: the smoke config draws them all from ``shapes``)."""
GRID_SAMPLERS: Dict[str, Optional[List[str]]] = {"fig2": ["langevin", "stanley"], "fig3": None}
"""The figures that show snapshot grids, and their samplers (None: every sampler); the others
are FID curves, drawn only where FID is on."""
TOY_FIGURES = ("fig1", "fig1_density", "toy_metrics", "training")
"""Figure 1 and its density panel (the rings runs' samples), the toy metrics and the training
curves (the gathered tables)."""
INPAINTING_DEFAULTS = {"dataset": "celeba", "n": 100}
FIG6_SAMPLERS = ("stanley", "langevin")  # Figure 6 pairs them, as in the paper
IN_MEMORY = ("shapes",)  # image data sets drawn in memory: nothing to download or check
DIAGNOSTICS_PLOTS = ("drift", "rate")  # plus uniformity when training runs are checked for it
REFERENCE_SENTINEL = "<the reference statistics this plan makes>"
"""Stands in for ``fid.reference`` while a suite resolves, under every configured value (it sits
in ``defaults``), so a reference set anywhere in the suite wins; the resolved run's own data set,
image size and feature protocol then name the file (:meth:`Layout.reference_stats`)."""

Key = Tuple[Any, ...]


@dataclass(frozen=True)
class Job:
    """One job: what it reads (named lists of paths) and writes; ``run`` for a training job."""

    kind: str
    key: Key
    inputs: Dict[str, List[str]] = field(compare=False)
    outputs: Dict[str, List[str]] = field(compare=False)
    run: Optional["Run"] = field(default=None, compare=False)

    def input_files(self) -> List[str]:
        return [path for paths in self.inputs.values() for path in paths]

    def output_files(self) -> List[str]:
        return [path for paths in self.outputs.values() for path in paths]


@dataclass(frozen=True)
class Run:
    """One training run: its resolved config, where it lives and what it needs before it starts."""

    stage: str  # matrix, pilot, study or ablation
    key: Key
    config: Dict[str, Any] = field(compare=False)
    dir: RunDir = field(compare=False)
    needs: Dict[str, str] = field(compare=False)  # config (run.yaml), data, reference, inception, tuned
    gpu: bool = False

    @property
    def dataset(self) -> str:
        return self.config["data"]["name"]

    @property
    def path(self) -> str:
        return str(self.dir.path)

    @property
    def files(self) -> Dict[str, str]:
        """Every file training writes for it (:meth:`RunDir.written`)."""
        return {name: str(path) for name, path in self.dir.written(self.config).items()}

    @property
    def file_set(self) -> str:
        """``toy``, ``images`` or ``images_fid``: which files its training job declares."""
        if suite_config.data_kind(self.dataset) == "toy":
            return "toy"
        return "images_fid" if self.config["fid"]["every"] else "images"


@dataclass(frozen=True)
class Plan:
    """Every job of a suite under one results folder. Build it with :meth:`from_suite`."""

    suite: Dict[str, Any] = field(compare=False)
    layout: Layout
    matrix: Dict[Key, Run] = field(compare=False)           # (dataset, sampler, seed)
    pilots: Dict[Key, Run] = field(compare=False)           # (dataset, sampler, point)
    study_runs: Dict[Key, Run] = field(compare=False)       # (study, variant, sampler, seed); reused runs shared
    ablation_runs: Dict[Key, Run] = field(compare=False)    # (dataset, variant, seed)
    tuning: Dict[str, Any] = field(compare=False)
    tuning_budget: Dict[str, float] = field(compare=False)
    studies: Dict[str, Dict[str, Any]] = field(compare=False)
    ablation: Dict[str, Dict[str, Any]] = field(compare=False)  # {dataset: its checked block}
    inpainting: Dict[str, Any] = field(compare=False)
    diagnostics: Dict[str, Any] = field(compare=False)
    image_figures: Dict[str, List[str]] = field(compare=False)

    # ------------------------------------------------------------------ building

    @classmethod
    def from_suite(cls, suite: Dict[str, Any], results: str | Path = "results") -> "Plan":
        """The plan of a suite config (checked here: a bad key is one ConfigError line)."""
        suite_config.check_suite(suite)
        layout = Layout(Path(os.path.normpath(str(results))))
        resolving = _with_reference_sentinel(suite)
        tuning_spec = tuning.check(suite)
        pilot_configs = tuning.pilots(resolving)
        tuned = {(d, s) for d, s, _ in pilot_configs}  # each trains with its data set's choice

        def make(stage: str, key: Key, run: Dict[str, Any], directory: RunDir) -> Run:
            run = _with_reference(run, layout)
            dataset, sampler = run["data"]["name"], run["sampler"]["name"]
            needs = {"config": str(directory.request), **_image_needs(run, layout)}
            if stage != "pilot" and (dataset, sampler) in tuned:
                needs["tuned"] = str(layout.tuning_dir(dataset).choice)
            return Run(stage, key, run, directory, needs, _uses_gpu(suite, dataset))

        matrix = {(d, s, seed): make("matrix", (d, s, seed), run, layout.run(d, s, seed))
                  for d, s, seed, run in suite_config.suite_runs(resolving)}
        pilots = {key: make("pilot", key, run, layout.pilot(*key)) for key, run in pilot_configs.items()}
        budget = tuning.budget(resolving, pilot_configs) if tuning_spec else {}

        trained = {suite_config.config_hash(run.config): run for run in matrix.values()}
        study_runs = {}
        for key, config in studies.runs(resolving).items():
            own = make("study", key, config, layout.study_run(*key))
            study_runs[key] = trained.setdefault(suite_config.config_hash(own.config), own)  # nothing trained twice

        ablation_runs = {(d, variant, seed): make("ablation", (d, variant, seed), run, layout.ablation_run(d, variant, seed))
                         for d, variants in ablation.variants(resolving).items()
                         for variant, runs in variants.items() for seed, run in runs.items()}

        inpainting = _check_inpainting(suite)
        figures = {**IMAGE_FIGURES, **(suite.get("figures") or {})}
        return cls(suite, layout, matrix, pilots, study_runs, ablation_runs, tuning_spec, budget, studies.check(suite),
                   ablation.check(suite), inpainting, diagnostics_suite.check(suite.get("diagnostics")), figures)

    # ------------------------------------------------------------------ the matrix

    @property
    def datasets(self) -> List[str]:
        return list(self.suite["datasets"])

    @property
    def seeds(self) -> List[int]:
        return list(self.suite["seeds"])

    def uses_gpu(self, dataset: str) -> bool:
        """Whether a data set's jobs each take one GPU (the suite key ``gpu``)."""
        return _uses_gpu(self.suite, dataset)

    def samplers_of(self, dataset: str) -> List[str]:
        return suite_config.samplers_of(self.suite, dataset)

    def image_datasets(self) -> List[str]:
        return [d for d in self.datasets if suite_config.data_kind(d) == "images"]

    def downloadable(self) -> List[str]:
        """The image data sets whose files are fetched or checked before any run reads them."""
        return [d for d in self.image_datasets() if d not in IN_MEMORY]

    def run(self, dataset: str, sampler: str, seed: int | str) -> Run:
        key = (dataset, sampler, int(seed))
        if key not in self.matrix:
            raise ConfigError(f"{dataset}|{sampler}|{seed} is not a run of this config's matrix")
        return self.matrix[key]

    def run_dirs(self, dataset: Optional[str] = None) -> List[str]:
        """The matrix's run directories (of one data set), in config order."""
        return [run.path for (d, _, _), run in self.matrix.items() if dataset is None or d == dataset]

    def seed_runs(self, dataset: str, samplers: Optional[List[str]] = None, seed: Optional[int] = None) -> List[Run]:
        """One seed's runs (default the first) of a data set, its samplers in config order."""
        seed = min(self.seeds) if seed is None else seed
        return [self.matrix[(dataset, s, seed)] for s in self.samplers_of(dataset) if samplers is None or s in samplers]

    def dataset_run(self, dataset: str) -> Run:
        """The first run of a data set: its data, FID and model settings, shared by its runs."""
        return next(run for (d, _, _), run in self.matrix.items() if d == dataset)

    def fid_on(self, dataset: str) -> bool:
        return all(run.config["fid"]["every"] for (d, _, _), run in self.matrix.items() if d == dataset)

    # ------------------------------------------------------------------ every training run

    def batched(self) -> bool:
        """``batch_toy_runs`` (default true): a toy data set's seeds train as one job."""
        return self.suite.get("batch_toy_runs", True)

    def toy_batches(self) -> Dict[Key, List[Run]]:
        """``{(dataset, sampler): runs}`` trained together by ``stanley train-batch`` (every seed)."""
        if not self.batched():
            return {}
        out: Dict[Key, List[Run]] = {}
        for (d, s, _), run in self.matrix.items():
            if suite_config.data_kind(d) == "toy":
                out.setdefault((d, s), []).append(run)
        return out

    def ablation_seeds(self) -> List[int]:
        """The seeds of a batched ablation variant: the first toy ablation's (a toy ablation with
        other seeds trains one job per run, so that one rule declares every batch's files)."""
        toy = [d for d in self.ablation if suite_config.data_kind(d) == "toy"]
        return list(self.ablation[toy[0]]["seeds"]) if toy and self.batched() else []

    def ablation_batches(self) -> Dict[Key, List[Run]]:
        """``{(dataset, variant): runs}``: a toy ablation variant's seeds as one batch."""
        seeds = self.ablation_seeds()
        out: Dict[Key, List[Run]] = {}
        for (d, variant, _), run in self.ablation_runs.items():
            if suite_config.data_kind(d) == "toy" and self.ablation[d]["seeds"] == seeds:
                out.setdefault((d, variant), []).append(run)
        return out

    def training_runs(self) -> Dict[str, Run]:
        """``{run directory: run}``: every run trained once (a study's reused run is the matrix's)."""
        return dict(self._by_directory)

    @cached_property
    def _by_directory(self) -> Dict[str, Run]:  # asked once per job by a workflow: built once
        out: Dict[str, Run] = {}
        for runs in (self.matrix, self.pilots, self.study_runs, self.ablation_runs):
            for run in runs.values():
                out.setdefault(run.path, run)
        return out

    def batched_dirs(self) -> List[str]:
        return [run.path for batches in (self.toy_batches(), self.ablation_batches())
                for runs in batches.values() for run in runs]

    def single_runs(self, file_set: Optional[str] = None) -> List[Run]:
        """The runs trained one per job (``stanley train``), optionally of one file set."""
        batched = set(self.batched_dirs())
        return [run for path, run in self.training_runs().items()
                if path not in batched and (file_set is None or run.file_set == file_set)]

    def training_run(self, path: str) -> Run:
        """The run trained in a directory."""
        if path not in self._by_directory:
            raise ConfigError(f"{path} is not a run directory of this config's plan")
        return self._by_directory[path]

    def relative(self, path: str) -> str:
        """A path under the results folder, relative to it (how a workflow may name a run)."""
        return os.path.relpath(path, self.layout.root)

    # ------------------------------------------------------------------ tuning

    def pilot_keys(self, dataset: str) -> List[Key]:
        return [key for key in self.pilots if key[0] == dataset]

    def pilot_runs(self, dataset: str) -> List[Run]:
        return [self.pilots[key] for key in self.pilot_keys(dataset)]

    def tuned_datasets(self) -> List[str]:
        return [d for d in self.datasets if self.pilot_keys(d)]

    # ------------------------------------------------------------------ studies and the ablation

    def study_keys(self, study: str) -> List[Key]:
        return [key for key in self.study_runs if key[0] == study]

    def study_dirs(self, study: str) -> List[str]:
        return [self.study_runs[key].path for key in self.study_keys(study)]

    def study_spec(self, study: str) -> Dict[str, Any]:
        """The spec ``study.yaml`` holds: the checked spec, its name and its place in the config."""
        return {"name": study, "order": list(self.studies).index(study), **self.studies[study]}

    def ablation_dirs(self, dataset: str) -> List[str]:
        """Every variant run of a data set, after the matrix's runs they are shown beside: the
        paper's reading (the reference) and the other readings of STANLEY (each pins its switches
        at once)."""
        spec = self.ablation[dataset]
        matrix = [self.run(dataset, sampler, seed).path for sampler in [spec["sampler"], *spec["readings"]]
                  for seed in spec["seeds"]]
        return matrix + [run.path for (d, _, _), run in self.ablation_runs.items() if d == dataset]

    def ablation_tables(self, dataset: str) -> Dict[str, str]:
        """What ``stanley tables`` writes for a data set's ablation."""
        runs = [self.training_run(path) for path in self.ablation_dirs(dataset)]
        return self.table_files(self.layout.ablation_tables(dataset), runs)

    # ------------------------------------------------------------------ FID references and data

    def references(self) -> Dict[str, Run]:
        """``{reference statistics file: a run that uses it}`` for the files this plan makes."""
        out: Dict[str, Run] = {}
        for run in self.training_runs().values():
            reference = run.needs.get("reference")
            if reference and _made_here(reference, run, self.layout):
                out.setdefault(reference, run)
        return out

    def inception_files(self) -> List[str]:
        return sorted({run.needs["inception"] for run in self.training_runs().values() if "inception" in run.needs})

    # ------------------------------------------------------------------ inpainting

    def inpainting_samplers(self) -> List[str]:
        dataset = self.inpainting["dataset"]
        if dataset not in self.image_datasets():
            return []
        chosen = self.inpainting.get("samplers")
        unknown = sorted(set(chosen or []) - set(self.samplers_of(dataset)))
        if unknown:
            raise ConfigError(f"inpainting.samplers names {unknown}, not samplers of {dataset}: "
                              f"{self.samplers_of(dataset)}")
        return [s for s in self.samplers_of(dataset) if chosen is None or s in chosen]

    def inpainting_keys(self) -> List[Key]:
        """``(dataset, sampler, seed)`` of every matrix run whose model inpaints."""
        return [(self.inpainting["dataset"], s, seed) for s in self.inpainting_samplers() for seed in self.seeds]

    def inpainting_dirs(self) -> List[RunDir]:
        return [self.layout.inpainting(*key) for key in self.inpainting_keys()]

    def inpainting_options(self) -> List[str]:
        options = ["--n", str(self.inpainting["n"])]
        for key in ("mask", "steps"):
            if self.inpainting.get(key):
                options += [f"--{key}", str(self.inpainting[key])]
        return options

    # ------------------------------------------------------------------ diagnostics

    @property
    def diagnostics_targets(self) -> List[str]:
        return list(self.diagnostics["targets"])

    def uniformity_runs(self) -> Dict[str, Run]:
        """``{sampler: run}``: the matrix's training runs the uniformity check reads."""
        u = self.diagnostics["uniformity"] or {"samplers": []}
        keys = {s: (u["dataset"], s, u["seed"]) for s in u["samplers"]}
        return {s: self.matrix[key] for s, key in keys.items() if key in self.matrix}

    def diagnostics_tables(self, kind: str) -> List[str]:
        return [str(self.layout.diagnostics_table(kind, t)) for t in self.diagnostics_targets]

    def uniformity_tables(self) -> List[str]:
        return [str(self.layout.uniformity_table(s)) for s in self.uniformity_runs()]

    def diagnostics_plots(self) -> List[str]:
        return [*DIAGNOSTICS_PLOTS, *(["uniformity"] if self.uniformity_runs() else [])]

    # ------------------------------------------------------------------ tables, figures, the report

    def any_fid(self, runs: List[Run]) -> bool:
        return any(run.config["fid"]["every"] for run in runs)

    def table_files(self, folder, runs: List[Run]) -> Dict[str, str]:
        """What ``stanley tables`` writes for these runs (a kind no run has is skipped)."""
        kinds = ["metrics", "eval", "provenance"] + (["fid"] if self.any_fid(runs) else [])
        return {kind: str(folder.table(kind)) for kind in kinds}

    def image_figure_drawn(self, name: str) -> bool:
        datasets = self.image_figures[name]
        return bool(datasets) and all(d in self.image_datasets() and (name in GRID_SAMPLERS or self.fid_on(d))
                                      for d in datasets)

    def figures(self) -> List[str]:
        """Every figure this plan draws, by name."""
        names = [*TOY_FIGURES, *(n for n in self.image_figures if self.image_figure_drawn(n))]
        names += ["fig6"] if self.inpainting_samplers() else []
        names += [f"ablation_{dataset}" for dataset in self.ablation]
        names += [f"study_{study}" for study in self.studies]
        return names

    def figure_inputs(self, name: str) -> List[str]:
        """The data files a figure is drawn from (the plotting code and the paper's values aside)."""
        if name in ("fig1", "fig1_density"):
            return [run.files["samples"] for run in self.seed_runs("rings")]
        if name == "toy_metrics":
            return [str(self.layout.tables.table("eval"))]
        if name == "training":
            return [str(self.layout.tables.table("metrics"))]
        if name in GRID_SAMPLERS:
            return [run.files["samples"] for d in self.image_figures[name]
                    for run in self.seed_runs(d, GRID_SAMPLERS[name])]
        if name in self.image_figures:
            return [self.matrix[key].files["fid"] for d in self.image_figures[name]
                    for key in self.matrix if key[0] == d]
        if name == "fig6":
            shown = [s for s in FIG6_SAMPLERS if s in self.inpainting_samplers()] or self.inpainting_samplers()[:2]
            return [str(self.layout.inpainting(self.inpainting["dataset"], s, min(self.seeds)).inpainting_arrays)
                    for s in shown]
        if name.startswith("ablation_") and name[len("ablation_"):] in self.ablation:
            return list(self.ablation_tables(name[len("ablation_"):]).values())
        if name.startswith("study_") and name[len("study_"):] in self.studies:
            study = name[len("study_"):]
            tables = self.layout.study_tables(study)
            runs = [self.study_runs[key] for key in self.study_keys(study)]
            return [str(tables.study_spec), *self.table_files(tables, runs).values()]
        raise ConfigError(f"{name!r} is not a figure of this plan: {self.figures()}")

    def claims_inputs(self) -> List[str]:
        return [*self.table_files(self.layout.tables, list(self.matrix.values())).values(),
                str(self.layout.diagnostics_verdicts)]

    def report_inputs(self) -> List[str]:
        """Every result the report shows: the files it reads, and nothing else from the folder."""
        layout = self.layout
        files = [str(layout.figure(name)) for name in self.figures()]
        files += self.table_files(layout.tables, list(self.matrix.values())).values()
        files += [str(layout.tables.table("claims"))]
        files += [str(d.inpainting_table) for d in self.inpainting_dirs()]
        files += [str(layout.diagnostics_verdicts)] + [str(layout.diagnostics_figure(p)) for p in self.diagnostics_plots()]
        files += [str(layout.uniformity_verdicts)] if self.uniformity_runs() else []
        for kind in ("drift", "minorisation", "rate", "mixing"):
            files += self.diagnostics_tables(kind)
        files += self.uniformity_tables()
        for dataset in self.ablation:
            files += self.ablation_tables(dataset).values()
        for study in self.studies:
            files += [path for path in self.figure_inputs(f"study_{study}") if path not in files]
        files += [str(layout.tuning_dir(d).pilots) for d in self.tuned_datasets()]
        return list(dict.fromkeys(files))

    # ------------------------------------------------------------------ every job as data

    def jobs(self) -> Iterator[Job]:
        """Every job, its inputs and outputs (tests check that each input is made or exists)."""
        layout = self.layout
        for dataset in self.downloadable():
            yield Job("data", (dataset,), {}, {"stamp": [str(layout.data_checked(dataset))]})
        for path in self.inception_files():
            yield Job("inception", (path,), {}, {"weights": [path]})
        for path, run in self.references().items():
            needs = {k: [v] for k, v in run.needs.items() if k in ("data", "inception")}
            yield Job("reference", (path,), needs, {"stats": [path]})
        for path, run in self.training_runs().items():
            yield Job("run_config", (path,), {}, {"config": [run.needs["config"]]}, run)
        batched = set()
        for kind, batches in (("toy_batch", self.toy_batches()), ("ablation_batch", self.ablation_batches())):
            for key, runs in batches.items():
                batched.update(run.path for run in runs)
                inputs = {"configs": [run.needs["config"] for run in runs]}
                inputs.update({k: [v] for k, v in runs[0].needs.items() if k != "config"})
                yield Job(kind, key if isinstance(key, tuple) else (key,), inputs,
                          {"files": [f for run in runs for f in run.files.values()]})
        for run in self.single_runs():
            yield Job("train", (run.path,), {k: [v] for k, v in run.needs.items()}, {"files": list(run.files.values())},
                      run)
        for dataset in self.tuned_datasets():
            pilots = self.pilot_runs(dataset)
            yield Job("tune", (dataset,), {"pilots": [f for run in pilots for f in run.files.values()]},
                      {"choice": [str(layout.tuning_dir(dataset).choice)], "table": [str(layout.tuning_dir(dataset).pilots)]})
        matrix = list(self.matrix.values())
        yield Job("tables", (), {"runs": [f for run in matrix for f in run.files.values()]},
                  {"tables": list(self.table_files(layout.tables, matrix).values())})
        for key in self.inpainting_keys():
            directory = layout.inpainting(*key)
            yield Job("inpaint", key, {"run": self.inpainting_run_inputs(*key)},
                      {"npz": [str(directory.inpainting_arrays)], "table": [str(directory.inpainting_table)]})
        for kind in ("drift", "minorisation", "rate", "mixing"):
            for target, path in zip(self.diagnostics_targets, self.diagnostics_tables(kind)):
                yield Job("diagnose", (kind, target), {}, {"table": [path]})
        for sampler, run in self.uniformity_runs().items():
            yield Job("uniformity", (sampler,), {"run": self.uniformity_run_inputs(sampler)},
                      {"table": [str(layout.uniformity_table(sampler))]})
        yield Job("diagnostics_verdicts", (), {k: self.diagnostics_tables(k) for k in ("drift", "minorisation", "rate", "mixing")},
                  {"verdicts": [str(layout.diagnostics_verdicts)]})
        if self.uniformity_runs():
            yield Job("uniformity_verdicts", (), {"tables": self.uniformity_tables()},
                      {"verdicts": [str(layout.uniformity_verdicts)]})
        for plot in self.diagnostics_plots():
            tables = self.uniformity_tables() if plot == "uniformity" else self.diagnostics_tables(plot)
            yield Job("diagnostics_figure", (plot,), {"tables": tables}, {"figure": [str(layout.diagnostics_figure(plot))]})
        for dataset in self.ablation:
            runs = [self.training_run(path) for path in self.ablation_dirs(dataset)]
            yield Job("ablation_tables", (dataset,), {"runs": [f for run in runs for f in run.files.values()]},
                      {"tables": list(self.ablation_tables(dataset).values())})
        for study in self.studies:
            tables = layout.study_tables(study)
            runs = [self.study_runs[key] for key in self.study_keys(study)]
            yield Job("study_spec", (study,), {}, {"spec": [str(tables.study_spec)]})
            yield Job("study_tables", (study,), {"runs": [f for run in runs for f in run.files.values()]},
                      {"tables": list(self.table_files(tables, runs).values())})
        for name in self.figures():
            yield Job("figure", (name,), {"data": self.figure_inputs(name)}, {"figure": [str(layout.figure(name))]})
        yield Job("claims", (), {"tables": self.claims_inputs()}, {"claims": [str(layout.tables.table("claims"))]})
        yield Job("report", (), {"results": self.report_inputs()}, {"report": [str(layout.report)]})

    def inpainting_run_inputs(self, dataset: str, sampler: str, seed: int | str) -> List[str]:
        """The files of a training run inpainting reads: its config and weights."""
        files = self.run(dataset, sampler, seed).files
        return [files["config"], files["model"], files["model_checksum"]]

    def uniformity_run_inputs(self, sampler: str) -> List[str]:
        """The files of a training run the uniformity check reads: its config and energy networks."""
        files = self.uniformity_runs()[sampler].files
        return [files["samples"], files["config"], files["energies"], files["energies_checksum"]]


# ---------------------------------------------------------------------- helpers


def _uses_gpu(suite: Dict[str, Any], dataset: str) -> bool:
    """The suite key ``gpu`` is a bool, or the list of data sets whose jobs each take one GPU."""
    gpu = suite.get("gpu", False)
    return dataset in gpu if isinstance(gpu, list) else bool(gpu)


def _with_reference_sentinel(suite: Dict[str, Any]) -> Dict[str, Any]:
    """The suite with :data:`REFERENCE_SENTINEL` under every configured reference (an explicit
    ``reference: null`` anywhere means "the default", so it is dropped first)."""
    suite = _without_null_references(suite)
    if ((suite.get("defaults") or {}).get("fid") or {}).get("reference"):
        return suite  # set for every run: nothing to make
    return suite_config.deep_merge(suite, {"defaults": {"fid": {"reference": REFERENCE_SENTINEL}}})


def _without_null_references(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_null_references(item) for item in value]
    if not isinstance(value, dict):
        return value
    out = {key: _without_null_references(item) for key, item in value.items()}
    fid = out.get("fid")
    if isinstance(fid, dict) and "reference" in fid and fid["reference"] is None:
        out["fid"] = {key: item for key, item in fid.items() if key != "reference"}
    return out


def _with_reference(run: Dict[str, Any], layout: Layout) -> Dict[str, Any]:
    """The run with the sentinel replaced: its cached statistics with FID on, else none."""
    fid = run["fid"]
    if fid["reference"] != REFERENCE_SENTINEL:
        return run
    reference = None
    if fid["every"]:
        protocol = "proxy" if fid["proxy"] else "inception"
        reference = str(layout.reference_stats(run["data"]["name"], protocol, run["data"]["image_size"]))
    return {**run, "fid": {**fid, "reference": reference}}


def _made_here(reference: str, run: Run, layout: Layout) -> bool:
    protocol = "proxy" if run.config["fid"]["proxy"] else "inception"
    return reference == str(layout.reference_stats(run.dataset, protocol, run.config["data"]["image_size"]))


def _image_needs(run: Dict[str, Any], layout: Layout) -> Dict[str, str]:
    """An image run needs its data set checked, its FID reference statistics and, for the real
    FID, the Inception weights."""
    dataset = run["data"]["name"]
    if suite_config.data_kind(dataset) != "images":
        return {}
    needs = {} if dataset in IN_MEMORY else {"data": str(layout.data_checked(dataset))}
    if run["fid"]["every"]:
        needs["reference"] = run["fid"]["reference"]
        if not run["fid"]["proxy"]:
            needs["inception"] = inception_file(run)
    return needs


def inception_file(run: Dict[str, Any]) -> str:
    """The weights file a run's FID loads: fid.inception, else $STANLEY_INCEPTION, else the cache."""
    from .images import fid  # torch: only for a plan with the real FID

    return str(fid.inception_path(run["fid"]["inception"]))


def _check_inpainting(suite: Dict[str, Any]) -> Dict[str, Any]:
    spec = suite.get("inpainting") or {}
    if not isinstance(spec, dict):
        raise ConfigError("suite key inpainting must be a mapping (dataset, n, samplers, mask, steps)")
    return {**INPAINTING_DEFAULTS, **spec}
