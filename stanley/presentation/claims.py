"""The claims ledger: each of the paper's claims (``claims.yaml``) gets a verdict from the runs.

**One pre-declared number per run.** A comparison claim names a window of checkpoints (where
the paper makes the claim: all of training, its first or its second half) and reduces each
run's curve to the mean of its metric over that window (a normalised area under the curve).
Checking every checkpoint separately and asking all of them to agree is not a test: with
3 seeds, 4 baselines and 19 correlated checkpoints it says "contradicted" about two times in
three when nothing differs (tests/test_claims.py reproduces this). Per-checkpoint differences are
kept as a description (:func:`checkpoint_differences`), never as a verdict.

**Paired over seeds.** Seed ``s`` of every sampler shares the data order and starts, so a part
of a claim is the per-seed difference ``d_s = A(baseline) - A(STANLEY)`` (lower is better:
``d > 0`` favours STANLEY) with a one-sample t-test; a *similar* part takes the relative
difference ``(A(STANLEY) - A(other)) / A(other)`` against a declared tolerance (two one-sided
tests). A claim with several parts is *supported* when every part is (an intersection-union
test: its p-value is the largest part's, no correction needed) and *contradicted* when any
part is contradicted (Bonferroni over the parts). The claim's p-value is twice the smaller of
the two (either direction can be a false verdict).

**Multiplicity.** Holm-Bonferroni over every (claim, STANLEY reading) the ledger tests, at
``ALPHA`` for the whole ledger, before any *supported* or *contradicted*; otherwise
*inconclusive*. One seed never decides anything. The simulation tests in tests/test_claims.py
give each rule's false-verdict rate and power at the suite's seed counts.

**Guards: not a test.** A claim is *not a test*, with the reason, when (a) no sampler learned on
its data set (:func:`learning`), (b) a compared sampler's chains do not move (median logged
``movement`` below ``MOVEMENT_FRACTION`` of the noise-free GD's on the same data set, or of
Langevin's without GD: GD moves by the drift alone, so a sampler that moves ten times less than
plain gradient steps leaves its chains near their noise starts and the comparison ranks
initialisations, not samplers), or (c) a STANLEY reading is Langevin there (gamma's mean above
``IDENTITY_GAMMA`` at every logged iteration of the window, and, where movement is logged, the
chains moving alike: at gamma = 1 the paper-text and released-code steps are Langevin's own).
Guards never look at the compared metric's differences, so they do not bias the tests.

*not run*: the runs a claim needs are missing. Nothing is guessed.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from ..experiment import readings
from ..experiment.options import PAPER
from . import tables as gathered
from .formatting import number
from ..plumbing.rundir import Layout

SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
NOT_RUN, NOT_A_TEST = "not run", "not a test"
LEVEL = 0.95  # the descriptive intervals
ALPHA = 0.05  # the ledger's family-wise error rate
MOVEMENT_FRACTION = 0.1  # chains "do not move" below this fraction of the reference's movement
IDENTITY_GAMMA = 0.99  # STANLEY is Langevin when gamma's mean stays above this
IDENTITY_MOVEMENT = 2.0  # ... and its chains move within this factor of Langevin's
LEARNING_MARGIN = 0.10  # a data set learned: the best sampler's metric fell by this fraction
STANLEY = "stanley"
STANLEY_MH = "stanley_mh"  # STANLEY's proposal with an accept/reject step: a different sampler


def load_claims() -> List[Dict[str, Any]]:
    return yaml.safe_load((Path(__file__).with_name("claims.yaml")).read_text())


def stanley_readings(names: Iterable[str], declared: Optional[Sequence[str]] = None) -> List[str]:
    """The sampler names in ``names`` that are readings of STANLEY, in order: those of
    :mod:`stanley.experiment.readings` (or ``declared``), and an ablation variant of one (``stanley[norm=pixel]``)."""
    declared = readings.NAMES if declared is None else declared
    return [n for n in dict.fromkeys(names) if n in declared or n.split("[")[0] in declared and n.endswith("]")]


def reading_label(name: str) -> str:
    return f"{name} ({readings.READS[name]})" if name in readings.READS else name


# ---------------------------------------------------------------------------------------------
# The statistics, vectorised over any leading axes (the simulation tests call the same code).

def interval(differences) -> tuple:
    """Mean and two-sided ``LEVEL`` t-interval; no interval from a single seed."""
    differences = np.asarray(differences, dtype=float)
    differences = differences[np.isfinite(differences)]
    n = len(differences)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(differences.mean())
    if n == 1:
        return mean, -math.inf, math.inf, 1
    half = stats.t.ppf(0.5 + LEVEL / 2, n - 1) * differences.std(ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half, n


def _t(d: np.ndarray) -> Tuple[np.ndarray, np.ndarray, int]:
    """Mean, standard error and degrees of freedom over the last axis (seeds)."""
    n = d.shape[-1]
    mean = d.mean(axis=-1)
    se = d.std(axis=-1, ddof=1) / math.sqrt(n) if n > 1 else np.full(mean.shape, np.nan)
    return mean, se, n - 1


def _sf(x: np.ndarray, df: int) -> np.ndarray:
    """P(T >= x), with 1 where the statistic is undefined (one seed, zero spread)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = stats.t.sf(x, df) if df > 0 else np.full(np.shape(x), np.nan)
    return np.where(np.isfinite(p), p, 1.0)


