"""The tuning stage: each sampler's knobs chosen by short pilot runs, by a rule fixed in advance.

The paper tuned each method's step over a grid and reported the best; a shared untuned step
decides a comparison by configuration (an accept/reject kernel that rejects every proposal
loses by construction). The suite key ``tuning`` declares, for every method alike::

    tuning:
      enabled: true                  # false: the configured values are used as given
      seed: 100                      # the pilots' seed, apart from the matrix's seeds
      grid:                          # one grid per knob: multipliers of the configured value,
        step_size: [0.03, 0.1, 0.3, 1, 3]   # the same for every sampler that has the knob
      iterations: {rings: 500, cifar10: 5000}   # each data set's pilot length
      max_fraction: 0.1              # the pilots' share of the matrix's training iterations
      tolerance: 0.02                # a relative score difference the pilots cannot resolve

Each (data set, sampler) runs one pilot per grid point (the product of the knobs' grids, over
the knobs the sampler takes), the matrix's run config with the knobs multiplied and the length
cut. :data:`RULE` picks the point the main runs use. Pilots share their data set's per-iteration
cost with its matrix runs, so the fraction of iterations is the fraction of compute.
Torch-free: the workflow expands and checks the grid when it builds the DAG.
"""

from __future__ import annotations

import math
import warnings
from itertools import product
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pandas as pd
import yaml

from . import options as sampler_registry  # torch-free: the plan expands the grid without torch
from .config import deep_merge, resolve_run, samplers_of, validate_run
from ..errors import ConfigError, unknown
from ..plumbing.rundir import RunDir

KEYS = {"enabled", "seed", "grid", "iterations", "max_fraction", "tolerance"}
RULE = ("lowest score at the pilot's end (FID on images, sliced W2 on toy targets); a point other "
        "than the configured values must beat them by more than the pilots' resolution (the larger "
        "of tuning.tolerance times their score and, on toy targets, the sliced-W2 noise floor), "
        "else the configured values are kept; a pilot that diverged or has no finite score is never "
        "chosen; a tie goes to the point nearest the configured values; if no pilot finished, the "
        "configured values are kept")
"""The selection rule, declared before any pilot runs (the report prints it)."""

Key = Tuple[str, str, str]  # (dataset, sampler, point)


def check(suite: Dict[str, Any]) -> Dict[str, Any]:
    """The tuning spec, checked; ``{}`` when the suite has none or turns it off."""
    spec = suite.get("tuning")
    if not spec:
        return {}
    if not isinstance(spec, dict):
        raise ConfigError("suite key tuning must be a mapping (enabled, seed, grid, iterations, max_fraction)")
    for key in spec:
        if key not in KEYS:
            raise unknown("key in suite key tuning:", key, KEYS)
    if spec.get("enabled", True) is False:
        return {}
    if spec.get("enabled", True) is not True:
        raise ConfigError(f"tuning.enabled must be true or false, got {spec['enabled']!r}")
    seed = spec.get("seed", 100)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"tuning.seed must be an integer >= 0, got {seed!r}")
    if seed in suite.get("seeds", []):
        raise ConfigError(f"tuning.seed {seed} is one of the matrix's seeds: pilots would choose on the runs "
                          "they are judged by; pick a seed outside suite key seeds")
    grid = spec.get("grid")
    if not isinstance(grid, dict) or not grid:
        raise ConfigError("tuning.grid must map knobs (sampler options, e.g. step_size) to lists of multipliers")
    for knob, values in grid.items():
        if knob not in sampler_registry.ALL_OPTIONS:
            raise unknown("knob in tuning.grid:", knob, sampler_registry.ALL_OPTIONS)
        if (not isinstance(values, list) or not values or len(set(values)) != len(values)
                or not all(_positive(v) for v in values)):
            raise ConfigError(f"tuning.grid.{knob} must be a list of distinct positive multipliers, e.g. "
                              f"[0.1, 0.3, 1, 3]; got {values!r}")
    iterations = spec.get("iterations")
    if not isinstance(iterations, dict) or not set(suite["datasets"]) <= set(iterations):
        raise ConfigError(f"tuning.iterations must give a pilot length for each data set of the suite: "
                          f"{suite['datasets']}; got {iterations!r}")
    iterations = {dataset: iterations[dataset] for dataset in suite["datasets"]}  # others: not in this suite
    for dataset, n in iterations.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"tuning.iterations.{dataset} must be an integer >= 1, got {n!r}")
    limit = spec.get("max_fraction", 0.1)
    if not _positive(limit) or limit > 1:
        raise ConfigError(f"tuning.max_fraction must be in (0, 1], got {limit!r}")
    tolerance = spec.get("tolerance", 0.02)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < 1:
        raise ConfigError(f"tuning.tolerance must be a number in [0, 1), got {tolerance!r}")
    return {"seed": seed, "grid": grid, "iterations": iterations, "max_fraction": limit, "tolerance": tolerance}


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def knobs_of(sampler: str, grid: Dict[str, List[float]]) -> List[str]:
    """The knobs of the grid this sampler takes (a reading's pinned options are not its knobs)."""
    return [knob for knob in grid if knob in sampler_registry.OPTIONS[sampler]]


