"""Configs: a *run* config drives one training job; a *suite* config is the experiment matrix.

A suite holds ``defaults`` (a run-config fragment), ``per_dataset`` and ``per_sampler``
fragments, and the lists ``datasets`` x ``samplers`` x ``seeds``. :func:`resolve_run` merges
them into one run config. ``sampler.options`` in a suite is a shared pool: each sampler takes
the options it knows (``threshold`` reaches only the STANLEY kernels). ``samplers_per_dataset``
gives a data set its own sampler list; ``data_root`` sets every run's ``data.root``. Every key is checked
before any work starts; a bad one raises :class:`ConfigError` naming it and the fix.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Tuple

from . import options
from ..errors import ConfigError, require_number, shown, unknown

RUN_DEFAULTS: Dict[str, Any] = {
    "seed": 0,
    "device": "auto",
    "data": {"name": "rings", "options": {}, "noise": 0.0, "root": "data", "image_size": 32, "limit": None,
             "split": "train", "verify": True},
    "model": {"name": "toynet", "options": {}},
    "sampler": {"name": "stanley", "options": {}},
    "training": {
        "iterations": 10000,
        "batch_size": 100,
        "n_chains": 100,
        "mcmc_steps": 100,
        "init": "gaussian",
        "init_scale": 2.0,
        "persistent_size": 10000,
        "reinit_prob": 0.05,
        "optimizer": "adam",
        "lr": 1.0e-4,
        "betas": [0.9, 0.999],
        "momentum": 0.0,
        "log_every": 100,
        "checkpoint_every": 1000,
        "keep_checkpoints": 2,
        "divergence_bound": 1.0e6,
        "scheme": "short_run",
    },
    "improved_cd": dict(options.IMPROVED_CD),
    "evaluation": {
        "every": 2000,
        "snapshot_every": None,
        "temperature": None,
        "grid_size": 200,
        "n_samples": 2000,
        "projections": 256,
    },
    "fid": {
        "every": 0,
        "n_samples": 10000,
        "batch_size": 250,
        "proxy": False,
        "inception": None,
        "reference": None,
    },
}
"""Every key a run config may hold, with its default. ``*.options`` are free-form: the
sampler, target or model that receives them checks them. ``data.root``, ``image_size`` and
``limit`` concern image data sets only (``data.verify: false`` skips their md5 check: see
:mod:`stanley.images.data`); ``evaluation`` grids concern toy targets only.
``evaluation.snapshot_every`` spaces the sample snapshots of Figures 1-3 (null: one with each
evaluation); ``fid.every`` moves FID rows only (:mod:`stanley.learning.schedule`). ``fid.every = 0`` turns FID off; ``fid.proxy`` uses the stand-in feature extractor (tests, CI):
its numbers are labelled "proxy" everywhere. ``training.scheme: improved_cd`` trains with Du et
al.'s Improved Contrastive Divergence, configured by the ``improved_cd`` block (ignored otherwise;
see :mod:`stanley.learning.improved_cd`)."""

PAPER_TOY_SAMPLER = {
    "step_size": 2.0,             # s: the drift is (s / 2) grad f = grad f
    "noise_scale": 0.0070710678,  # eps = 0.01 / sqrt(2): the noise eps sqrt(s) xi = 0.01 xi
    "threshold": 0.01,            # STANLEY's th
    "norm": "coordinate",
    "noise_power": 0.5,
    "drift": "scaled",
    "refresh": "step",
    "leapfrog": 5,                # HMC: K = 100 gradient evaluations = 20 transitions x 5 leapfrog steps
}
"""The paper's toy sampler setting (ebm-anatomy's x <- x + grad f + 0.01 N(0, I)): the options a
run config, or a suite's ``sampler.options`` pool, starts from; each sampler takes those it knows. Options a config sets
replace these one by one, so setting only ``noise_scale`` keeps s = 2 (the drift stays the paper's)."""

MAX_SEED = 2**40
"""Seeds derive generator seeds up to 1,000,003 x (seed + 1) + ... (training's evaluation streams),
which must fit torch's 64-bit seeds."""
MAX_ITERATIONS = 10**8  # a cap against typos (1e30): days of the cheapest run
MAX_MCMC_STEPS = 10**6  # a cap against typos: the paper's K is at most a few hundred

FREE_FORM = {"data.options", "model.options", "sampler.options"}
SUITE_KEYS = {
    "seeds", "samplers", "datasets", "defaults", "per_dataset", "per_sampler", "gpu", "jobs_per_gpu",
    "diagnostics", "scale", "results", "samplers_per_dataset", "data_root", "figures", "inpainting", "ablation",
    "studies", "tuning", "batch_toy_runs",
}
"""``figures`` and ``inpainting`` are read by the workflow only (workflow/rules/figures.smk, inpainting.smk);
``studies`` by :mod:`stanley.experiment.studies`; ``tuning`` by :mod:`stanley.experiment.tuning`; ``batch_toy_runs`` (default
true: a toy data set's seeds train as one batched job) by the workflow."""


def _number(low: float | None = None, high: float | None = None, *, strict_low: bool = False,
            integer: bool = False, nullable: bool = False, why: str = "") -> Callable[[str, Any], None]:
    def check(key: str, value: Any) -> None:
        require_number(f"config key {key}", value, low, high, strict_low=strict_low, integer=integer,
                       nullable=nullable, why=why)
    return check


def _choice(*allowed: str) -> Callable[[str, Any], None]:
    def check(key: str, value: Any) -> None:
        if value not in allowed:
            raise ConfigError(f"config key {key} must be one of {', '.join(allowed)}, got {shown(value)}")
    return check


def _string(key: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"config key {key} must be a non-empty string, got {shown(value)}")


def _boolean(key: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"config key {key} must be true or false, got {shown(value)}")


def _augmentations(key: str, value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(op, str) for op in value):
        raise ConfigError(f"config key {key} must be a list of {', '.join(options.OPS)} ([] for none), got {shown(value)}")
    options.check_augment(value)


def _optional_string(key: str, value: Any) -> None:
    if value is not None:
        _string(key, value)


def _betas(key: str, value: Any) -> None:
    if not (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in value)):
        raise ConfigError(f"config key {key} must be two numbers in [0, 1), e.g. [0.9, 0.999], got {shown(value)}")