def better_p(d: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """One-sided p-values (for d > 0, for d < 0) of paired differences, seeds on the last axis."""
    mean, se, df = _t(np.asarray(d, float))
    with np.errstate(invalid="ignore", divide="ignore"):
        t = mean / se
    return _sf(t, df), _sf(-t, df)


def similar_p(r: np.ndarray, tolerance: float) -> Tuple[np.ndarray, np.ndarray]:
    """p-values for |mean r| < tolerance (two one-sided tests) and for |mean r| > tolerance."""
    mean, se, df = _t(np.asarray(r, float))
    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = (mean + tolerance) / se, (mean - tolerance) / se
    inside = np.maximum(_sf(low, df), _sf(-high, df))
    outside = np.minimum(1.0, 2 * np.minimum(_sf(high, df), _sf(-low, df)))
    return inside, outside


def claim_p(p_for: np.ndarray, p_against: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """A claim's p-value and direction (+1 supported, -1 contradicted) from its parts (last axis).

    Supported needs every part (intersection-union: the largest p); contradicted needs any part
    (Bonferroni over the parts). Twice the smaller: either direction can be a false verdict."""
    parts = np.shape(p_for)[-1]
    support = np.max(p_for, axis=-1)
    against = np.minimum(1.0, parts * np.min(p_against, axis=-1))
    return np.minimum(1.0, 2 * np.minimum(support, against)), np.where(support <= against, 1, -1)


def holm(p: np.ndarray, alpha: float = ALPHA) -> Tuple[np.ndarray, np.ndarray]:
    """Holm-Bonferroni over the last axis: (adjusted p-values, rejected at ``alpha``)."""
    p = np.asarray(p, float)
    m = p.shape[-1]
    order = np.argsort(p, axis=-1)
    ranked = np.take_along_axis(p, order, axis=-1) * (m - np.arange(m))
    adjusted_sorted = np.minimum(1.0, np.maximum.accumulate(ranked, axis=-1))
    adjusted = np.empty_like(adjusted_sorted)
    np.put_along_axis(adjusted, order, adjusted_sorted, axis=-1)
    return adjusted, adjusted <= alpha


def decide(p: np.ndarray, direction: np.ndarray, alpha: float = ALPHA) -> Tuple[np.ndarray, np.ndarray]:
    """Verdict codes (+1 supported, -1 contradicted, 0 inconclusive) after Holm over the last axis."""
    adjusted, rejected = holm(p, alpha)
    return np.where(rejected, direction, 0), adjusted


CODES = {1: SUPPORTED, -1: CONTRADICTED, 0: INCONCLUSIVE}


# ---------------------------------------------------------------------------------------------
# From the tables to the parts of a claim.

def window(iterations: Iterable[int], name: Optional[str]) -> Tuple[int, int]:
    """The claim's checkpoints as an iteration range ``(low, high]`` of the run's length T:
    ``all`` (0, T], ``first_half`` (0, T/2], ``second_half`` (T/2, T]."""
    last = int(max(iterations))
    return {"all": (0, last), None: (0, last), "first_half": (0, last // 2),
            "second_half": (last // 2, last)}[name]


def _in(table: pd.DataFrame, span: Tuple[int, int]) -> pd.DataFrame:
    return table[(table["iteration"] > span[0]) & (table["iteration"] <= span[1])]


def aggregates(table: pd.DataFrame, metric: str, span: Tuple[int, int]) -> pd.DataFrame:
    """Seeds x samplers: each run's mean of ``metric`` over the window's checkpoints."""
    return _in(table, span).pivot_table(index="seed", columns="sampler", values=metric, aggfunc="mean")


def _checkpoints(table: pd.DataFrame, span: Tuple[int, int]) -> str:
    its = sorted(_in(table, span)["iteration"].unique())
    return f"the {len(its)} checkpoints {its[0]:,}-{its[-1]:,}" if its else f"no checkpoint in {span[0]:,}-{span[1]:,}"


def claim_parts(claim: Dict[str, Any], table: pd.DataFrame, reading: str) -> Dict[str, Any]:
    """One reading's parts of a comparison claim: per-part p-values, texts and seeds."""
    span = window(table["iteration"], claim.get("window"))
    wide = aggregates(table, claim["metric"], span)
    p_for, p_against, texts, seeds = [], [], [], []
    where = f"mean {claim['metric']} over {_checkpoints(table, span)}"
    for baseline in claim["baselines"]:
        d = (wide[baseline] - wide[reading]).dropna().to_numpy()
        pf, pa = better_p(d)
        mean, low, high, n = interval(d)
        p_for.append(float(pf)); p_against.append(float(pa)); seeds.append(n)
        texts.append(f"{baseline} - {reading} = {number(mean)} [{number(low)}, {number(high)}]")
    if claim.get("similar_to"):
        other, tolerance = claim["similar_to"], claim["tolerance"]
        r = ((wide[reading] - wide[other]) / wide[other]).dropna().to_numpy()
        pf, pa = similar_p(r, tolerance)
        mean, low, high, n = interval(r)
        p_for.append(float(pf)); p_against.append(float(pa)); seeds.append(n)
        texts.append(f"({reading} - {other}) / {other} = {number(mean)} [{number(low)}, {number(high)}] "
                     f"against \u00b1{tolerance:g}")
    p, direction = claim_p(np.array(p_for), np.array(p_against))
    statistic = f"{where}, per seed: " + "; ".join(texts)
    reached = _in(table, span).groupby(["sampler", "seed"])["iteration"].nunique()
    short = reached[reached < reached.max()]
    if len(short):
        statistic += f" ({len(short)} runs stopped early: each averages the checkpoints it reached)"
    for name, span_name in (claim.get("describe") or {}).items():
        shown = window(table["iteration"], span_name)
        other = aggregates(table, claim["metric"], shown)
        mean, low, high, _ = interval((other[claim["baselines"][0]] - other[reading]).dropna().to_numpy())
        statistic += (f" (described, not judged: {name}, {_checkpoints(table, shown)}: "
                      f"{claim['baselines'][0]} - {reading} = {number(mean)} [{number(low)}, {number(high)}])")
    return {"p_value": float(p), "direction": int(direction), "statistic": statistic, "n": min(seeds)}


def checkpoint_differences(claim: Dict[str, Any], table: pd.DataFrame, reading: str) -> pd.DataFrame:
    """Descriptive only: baseline - reading at each checkpoint, mean and t-interval over seeds."""
    rows = []
    wide = table[table["iteration"] > 0].pivot_table(index=["iteration", "seed"], columns="sampler",
                                                     values=claim["metric"])
    for baseline in claim["baselines"]:
        for iteration, part in (wide[baseline] - wide[reading]).dropna().groupby(level="iteration"):
            mean, low, high, n = interval(part.to_numpy())
            rows.append({"claim": claim["id"], "reading": reading, "baseline": baseline, "iteration": int(iteration),
                         "metric": claim["metric"], "difference": mean, "low": low, "high": high, "seeds": n})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Guards: when a comparison cannot discriminate.

def learned_from(first: np.ndarray, last: np.ndarray,
                 margin: float = LEARNING_MARGIN) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Did any sampler learn? ``first``, ``last``: each run's first and final logged metric,
    shaped (..., samplers, seeds), NaN for a run that diverged (it learned nothing). The best
    sampler (lowest mean final value) must have fallen from its first value by ``margin`` of
    it, on the seed mean. Returns (learned, the best's fall, the best's index)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: every run diverged
        final = np.nanmean(last, axis=-1)
        best = np.argmin(np.where(np.isnan(final), np.inf, final), axis=-1)
        runs = np.take_along_axis((first - last) / first, best[..., None, None], axis=-2)[..., 0, :]
        fall = np.nanmean(runs, axis=-1)
    return np.nan_to_num(fall, nan=-np.inf) >= margin, fall, best


def learned(table: pd.DataFrame, metric: str, margin: float = LEARNING_MARGIN,
            diverged: Iterable[Tuple[str, int]] = ()) -> Tuple[bool, str]:
    """:func:`learned_from` on a long table; ``diverged`` lists (sampler, seed) runs that diverged."""
    runs = table.dropna(subset=[metric]).sort_values("iteration").groupby(["sampler", "seed"])[metric]
    first, last = runs.first().unstack("seed"), runs.last().unstack("seed")
    for sampler, seed in diverged:
        if sampler in last.index and seed in last.columns:
            last.loc[sampler, seed] = np.nan
    ok, fall, best = learned_from(first.to_numpy(float), last.to_numpy(float), margin)
    if not np.isfinite(fall):
        return False, "every run diverged"
    return bool(ok), (f"the best sampler ({last.index[int(best)]}) fell {float(fall):.0%} from its first logged "
                      f"{metric}; a data set counts as learned at {margin:.0%}")


def not_moving(movement: Dict[str, np.ndarray], compared: Sequence[str]) -> Optional[str]:
    """The reason a compared sampler's chains do not move, or None. ``movement``: sampler ->
    its logged movement values in the window (all seeds)."""
    reference = "gd" if len(movement.get("gd", ())) else "langevin" if len(movement.get("langevin", ())) else None
    if reference is None:
        return None
    base = float(np.median(movement[reference]))
    for sampler in compared:
        values = movement.get(sampler)
        if values is not None and len(values) and float(np.median(values)) < MOVEMENT_FRACTION * base:
            return (f"{sampler}'s chains do not move: median movement {float(np.median(values)):.3g} per coordinate, "
                    f"under {MOVEMENT_FRACTION:g} x {reference}'s {base:.3g}")
    return None


def is_langevin(gamma_mean: np.ndarray, movement: Optional[np.ndarray] = None,
                langevin_movement: Optional[np.ndarray] = None) -> bool:
    """A STANLEY reading is Langevin: gamma's mean above ``IDENTITY_GAMMA`` at every logged
    iteration, and (where logged) median movement within ``IDENTITY_MOVEMENT`` x Langevin's."""
    gamma_mean = np.asarray(gamma_mean, float)
    if not len(gamma_mean) or not (gamma_mean > IDENTITY_GAMMA).all():
        return False
    if movement is None or langevin_movement is None or not len(movement) or not len(langevin_movement):
        return True
    ratio = float(np.median(movement)) / float(np.median(langevin_movement))
    return 1 / IDENTITY_MOVEMENT <= ratio <= IDENTITY_MOVEMENT


def guard(claim: Dict[str, Any], reading: str, span: Tuple[int, int],
          metrics: Optional[pd.DataFrame]) -> Tuple[Optional[str], str]:
    """(the reason this comparison is not a test, or None; a note on what could not be checked)."""
    compared = [reading, *claim["baselines"], *([claim["similar_to"]] if claim.get("similar_to") else [])]
    if metrics is None or not len(metrics):
        return None, "no metrics table: whether the chains move, or STANLEY differs from Langevin, was not checked"
    rows = _in(metrics, span)
    notes, movement = [], None
    if "movement" in rows and rows["movement"].notna().any():
        movement = {s: part["movement"].dropna().to_numpy() for s, part in rows.groupby("sampler")}
        reason = not_moving(movement, compared)
        if reason:
            return reason, ""
    else:
        notes.append("movement not recorded: whether the chains move was not checked")
    if "langevin" in compared:
        gamma = rows.loc[rows["sampler"] == reading, "gamma_mean"].dropna().to_numpy() if "gamma_mean" in rows else []
        own, langevin = (movement.get(reading), movement.get("langevin")) if movement else (None, None)
        if not len(gamma):
            notes.append(f"gamma not recorded for {reading}: whether it differs from Langevin was not checked")
        elif is_langevin(gamma, own, langevin):
            return (f"{reading} is Langevin here: gamma's mean above {IDENTITY_GAMMA:g} at every logged iteration "
                    f"{span[0]:,}-{span[1]:,} (lowest {gamma.min():.4g})"
                    + ("" if movement else "; movement not recorded")), ""
    return None, "; ".join(notes)


# ---------------------------------------------------------------------------------------------
# Theorem 1 and Corollary 1 against the diagnostics.

def _holds(value: Any, expected: str) -> Optional[bool]:
    """True, False, or None (not decisive) for one diagnostics entry."""
    from ..diagnostics.verdicts import FAILS

    if expected == "below_one":
        return None if pd.isna(value) else bool(float(value) < 1)
    text = str(value)
    if text == expected:
        return True
    if text == FAILS or "infinite" in text:  # Pi V = infinity: the inequality fails analytically
        return False
    return None


def diagnostics_claim(claim: Dict[str, Any], verdicts: pd.DataFrame, kernel: str, family: str) -> Dict[str, Any]:
    """``kernel``: the sampler's rows to read; ``family``: its entry in the claim's targets."""
    targets = claim["targets"][family]
    rows = verdicts[(verdicts["sampler"] == kernel) & verdicts["target"].isin(targets)]
    if rows.empty:
        return {"verdict": NOT_RUN, "statistic": f"no {kernel} diagnostics", "n": 0}
    if claim["column"] not in rows:
        return {"verdict": NOT_A_TEST, "statistic": claim["missing_column"], "n": 0}
    values = rows.set_index("target")[claim["column"]]
    ok = [_holds(v, claim["expected"]) for v in values]
    missing = sorted(set(targets) - set(values.index))
    verdict = (CONTRADICTED if False in ok else
               SUPPORTED if all(o is True for o in ok) and not missing else INCONCLUSIVE)
    shown = ", ".join(f"{t}: {v if isinstance(v, str) else number(float(v))}" for t, v in values.items())
    return {"verdict": verdict, "statistic": shown + (f"; not measured: {', '.join(missing)}" if missing else ""),
            "n": len(rows)}


# ---------------------------------------------------------------------------------------------

def _read(path: Path) -> Optional[pd.DataFrame]:
    return pd.read_csv(path) if path.is_file() else None


def diverged_runs(provenance: Optional[pd.DataFrame], dataset: str) -> List[Tuple[str, int]]:
    if provenance is None or "status" not in provenance:
        return []
    bad = provenance[(provenance["dataset"] == dataset) & provenance["status"].astype(str).str.startswith("diverged")]
    return list(zip(bad["sampler"], bad["seed"]))


def learning_notes(fid: Optional[pd.DataFrame], provenance: Optional[pd.DataFrame]) -> List[Dict[str, str]]:
    """Each image data set of the gathered FID table where no sampler learned, with how that was
    judged (the report says it, not a ranking): ``[{"dataset", "how"}]``."""
    if fid is None:
        return []
    notes = []
    for dataset, part in fid.groupby("dataset", sort=False):
        ok, how = learned(part, "fid", diverged=diverged_runs(provenance, dataset))
        if not ok:
            notes.append({"dataset": dataset, "how": how})
    return notes


def entries(table: pd.DataFrame) -> pd.DataFrame:
    """Rows keyed by matrix entry: where one sampler name holds runs of several variants (STANLEY
    switches, see :func:`stanley.experiment.options.variant_of`), each non-paper variant becomes its own
    entry ``sampler[variant]``, so that no average ever mixes two readings."""
    if "variant" not in table or not table.duplicated(["sampler", "seed", "iteration"]).any():
        return table
    other = table["variant"].fillna(PAPER) != PAPER
    named = table["sampler"] + "[" + table["variant"].astype(str) + "]"
    return table.assign(sampler=table["sampler"].where(~other, named))


def _comparison(claim: Dict[str, Any], tables: Dict[str, Optional[pd.DataFrame]],
                readings: Optional[Sequence[str]]) -> Tuple[Optional[pd.DataFrame], List[str], str]:
    """The claim's data set rows, the STANLEY readings in them, and what is missing ('' if none)."""
    table = tables[claim["table"]]
    table = entries(table[table["dataset"] == claim["dataset"]]) if table is not None else None
    present = set(table["sampler"]) if table is not None else set()
    needed = set(claim["baselines"]) | ({claim["similar_to"]} if claim.get("similar_to") else set())
    found = stanley_readings(sorted(present), readings)
    if found and needed <= present:
        return table, found, ""
    return None, [], (f"needs {claim['dataset']} runs of {', '.join(sorted(needed | {STANLEY}))}; "
                      f"found {', '.join(sorted(present)) or 'none'}")


def read_tables(results: str | Path) -> Dict[str, Optional[pd.DataFrame]]:
    """The gathered tables the ledger reads, and the diagnostics' verdicts (None where missing)."""
    layout = Layout(results)
    return {**gathered.read(layout.tables.path), "diagnostics": _read(layout.diagnostics_verdicts)}


def checkpoint_table(tables: Dict[str, Optional[pd.DataFrame]], readings: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """Every comparison claim's per-checkpoint differences (the report's descriptive table), from
    the gathered tables by kind (:func:`read_tables`)."""
    parts = [checkpoint_differences(claim, table, reading)
             for claim in load_claims() if claim["test"] == "comparison"
             for table, found, _ in [_comparison(claim, tables, readings)] for reading in found]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def evaluate(results: str | Path, scale: str = "paper", readings: Optional[Sequence[str]] = None,
             alpha: float = ALPHA) -> pd.DataFrame:
    """The ledger: one row per claim and STANLEY reading (per kernel for the theorem's claims)."""
    tables = read_tables(results)
    rows = []
    for claim in load_claims():
        head = {key: claim[key] for key in ("id", "location", "quote", "operational")}
        if claim["test"] == "diagnostics":
            table = tables["diagnostics"]
            names = list(table["sampler"].unique()) if table is not None else []
            for kernel in claim["kernels"]:
                for name in (stanley_readings(names, readings) or [STANLEY]) if kernel == STANLEY else [kernel]:
                    result = (diagnostics_claim(claim, table, name, kernel) if table is not None
                              else {"verdict": NOT_RUN, "statistic": "diagnostics not run", "n": 0})
                    rows.append({**head, "reading": reading_label(name), **result})
            continue
        table, found, missing = _comparison(claim, tables, readings)
        if missing:
            rows.append({**head, "reading": reading_label(STANLEY), "verdict": NOT_RUN, "n": 0, "statistic": missing})
            continue
        ok, how = learned(table, claim["metric"], diverged=diverged_runs(tables["provenance"], claim["dataset"]))
        span = window(table["iteration"], claim.get("window"))
        metrics = tables["metrics"]
        metrics = entries(metrics[metrics["dataset"] == claim["dataset"]]) if metrics is not None else None
        proxy = claim["table"] == "fid" and "protocol" in table and (table["protocol"] == "proxy").any()
        for reading in found:
            row = {**head, "reading": reading_label(reading)}
            if not ok:
                rows.append({**row, "verdict": NOT_A_TEST, "n": 0,
                             "statistic": f"no sampler learned on {claim['dataset']}: not ranked ({how})"})
                continue
            reason, note = guard(claim, reading, span, metrics)
            if reason:
                rows.append({**row, "verdict": NOT_A_TEST, "statistic": reason, "n": 0})
                continue
            part = claim_parts(claim, table, reading)
            part["statistic"] += (" (proxy FID, not Inception)" if proxy else "") + (f"; {note}" if note else "")
            rows.append({**row, **part, "verdict": None})
    ledger = pd.DataFrame(rows)
    tested = ledger["verdict"].isna()
    ledger["family"] = int(tested.sum())
    ledger["p_holm"] = math.nan
    ledger["p_value"] = ledger["p_value"] if "p_value" in ledger else math.nan
    if tested.any():
        codes, adjusted = decide(ledger.loc[tested, "p_value"].to_numpy(float),
                                 ledger.loc[tested, "direction"].to_numpy(int), alpha)
        ledger.loc[tested, "p_holm"] = adjusted
        ledger.loc[tested, "verdict"] = [CODES[int(c)] for c in codes]
    return ledger.drop(columns=["direction"], errors="ignore").assign(scale=scale)