def point_label(multipliers: Dict[str, float]) -> str:
    """``step_size=x0.3``: a grid point as a directory name (``configured`` for no knob)."""
    return ",".join(f"{knob}=x{value:g}" for knob, value in multipliers.items()) or "configured"


def points(sampler: str, grid: Dict[str, List[float]]) -> Dict[str, Dict[str, float]]:
    """``{label: {knob: multiplier}}``: the product of the grids of the sampler's knobs."""
    knobs = knobs_of(sampler, grid)
    return {point_label(dict(zip(knobs, values))): dict(zip(knobs, values))
            for values in product(*(grid[k] for k in knobs))}


def apply(run: Dict[str, Any], multipliers: Dict[str, float]) -> Dict[str, Any]:
    """The run with each knob's configured value multiplied, checked again."""
    options = dict(run["sampler"]["options"])
    defaults = sampler_registry.OPTIONS[run["sampler"]["name"]]
    for knob, factor in multipliers.items():
        options[knob] = options.get(knob, defaults[knob]) * factor
    return validate_run(deep_merge(run, {"sampler": {"options": options}}))


def pilot_run(run: Dict[str, Any], multipliers: Dict[str, float], iterations: int) -> Dict[str, Any]:
    """A matrix run made a pilot: knobs multiplied, length cut, scored once at its end."""
    training = run["training"]
    cut = {"training": {"iterations": iterations, "checkpoint_every": iterations,
                        "log_every": min(training["log_every"], iterations)},
           "evaluation": {"every": iterations}}
    if run["fid"]["every"]:
        cut["fid"] = {"every": iterations}
    return apply(deep_merge(run, cut), multipliers)


def pilots(suite: Dict[str, Any]) -> Dict[Key, Dict[str, Any]]:
    """``{(dataset, sampler, point): run config}`` for every pilot of the suite (``{}`` when off)."""
    spec = check(suite)
    if not spec:
        return {}
    out: Dict[Key, Dict[str, Any]] = {}
    for dataset in suite["datasets"]:
        for sampler in samplers_of(suite, dataset):
            base = resolve_run(suite, dataset, sampler, spec["seed"])
            for label, multipliers in points(sampler, spec["grid"]).items():
                out[(dataset, sampler, label)] = pilot_run(base, multipliers, spec["iterations"][dataset])
    fractions = budget(suite, out)
    over = {d: f for d, f in fractions.items() if f > spec["max_fraction"]}
    if over:  # a warning, not an error: a matrix cut down on purpose (seeds=[0]) must still run
        warnings.warn(f"the pilots cost {', '.join(f'{d}: {f:.1%}' for d, f in over.items())} of the matrix's "
                      f"training iterations, over tuning.max_fraction = {spec['max_fraction']:g}; shorten "
                      "tuning.iterations or the grid (the report shows each data set's share)", stacklevel=2)
    return out


def budget(suite: Dict[str, Any], pilot_runs: Dict[Key, Dict[str, Any]]) -> Dict[str, float]:
    """Each data set's pilot iterations over its matrix runs' iterations (same cost per iteration)."""
    fractions = {}
    for dataset in suite["datasets"]:
        matrix = sum(resolve_run(suite, dataset, s, seed)["training"]["iterations"]
                     for s in samplers_of(suite, dataset) for seed in suite["seeds"])
        spent = sum(run["training"]["iterations"] for (d, _, _), run in pilot_runs.items() if d == dataset)
        fractions[dataset] = spent / matrix
    return fractions


def select(table: pd.DataFrame, tolerance: float = 0.02) -> pd.DataFrame:
    """The table with a ``chosen`` column: one True per (dataset, sampler), by :data:`RULE`.

    ``table`` has one row per pilot: dataset, sampler, point, ``distance`` (how far the point
    is from the configured values, e.g. the largest |log multiplier|), ``score``, ``status`` and
    optionally ``floor`` (the score's noise floor: a difference below it is not resolved).
    """
    table = table.copy()
    score = pd.to_numeric(table["score"], errors="coerce")
    floor = pd.to_numeric(table["floor"], errors="coerce").fillna(0.0) if "floor" in table else 0.0 * score
    valid = (table["status"] == "completed") & score.notna() & (score.abs() != math.inf)
    table["chosen"] = False
    for _, rows in table.groupby(["dataset", "sampler"], sort=False):
        candidates = rows[valid[rows.index]]
        configured = rows.index[rows["distance"] == 0]
        if candidates.empty:  # no pilot finished: keep the configured values
            pick = configured[0] if len(configured) else None
        else:
            pick = candidates.assign(score=score[candidates.index]).sort_values(["score", "distance"], kind="stable").index[0]
            if len(configured) and valid[configured[0]]:
                base = configured[0]
                margin = max(tolerance * abs(score[base]), floor[base])
                if score[pick] >= score[base] - margin:  # not resolved: the configured values stay
                    pick = base
        if pick is not None:
            table.loc[pick, "chosen"] = True
    return table


