"""The ``diagnostics`` block of a suite config: its defaults, its checks, and the CLI calls it
stands for.

The block names the targets (each with its options, one sampler-option pool shared by every
sampler, its radii and its far start), the samplers, and the settings of each diagnostic
(``drift``, ``minorisation``, ``rate``, ``mixing``, ``uniformity``); a target may override any
of those settings for itself. :func:`argv` turns (block, kind, target) into the arguments of
``stanley diagnose KIND``, so the workflow and :func:`run` issue the same commands.

Sampler options per target follow one rule, stated in the report: ``noise_scale = 1`` (the
accept/reject kernels then target pi itself), a base step ``s`` about half the squared
smallest local scale of the target, and STANLEY's threshold at the 90% quantile of
``|d log pi / d z_i|`` under the target, so that STANLEY equals Langevin in the bulk and
truncates the drift only in the tails (Atchade 2006's truncated drift, which the theorem's
kernel is). Every sampler of a target gets the same pool (the tuning protocol of docs/readings.md).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Dict, List, Sequence

from ..errors import ConfigError, unknown
from ..plumbing.rundir import Layout

SAMPLERS = ["langevin", "stanley", "mala", "stanley_mh", "hmc", "gd"]
KINDS = ("drift", "minorisation", "rate", "mixing")
SETTINGS = {
    "drift": {"directions": 16, "samples": 4000},
    "minorisation": {"grid": 41},
    "rate": {"chains": 2000, "steps": 2000, "distance": "sw", "projections": 64, "limit_steps": 2000},
    "mixing": {"chains": 8, "warmup": 1000, "draws": 5000, "init_scale": 2.0},
}


def _target(step: float, threshold: float, radii: List[float], start: float, **options) -> Dict[str, Any]:
    return {"options": options, "sampler": {"step_size": step, "noise_scale": 1.0, "threshold": threshold,
                                            "leapfrog": 5}, "radii": radii, "start_radius": start}


DEFAULTS: Dict[str, Any] = {
    "seed": 0,
    "beta": 0.5,
    "samplers": list(SAMPLERS),
    **copy.deepcopy(SETTINGS),
    "targets": {
        "gaussian": _target(0.5, 1.5, [0, 0.5, 1, 2, 3, 4, 6, 8, 12, 16], 8.0),
        "light": _target(0.05, 3.5, [0, 0.25, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 8], 3.0),
        "laplace": _target(0.5, 1.0, [0, 1, 2, 4, 6, 8, 12, 16, 24, 32], 12.0),
        "student": _target(0.5, 1.25, [0, 1, 2, 4, 8, 16, 32, 64, 128], 16.0),
        "rings": _target(0.01, 8.0, [0, 0.5, 1, 2, 3, 4, 5, 6, 8, 12], 8.0),
        "gmm": _target(0.01, 10.0, [0, 0.5, 1, 1.5, 2, 3, 4, 6, 8], 4.0),
        "banana": _target(0.1, 1.5, [0, 5, 10, 20, 30, 40, 60, 80, 100], 40.0),
    },
    "uniformity": {
        "dataset": "rings", "seed": 0, "samplers": list(SAMPLERS), "beta": 0.5, "a": None,
        "radii": [0, 0.5, 1, 2, 3, 4, 5, 6, 8], "directions": 8, "samples": 1000, "grid": 200,
    },
}
"""The paper-scale block: seven tail classes x six samplers."""

TARGET_KEYS = {"options", "sampler", "radii", "start_radius", "samplers", *SETTINGS}


def _merge_known(where: str, given: Dict[str, Any], defaults: Dict[str, Any]) -> Dict[str, Any]:
    if not isinstance(given, dict):
        raise ConfigError(f"{where} must be a mapping, got {given!r}")
    for key in given:
        if key not in defaults:
            raise unknown(f"key in {where}:", key, defaults)
    return {**defaults, **given}


def _radii(where: str, value: Any) -> List[float]:
    """At least two radii: the verdict needs a ball and something outside it."""
    if not isinstance(value, list) or len(set(value)) < 2 or any(
            isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 for v in value):
        raise ConfigError(f"{where} must list at least two distinct numbers >= 0, got {value!r}")
    return [float(v) for v in value]


def check(block: Dict[str, Any] | None) -> Dict[str, Any]:
    """The block with defaults filled in, every key and value checked (ConfigError names the key).

    A block without ``targets`` gets the default targets; a block that gives ``targets``
    replaces them (so a smoke config lists only the targets it runs)."""
    from ..sampling import samplers, targets  # torch: only when a block is checked
    from .verdicts import SUBSETS
    from .geometric import GROUPS

    block = _merge_known("diagnostics", copy.deepcopy(block or {}), copy.deepcopy(DEFAULTS))
    for kind in SETTINGS:
        block[kind] = _merge_known(f"diagnostics.{kind}", block[kind], SETTINGS[kind])
    block["uniformity"] = (None if block["uniformity"] is None else
                           _merge_known("diagnostics.uniformity", block["uniformity"], DEFAULTS["uniformity"]))
    for name in block["samplers"]:
        if name not in samplers.NAMES:
            raise unknown("sampler in diagnostics.samplers:", name, samplers.NAMES)
    beta = block["beta"]
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not 0 < beta < 1:
        raise ConfigError(f"diagnostics.beta must be a number in (0, 1), got {beta!r}")
    if not isinstance(block["targets"], dict) or not block["targets"]:
        raise ConfigError("diagnostics.targets must map target names to their settings")
    for name, spec in block["targets"].items():
        where = f"diagnostics.targets.{name}"
        if name not in targets.REGISTRY:
            raise unknown("target in diagnostics.targets:", name, targets.REGISTRY)
        spec = dict(spec or {})
        for key in spec:
            if key not in TARGET_KEYS:
                raise unknown(f"key in {where}:", key, TARGET_KEYS)
        spec.setdefault("options", {})
        spec.setdefault("sampler", {})
        spec.setdefault("samplers", block["samplers"])
        for kind in SETTINGS:
            spec[kind] = _merge_known(f"{where}.{kind}", spec.get(kind) or {}, block[kind])
        spec["radii"] = _radii(f"{where}.radii", spec.get("radii"))
        for kind, key, least, why in (
                ("drift", "samples", 2 * max(SUBSETS), f"the stability check uses samples/{max(SUBSETS)}"),
                ("rate", "chains", 4 * GROUPS, f"the rate test splits them into {GROUPS} groups")):
            value = spec[kind][key]
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ConfigError(f"{where}.{kind}.{key} must be an integer >= {least} ({why}), got {value!r}")
        start = spec.get("start_radius")
        if isinstance(start, bool) or not isinstance(start, (int, float)) or start < 0:
            raise ConfigError(f"{where}.start_radius must be a number >= 0, got {start!r}")
        for key in spec["sampler"]:
            if key not in samplers.ALL_OPTIONS:
                raise unknown(f"sampler option in {where}.sampler:", key, samplers.ALL_OPTIONS)
        target = targets.get(name, **spec["options"])
        for sampler in spec["samplers"]:
            if sampler not in samplers.NAMES:
                raise unknown(f"sampler in {where}.samplers:", sampler, samplers.NAMES)
            samplers.get(sampler, target.log_prob, **samplers.options_for(sampler, spec["sampler"]))
        block["targets"][name] = spec
    if block["uniformity"] is not None:
        u = block["uniformity"]
        u["radii"] = _radii("diagnostics.uniformity.radii", u["radii"])
        for name in u["samplers"]:
            if name not in samplers.NAMES:
                raise unknown("sampler in diagnostics.uniformity.samplers:", name, samplers.NAMES)
    return block


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _join(values: Sequence[Any]) -> str:
    return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def _yaml(value: Any) -> str:
    import yaml

    return yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()


def target_args(block: Dict[str, Any], target: str) -> List[str]:
    """``--target``, ``--target-opt``s, ``--sampler`` and the sampler pool of one target."""
    spec = block["targets"][target]
    args = ["--target", target]
    for key, value in spec["options"].items():
        args += ["--target-opt", f"{key}={_yaml(value)}"]
    args += ["--sampler", ",".join(spec["samplers"])]
    for key, value in spec["sampler"].items():
        args += [_flag(key), str(value)]
    return args


def argv(block: Dict[str, Any], kind: str, target: str, out: str | Path, threads: int = 1) -> List[str]:
    """The arguments of ``stanley`` for one diagnostic of one target (block from :func:`check`)."""
    if kind not in KINDS:
        raise unknown("diagnostic", kind, KINDS)
    if target not in block["targets"]:
        raise unknown("target of this diagnostics block:", target, block["targets"])
    spec = block["targets"][target]
    settings = spec[kind]
    args = ["diagnose", kind, *target_args(block, target)]
    if kind in ("drift", "minorisation"):
        args += ["--radii", _join(spec["radii"])]
    if kind == "drift":
        args += ["--beta", str(block["beta"])]
    if kind == "rate":
        args += ["--start-radius", str(spec["start_radius"])]
    for key, value in settings.items():
        args += [_flag(key), str(value)]
    if kind != "minorisation":
        args += ["--seed", str(block["seed"])]
    return args + _threads(threads) + ["--out", str(out)]


def _threads(threads: int) -> List[str]:
    """``--threads N``, or nothing (torch's choice) for 0."""
    return ["--threads", str(threads)] if threads else []


def uniformity_argv(block: Dict[str, Any], run_dir: str | Path, out: str | Path, label: str = "",
                    threads: int = 1) -> List[str]:
    u = block["uniformity"]
    args = ["diagnose", "uniformity", "--run", str(run_dir), "--beta", str(u["beta"]),
            "--radii", _join(u["radii"]), "--directions", str(u["directions"]), "--samples", str(u["samples"]),
            "--grid", str(u["grid"]), "--seed", str(block["seed"]), *_threads(threads), "--out", str(out)]
    if u["a"] is not None:
        args += ["--a", str(u["a"])]
    return args + (["--label", label] if label else [])


def outputs(block: Dict[str, Any], layout: Layout) -> Dict[str, List[Path]]:
    """Where each kind's per-target table goes (the layout's, as the workflow's)."""
    return {kind: [layout.diagnostics_table(kind, t) for t in block["targets"]] for kind in KINDS}


def run(block: Dict[str, Any] | None, results: str | Path, threads: int = 0) -> Dict[str, Path]:
    """Every diagnostic of the block in this process, then the verdicts and the figures.

    What the workflow does job by job (without uniformity, which needs training runs);
    for tests, the demo and a quick look."""
    from .cli import main

    block = check(block)
    layout = Layout(results)
    files = outputs(block, layout)
    for kind in KINDS:
        for target, out in zip(block["targets"], files[kind]):
            main(argv(block, kind, target, out, threads))
    verdicts = layout.diagnostics_verdicts
    main(["diagnose", "summarise", *sum(([f"--{k}", *map(str, files[k])] for k in KINDS), []),
          "--out", str(verdicts)])
    figures = {}
    for name, kind in (("drift", "drift"), ("rate", "rate")):
        figures[name] = layout.diagnostics_figure(name)
        main(["diagnose", "plot", name, "--inputs", *map(str, files[kind]), "--out", str(figures[name])])
    return {"verdicts": verdicts, **figures}