CHECKS: Dict[str, Callable[[str, Any], None]] = {
    "seed": _number(0, MAX_SEED, integer=True, why="seeds are combined into 64-bit generator seeds"),
    "device": _choice("auto", "cpu", "cuda"),
    "data.name": _string,
    "data.noise": _number(0),
    "data.root": _string,
    "data.split": _string,
    "data.image_size": _number(8, integer=True),
    "data.limit": _number(1, integer=True, nullable=True),
    "data.verify": _boolean,
    "model.name": _string,
    "sampler.name": _choice(*options.NAMES),
    "training.iterations": _number(1, MAX_ITERATIONS, integer=True, why="a cap against typos"),
    "training.batch_size": _number(1, integer=True),
    "training.n_chains": _number(1, integer=True),
    "training.mcmc_steps": _number(1, MAX_MCMC_STEPS, integer=True, why="a cap against typos; the paper's K is 100 or less"),
    "training.init": _choice("gaussian", "uniform", "persistent"),
    "training.init_scale": _number(0, strict_low=True),
    "training.persistent_size": _number(1, integer=True),
    "training.reinit_prob": _number(0, 1),
    "training.optimizer": _choice("adam", "sgd"),
    "training.lr": _number(0, strict_low=True),
    "training.betas": _betas,
    "training.momentum": _number(0, 1),
    "training.log_every": _number(1, integer=True),
    "training.checkpoint_every": _number(1, integer=True),
    "training.keep_checkpoints": _number(1, integer=True),
    "training.divergence_bound": _number(0, strict_low=True),
    "training.scheme": _choice("short_run", "improved_cd"),
    "improved_cd.buffer_size": _number(0, integer=True),
    "improved_cd.restart": _number(0, 1),
    "improved_cd.augment": _augmentations,
    "improved_cd.kl": _boolean,
    "improved_cd.kl_weight": _number(0),
    "improved_cd.entropy": _boolean,
    "improved_cd.entropy_weight": _number(0),
    "improved_cd.entropy_samples": _number(2, integer=True),
    "improved_cd.multiscale": _boolean,
    "improved_cd.ema": _number(0, 1),
    "evaluation.every": _number(1, integer=True),
    "evaluation.snapshot_every": _number(1, integer=True, nullable=True),
    "evaluation.temperature": _number(0, strict_low=True, nullable=True),
    "evaluation.grid_size": _number(8, integer=True),
    "evaluation.n_samples": _number(10, integer=True),
    "evaluation.projections": _number(1, integer=True),
    "fid.every": _number(0, integer=True),
    "fid.n_samples": _number(2, integer=True),
    "fid.batch_size": _number(1, integer=True),
    "fid.proxy": _boolean,
    "fid.inception": _optional_string,
    "fid.reference": _optional_string,
}