def distance(multipliers: Dict[str, float]) -> float:
    """How far a grid point is from the configured values: the largest |log multiplier|."""
    return max((abs(math.log(v)) for v in multipliers.values()), default=0.0)


def choice(table: pd.DataFrame) -> Dict[str, Dict[str, Any]]:
    """``{sampler: {point, multipliers, score}}`` from a selected table (one data set's)."""
    out = {}
    for row in table[table["chosen"]].itertuples():
        out[row.sampler] = {"point": row.point, "multipliers": parse_point(row.point),
                            "score": None if pd.isna(row.score) else float(row.score)}
    return out


def parse_point(label: str) -> Dict[str, float]:
    """The inverse of :func:`point_label`."""
    if label == "configured":
        return {}
    out = {}
    for part in label.split(","):
        knob, sep, value = part.partition("=x")
        if not sep:
            raise ConfigError(f"not a tuning grid point: {label!r} (expected e.g. step_size=x0.3)")
        out[knob] = float(value)
    return out


def tuned(run: Dict[str, Any], choices: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    """A run with its sampler's chosen multipliers applied (unchanged if the sampler has no choice)."""
    picked: Optional[Dict[str, Any]] = choices.get(run["sampler"]["name"])
    return apply(run, picked["multipliers"]) if picked else run


def pilot_row(directory: str | Path) -> Dict[str, Any]:
    """One finished pilot's line of the tuning table, read from its run directory: its score at
    the end, and what its chains did there (movement, gamma, acceptance)."""
    files = RunDir(directory)
    run, status = files.load_config(), files.load_provenance().get("status", "unknown")
    metrics = pd.read_csv(files.metrics)
    last = metrics.iloc[-1] if len(metrics) else pd.Series(dtype=float)
    if files.fid.is_file():
        fid = pd.read_csv(files.fid)
        metric, score = "fid", (float(fid["fid"].iloc[-1]) if len(fid) else math.nan)
        if len(fid) and str(fid["protocol"].iloc[-1]) == "proxy":
            metric = "fid (proxy)"
    else:
        evals = pd.read_csv(files.eval)
        metric, score = "sliced_w2", float(evals["sliced_w2"].iloc[-1])
    row = {"dataset": run["data"]["name"], "sampler": run["sampler"]["name"], "iterations": run["training"]["iterations"],
           "metric": metric, "score": score, "status": status}
    if metric == "sliced_w2" and "sliced_w2_floor" in evals.columns:
        row["floor"] = float(evals["sliced_w2_floor"].iloc[-1])
    for key in ("step_size", "noise_scale", "threshold", "leapfrog"):
        if key in run["sampler"]["options"]:
            row[key] = run["sampler"]["options"][key]
    for key in ("movement", "gamma_mean", "acceptance"):
        row[key] = float(last[key]) if key in last and pd.notna(last[key]) else math.nan
    return row


def tuning_table(directories: Sequence[str | Path], labels: Sequence[str], fraction: float,
                 tolerance: float = 0.02) -> pd.DataFrame:
    """Every pilot of one data set, the choice marked, and the pilots' share of its matrix."""
    if len(directories) != len(labels):
        raise ConfigError("give one grid point label per pilot directory")
    rows = [{**pilot_row(d), "point": label, "distance": distance(parse_point(label))}
            for d, label in zip(directories, labels)]
    table = select(pd.DataFrame(rows), tolerance)
    table["budget_fraction"] = fraction
    first = ["dataset", "sampler", "point", "metric", "score", "chosen", "acceptance", "movement", "gamma_mean"]
    return table[first + [c for c in table.columns if c not in first]]


def load_choice(path: str | Path) -> Dict[str, Dict[str, Any]]:
    """A choice.yaml written by ``stanley tune``, checked (plain YAML: nothing in it runs)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"tuning choice {path} does not exist: run the tuning stage first (stanley tune, or the workflow target {path})")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) and isinstance(v.get("multipliers"), dict)
                                             for v in data.values()):
        raise ConfigError(f"tuning choice {path} must map samplers to {{point, multipliers, score}}")
    for sampler, picked in data.items():
        for knob, factor in picked["multipliers"].items():
            if not _positive(factor):
                raise ConfigError(f"tuning choice {path}: {sampler}.{knob} must be a positive multiplier, got {factor!r}")
    return data
