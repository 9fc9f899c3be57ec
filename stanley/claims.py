"""The claims ledger: each of the paper's claims (``claims.yaml``) gets a verdict from the runs.

Comparisons pair seeds: ``d = metric(baseline) - metric(STANLEY)`` (lower is better, so d > 0
favours STANLEY), with a two-sided 95% t-interval over seeds. *supported* when the interval
lies above 0, *contradicted* when below, *inconclusive* otherwise (one seed always is);
*not run* when the runs a claim needs are missing. Nothing is guessed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from .rundir import Layout

SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_RUN = "supported", "contradicted", "inconclusive", "not run"
LEVEL = 0.95


def load_claims() -> List[Dict[str, Any]]:
    return yaml.safe_load((Path(__file__).with_name("claims.yaml")).read_text())


def interval(differences: np.ndarray) -> tuple:
    """Mean and two-sided t-interval; no interval from a single seed."""
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


def verdict_of(low: float, high: float) -> str:
    if low > 0:
        return SUPPORTED
    if high < 0:
        return CONTRADICTED
    return INCONCLUSIVE


def paired(table: pd.DataFrame, metric: str, baseline: str) -> pd.Series:
    """Per (seed, iteration): metric(baseline) - metric(stanley)."""
    wide = table.pivot_table(index=["seed", "iteration"], columns="sampler", values=metric)
    return (wide[baseline] - wide["stanley"]).dropna()


def _result(verdict: str, statistic: str, n: int, **extra) -> Dict[str, Any]:
    return {"verdict": verdict, "statistic": statistic, "n": n, **extra}


def better_than(claim, table):
    parts = []
    for baseline in claim["baselines"]:
        iterations = sorted(table["iteration"].unique())
        window = iterations[1:max(2, (len(iterations) + 1) // 2)] if claim.get("window") == "first_half" else iterations
        diff = paired(table[table["iteration"].isin(window)], claim["metric"], baseline)
        per_seed = diff.groupby(level="seed").mean()
        mean, low, high, n = interval(per_seed.values)
        parts.append((verdict_of(low, high), f"{baseline} - STANLEY = {mean:.3g} [{low:.3g}, {high:.3g}] "
                                             f"over iterations {window[0]:,}-{window[-1]:,}", n))
    return combine(parts)


def better_at_every_checkpoint(claim, table):
    parts = []
    for baseline in claim["baselines"]:
        diff = paired(table[table["iteration"] > 0], claim["metric"], baseline)
        for iteration, values in diff.groupby(level="iteration"):
            mean, low, high, n = interval(values.values)
            parts.append((verdict_of(low, high), f"{baseline} - STANLEY at {iteration:,}: {mean:.3g} [{low:.3g}, {high:.3g}]", n))
    return combine(parts)


def crossover(claim, table):
    diff = paired(table[table["iteration"] > 0], claim["metric"], claim["baselines"][0])
    iterations = sorted(diff.index.get_level_values("iteration").unique())
    if len(iterations) < 2:
        return _result(INCONCLUSIVE, "fewer than two checkpoints", len(iterations))
    half = len(iterations) // 2
    early = diff[diff.index.get_level_values("iteration").isin(iterations[:half])].groupby(level="seed").mean()
    late = diff[diff.index.get_level_values("iteration").isin(iterations[half:])].groupby(level="seed").mean()
    e, el, eh, n = interval(-early.values)  # Langevin ahead early: STANLEY - Langevin > 0
    l, ll, lh, _ = interval(late.values)  # STANLEY ahead late
    parts = [(verdict_of(el, eh), f"early STANLEY - Langevin = {e:.3g} [{el:.3g}, {eh:.3g}]", n),
             (verdict_of(ll, lh), f"late Langevin - STANLEY = {l:.3g} [{ll:.3g}, {lh:.3g}]", n)]
    return combine(parts)


def better_and_close(claim, table):
    final = table[table["iteration"] == table["iteration"].max()]
    result = better_than({**claim, "window": None}, final)
    wide = final.pivot_table(index="seed", columns="sampler", values=claim["metric"])
    if claim["close_to"] not in wide:
        return _result(NOT_RUN, f"no {claim['close_to']} runs", 0)
    gap = (wide["stanley"] - wide[claim["close_to"]]).abs() - claim["tolerance"] * wide[claim["close_to"]]
    mean, low, high, n = interval(-gap.values)  # > 0: closer than the tolerance
    close = (verdict_of(low, high), f"tolerance - |STANLEY - {claim['close_to']}| = {mean:.3g} [{low:.3g}, {high:.3g}]", n)
    return combine([(result["verdict"], result["statistic"], result["n"]), close])


def combine(parts) -> Dict[str, Any]:
    """All parts must hold: any contradiction contradicts, all supported supports."""
    verdicts = [v for v, _, _ in parts]
    verdict = (CONTRADICTED if CONTRADICTED in verdicts else SUPPORTED if verdicts and all(v == SUPPORTED for v in verdicts)
               else INCONCLUSIVE)
    return _result(verdict, "; ".join(s for _, s, _ in parts), min((n for _, _, n in parts), default=0))


def diagnostics_all(claim, verdicts: pd.DataFrame):
    rows = verdicts[(verdicts["sampler"] == claim["sampler"]) & verdicts["target"].isin(claim["targets"])]
    if rows.empty:
        return _result(NOT_RUN, f"no {claim['sampler']} diagnostics", 0)
    values = rows.set_index("target")[claim["column"]]
    if claim["expected"] == "holds":
        ok = values == "holds"
    else:
        ok = values.astype(float) < 1
    verdict = SUPPORTED if ok.all() and len(rows) == len(claim["targets"]) else CONTRADICTED if (~ok).any() else INCONCLUSIVE
    shown = ", ".join(f"{t}: {v if isinstance(v, str) else f'{float(v):.4g}'}" for t, v in values.items())
    missing = sorted(set(claim["targets"]) - set(values.index))
    return _result(verdict, shown + (f"; not measured: {', '.join(missing)}" if missing else ""), len(rows))


TESTS: Dict[str, Callable] = {
    "better_than": better_than, "better_at_every_checkpoint": better_at_every_checkpoint,
    "crossover": crossover, "better_and_close": better_and_close, "diagnostics_all": diagnostics_all,
}


def evaluate(results: str | Path, scale: str = "paper") -> pd.DataFrame:
    """The ledger: one row per claim, from the tables under ``results``."""
    layout = Layout(results)
    tables: Dict[str, Optional[pd.DataFrame]] = {}
    for name, path in (("eval", layout.tables.table("eval")), ("fid", layout.tables.table("fid")),
                       ("diagnostics", layout.diagnostics_verdicts)):
        tables[name] = pd.read_csv(path) if path.is_file() else None
    rows = []
    for claim in load_claims():
        row = {key: claim[key] for key in ("id", "source", "quote", "quantity")}
        if claim["test"] == "diagnostics_all":
            table = tables["diagnostics"]
            result = diagnostics_all(claim, table) if table is not None else _result(NOT_RUN, "diagnostics not run", 0)
        else:
            table = tables[claim["table"]]
            if table is not None:
                table = table[table["dataset"] == claim["dataset"]]
            needed = {"stanley", *claim["baselines"]}
            if table is None or not needed <= set(table["sampler"]):
                result = _result(NOT_RUN, f"needs {claim['dataset']} runs of {', '.join(sorted(needed))}", 0)
            else:
                result = TESTS[claim["test"]](claim, table)
                if claim["table"] == "fid" and "protocol" in table and (table["protocol"] == "proxy").any():
                    result["statistic"] += " (proxy FID, not Inception)"
        rows.append({**row, **result, "scale": scale})
    return pd.DataFrame(rows)