def deep_merge(base: Dict[str, Any], override: Dict[str, Any]) -> Dict[str, Any]:
    """A new dict: ``override`` on top of ``base``, merging nested dicts key by key."""
    merged = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def check_keys(fragment: Any, where: str = "", template: Dict[str, Any] = RUN_DEFAULTS, _key: str = "") -> None:
    """Reject any key that :data:`RUN_DEFAULTS` does not know, naming the nearest valid one.

    ``where`` prefixes messages (e.g. ``per_dataset.rings``); ``_key`` is the path inside a run config.
    """
    if not isinstance(fragment, dict):
        raise ConfigError(f"config {where or 'file'} must be a mapping of keys to values, got {shown(fragment)}")
    for key, value in fragment.items():
        key_path = f"{_key}.{key}" if _key else str(key)
        named = f"{where}.{key}" if where else str(key)
        if key not in template:
            raise unknown(f"config key in {where or 'the run config'}:", key, template)
        if key_path in FREE_FORM:
            if not isinstance(value, dict):
                raise ConfigError(f"config key {named} must be a mapping, got {shown(value)}")
        elif isinstance(template[key], dict):
            check_keys(value, named, template[key], key_path)


def validate_run(run: Dict[str, Any]) -> Dict[str, Any]:
    """Check every key and value of a complete run config; returns it for chaining."""
    check_keys(run)
    for path, check in CHECKS.items():
        check(path, value_at(run, path))
    options.check_sampler(run["sampler"]["name"], run["sampler"]["options"])
    if data_kind(run["data"]["name"]) == "toy":  # its options (finite, in range) are checked by building it
        from ..sampling import targets

        targets.get(run["data"]["name"], **run["data"]["options"])
    if run["fid"]["every"] and data_kind(run["data"]["name"]) != "images":
        raise ConfigError("fid.every is set but data.name is a toy target; FID is for image data sets (set fid.every: 0)")
    if run["fid"]["every"] and not run["fid"]["reference"]:
        raise ConfigError("fid.every is set but fid.reference is not: name the reference statistics file "
                          "(the workflow's reference_stats rule makes it)")
    training = run["training"]
    kernel_cost = run["sampler"]["options"].get("leapfrog", 1) if run["sampler"]["name"] == "hmc" else 1
    if training["mcmc_steps"] % kernel_cost:
        raise ConfigError(
            f"training.mcmc_steps ({training['mcmc_steps']}) must be a multiple of hmc's leapfrog "
            f"({kernel_cost}) so every sampler spends the same gradient budget"
        )
    if training["scheme"] == "improved_cd":
        _check_improved_cd(run)
    if run["evaluation"]["temperature"] is None:
        raise ConfigError(
            "evaluation.temperature is not set and the sampler has no noise_scale to take it from; "
            "set evaluation.temperature (the model density is exp(f / T))"
        )
    return run


def _check_improved_cd(run: Dict[str, Any]) -> None:
    spec, images = run["improved_cd"], data_kind(run["data"]["name"]) == "images"
    if spec["ema"] >= 1:
        raise ConfigError(f"improved_cd.ema must be below 1 (0 turns EMA off), got {spec['ema']!r}")
    if not images and (spec["augment"] or spec["multiscale"]):
        raise ConfigError("improved_cd.augment and improved_cd.multiscale are for image data sets; "
                          f"{run['data']['name']} is a toy target: set improved_cd.augment: [] and multiscale: false")
    if spec["augment"] and not spec["buffer_size"]:
        raise ConfigError("improved_cd.augment transforms replay-buffer samples, but improved_cd.buffer_size is 0; "
                          "set a buffer size or augment: []")
    if spec["buffer_size"] and run["training"]["init"] == "persistent":
        raise ConfigError("improved_cd's replay buffer replaces training.init: persistent; "
                          "use init: uniform or gaussian (the buffer's restarts draw from it)")
    if spec["multiscale"] and run["model"]["name"] != "convnet":
        raise ConfigError(f"improved_cd.multiscale needs model.name: convnet, got {run['model']['name']!r}")


def value_at(run: Dict[str, Any], key: str) -> Any:
    """The value of a dotted run-config key, e.g. ``training.mcmc_steps``."""
    for part in key.split("."):
        run = run[part]
    return run


def data_names() -> list:
    """Every ``data.name``: the toy targets, then the image data sets."""
    return [*options.TARGETS, *options.DATASETS]


def data_kind(name: str) -> str:
    """``toy`` for a target of :mod:`stanley.sampling.targets`, ``images`` for a data set of :mod:`stanley.images.data`."""
    if name in options.TARGETS:
        return "toy"
    if name in options.DATASETS:
        return "images"
    raise unknown("data.name", name, [*options.TARGETS, *options.DATASETS])


def complete_run(fragment: Dict[str, Any]) -> Dict[str, Any]:
    """Defaults under a user's run config, the evaluation temperature filled in, then checked."""
    check_keys(fragment)
    run = deep_merge(RUN_DEFAULTS, fragment)
    if run["sampler"]["name"] in options.NAMES:  # an unknown name is reported by validate_run
        paper = options.options_for(run["sampler"]["name"], PAPER_TOY_SAMPLER)
        run["sampler"]["options"] = {**paper, **run["sampler"]["options"]}
    if run["evaluation"]["temperature"] is None:
        noise = run["sampler"]["options"].get("noise_scale")
        if noise:
            run["evaluation"]["temperature"] = float(noise) ** 2
    return validate_run(run)


def resolve_run(suite: Dict[str, Any], dataset: str, sampler: str, seed: int) -> Dict[str, Any]:
    """The run config of one (dataset, sampler, seed) cell of a suite."""
    check_suite(suite)
    root = {"data": {"root": suite["data_root"]}} if suite.get("data_root") is not None else {}
    parts = [("defaults", suite.get("defaults") or {}),
             ("data_root", root),  # above defaults, below a data set's own data.root
             (f"per_dataset.{dataset}", (suite.get("per_dataset") or {}).get(dataset) or {}),
             (f"per_sampler.{sampler}", (suite.get("per_sampler") or {}).get(sampler) or {})]
    fragment: Dict[str, Any] = {}
    for where, part in parts:
        check_keys(part, where)
        fragment = deep_merge(fragment, part)
    pool = {**PAPER_TOY_SAMPLER, **fragment.get("sampler", {}).get("options", {})}
    noise = pool.get("noise_scale")
    fragment = deep_merge(fragment, {"seed": seed, "data": {"name": dataset}, "sampler": {"name": sampler}})
    fragment["sampler"]["options"] = options.options_for(sampler, pool)
    run = deep_merge(RUN_DEFAULTS, fragment)
    if run["evaluation"]["temperature"] is None and noise:
        run["evaluation"]["temperature"] = float(noise) ** 2  # one temperature for every sampler of a cell
    return validate_run(run)


def check_suite(suite: Dict[str, Any]) -> None:
    if not isinstance(suite, dict):
        raise ConfigError("a suite config must be a mapping")
    for key in suite:
        if key not in SUITE_KEYS:
            raise unknown("suite config key", key, SUITE_KEYS)
    for key in ("datasets", "samplers", "seeds"):
        if not isinstance(suite.get(key), list) or not suite[key]:
            raise ConfigError(f"suite config key {key} must be a non-empty list")
    for name in suite["datasets"]:  # before anything that names a data set, so a typo is blamed here
        if not isinstance(name, str) or name not in data_names():
            raise unknown("data set in suite key datasets:", name, data_names())
    for name in suite["samplers"]:
        if name not in options.NAMES:
            raise unknown("sampler in suite key samplers:", name, options.NAMES)
    per_dataset_samplers = suite.get("samplers_per_dataset") or {}
    if not isinstance(per_dataset_samplers, dict):
        raise ConfigError("suite key samplers_per_dataset must map data set names to lists of samplers")
    for dataset, names in per_dataset_samplers.items():
        if dataset not in suite["datasets"]:
            raise ConfigError(f"suite key samplers_per_dataset names {dataset!r}, which is not in the suite's "
                              f"list: {suite['datasets']}")
        if not isinstance(names, list) or not names:
            raise ConfigError(f"suite key samplers_per_dataset.{dataset} must be a non-empty list")
        for name in names:
            if name not in options.NAMES:
                raise unknown(f"sampler in suite key samplers_per_dataset.{dataset}:", name, options.NAMES)
    if suite.get("data_root") is not None and (not isinstance(suite["data_root"], str) or not suite["data_root"]):
        raise ConfigError(f"suite key data_root must be a folder name, got {suite['data_root']!r}")
    every_sampler = sorted({name for dataset in suite["datasets"] for name in samplers_of(suite, dataset)})
    for key, names in (("per_dataset", suite["datasets"]), ("per_sampler", every_sampler)):
        for name in suite.get(key, {}) or {}:
            if name not in names:
                raise ConfigError(f"suite key {key} names {name!r}, which is not in the suite's list: {names}")


def samplers_of(suite: Dict[str, Any], dataset: str) -> list:
    """The samplers run on ``dataset``: its ``samplers_per_dataset`` entry, else ``samplers``
    (the rings toy compares six samplers, the image sets the paper's five)."""
    return (suite.get("samplers_per_dataset") or {}).get(dataset) or suite["samplers"]


def restricted(suite: Dict[str, Any], datasets: Any) -> Dict[str, Any]:
    """The suite cut down to some of its data sets, every block that names another one left out:
    the workflow's ``--config only=[rings]`` runs the paper's toy experiment alone (its matrix,
    tuning, ablation, studies and diagnostics), with the paper config's own settings."""
    if not isinstance(datasets, list) or not datasets:
        raise ConfigError(f"only must be a non-empty list of the suite's data sets, e.g. only=[rings]; got {datasets!r}")
    missing = [name for name in datasets if name not in suite.get("datasets", [])]
    if missing:
        raise ConfigError(f"only names {', '.join(map(repr, missing))}, which the suite does not run; "
                          f"its data sets: {suite.get('datasets')}")
    keep = [name for name in suite["datasets"] if name in datasets]
    out = {**copy.deepcopy(suite), "datasets": keep}
    for key in ("samplers_per_dataset", "per_dataset", "ablation"):  # keyed by data set
        if isinstance(out.get(key), dict):
            out[key] = {name: block for name, block in out[key].items() if name in keep}
    if isinstance(out.get("figures"), dict):  # figure: [data sets it draws]
        drawn = {figure: [name for name in names if name in keep] for figure, names in out["figures"].items()}
        out["figures"] = {figure: names for figure, names in drawn.items() if names}
    if isinstance(out.get("studies"), dict):
        out["studies"] = {name: study for name, study in out["studies"].items() if study.get("dataset") in keep}
    if isinstance(out.get("tuning"), dict) and isinstance(out["tuning"].get("iterations"), dict):
        out["tuning"]["iterations"] = {name: n for name, n in out["tuning"]["iterations"].items() if name in keep}
    if isinstance(out.get("gpu"), list):
        out["gpu"] = [name for name in out["gpu"] if name in keep] or False
    if isinstance(out.get("inpainting"), dict) and out["inpainting"].get("dataset") not in keep:
        del out["inpainting"]
    uniformity = (out.get("diagnostics") or {}).get("uniformity")
    if isinstance(uniformity, dict) and uniformity.get("dataset") not in keep:
        del out["diagnostics"]["uniformity"]
    return out


def suite_runs(suite: Dict[str, Any]) -> Iterator[Tuple[str, str, int, Dict[str, Any]]]:
    """Every (dataset, sampler, seed, run config) of a suite, each one validated."""
    check_suite(suite)
    for dataset in suite["datasets"]:
        for sampler in samplers_of(suite, dataset):
            for seed in suite["seeds"]:
                yield dataset, sampler, seed, resolve_run(suite, dataset, sampler, seed)


def is_suite(config: Dict[str, Any]) -> bool:
    """A suite holds suite keys (``datasets``, ``seeds``, ...); none of them is a run-config key, so
    one is enough, and a typo in another is then named as a suite key."""
    return isinstance(config, dict) and any(key in SUITE_KEYS for key in config)


def load_yaml(path: str | Path) -> Dict[str, Any]:
    """A config file's mapping: read by :mod:`stanley.experiment.safeyaml` (size, depth and alias limits)."""
    from . import safeyaml

    data = safeyaml.load_file(path)
    if data is None:
        raise ConfigError(f"config file {path} is empty; write a run config (e.g. training: {{iterations: 1000}}) "
                          "or a suite config (datasets, samplers, seeds)")
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys to values, got {shown(data)}")
    return data


def config_hash(run: Dict[str, Any]) -> str:
    """A short content hash of a run config (resumes refuse checkpoints of another config)."""
    canonical = json.dumps(run, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def run_label(run: Dict[str, Any]) -> str:
    return f"{run['data']['name']}/{run['sampler']['name']}/seed{run['seed']}"


def flatten(run: Dict[str, Any], prefix: str = "") -> Dict[str, Any]:
    """``{"training.lr": 1e-4, ...}``: one row of a provenance table."""
    rows: Dict[str, Any] = {}
    for key, value in run.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            rows.update(flatten(value, path))
        else:
            rows[path] = value
    return rows


__all__ = [
    "ConfigError", "PAPER_TOY_SAMPLER", "RUN_DEFAULTS", "check_keys", "check_suite", "complete_run", "config_hash",
    "deep_merge", "flatten", "is_suite", "load_yaml", "resolve_run", "run_label", "samplers_of", "suite_runs",
    "validate_run", "value_at",
]
