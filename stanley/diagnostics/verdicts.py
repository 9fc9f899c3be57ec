"""From measured tables to verdicts: mu(R), delta(R) and the target x sampler table.

For a ball O of radius R (one of the tested radii), ``mu(R)`` is the largest drift ratio
measured outside O and ``delta(R)`` the largest ``Pi V`` inside it. The upper confidence
bound of mu takes the largest ``log ratio + q se`` outside O with a Bonferroni ``q`` over the
points (one-sided, level ``ALPHA`` for the whole set). The drift inequality *holds on the
tested range* when some tested R gives ``mu_upper(R) < 1`` with a finite delta; the smallest
such R is reported (the smallest small set that works). ``weight_ess`` is the effective sample
size of the Monte Carlo weights at the point that sets ``mu_upper``. Nothing is claimed beyond
the largest radius tested: ``mu_far`` (the largest ratio at that radius) shows whether the
ratio creeps back to 1, as it does for heavy tails, where H1 fails.

An estimate decides nothing it cannot support. Where ``Pi V`` is infinite by the target's tails
(:func:`.drift.pi_v_infinite`) the verdict is ``INFINITE``, not estimated. Elsewhere every
point must be *reliable*: a weight ESS of at least ``ESS_FLOOR`` (fewer, and one or two
transitions carry the mean: the weights' variance is probably infinite) and *stable*: the
estimates from M/16 and M/4 of the M transitions agree with the one from all M within
``q`` standard errors of their difference (nested means: ``se_all sqrt(n - 1)`` for M/n), ``q``
Bonferroni over points and subsets at level ``ALPHA``, so a sound estimate is called unstable
with probability about ``ALPHA`` per verdict (up to the CLT). A single unreliable point makes
the verdict ``UNRELIABLE`` (the sup over points is only as good as its worst point), with the
reason.

Only pandas/numpy/scipy here: summaries never need torch.
"""

from __future__ import annotations

import math
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np
import pandas as pd
from scipy import stats

ALPHA = 0.05
HOLDS, FAILS, UNRELIABLE, INFINITE = "holds", "fails", "unreliable", "Pi V infinite"
NEAR_ONE = 0.02  # 1 - mu_far below this: the ratio is creeping back to 1 at the outer radius
SUBSETS = (16, 4)  # the stability check: estimates from samples/16 and samples/4 transitions
ESS_FLOOR = 10  # a weight ESS below this: the mean rests on a few transitions, Pi V may be infinite


def _exp(x: float) -> float:
    """exp that gives inf instead of overflowing (and NaN for NaN)."""
    x = float(x)
    return math.inf if x > 709 else math.exp(x)


def reliability(frame: pd.DataFrame, alpha: float = ALPHA) -> Dict[str, object]:
    """``reliable`` and, if not, ``reason``: the point with the fewest effective weights or the
    largest instability (see the module docstring)."""
    measured = frame[~frame["pi_v_infinite"].astype(bool)] if "pi_v_infinite" in frame else frame
    if not len(measured):
        return {"reliable": True, "min_weight_ess": math.nan, "stability_z": math.nan}
    ess = measured["weight_ess"].to_numpy(float)
    q = stats.norm.isf(alpha / (2 * len(SUBSETS) * len(measured)))
    z = np.zeros(len(measured))
    for n in SUBSETS:
        if f"log_ratio_m{n}" not in measured:
            continue
        sub, all_ = measured[f"log_ratio_m{n}"].to_numpy(float), measured["log_ratio"].to_numpy(float)
        # the first M/n of M iid weights: Var(mean_sub - mean_all) = sigma^2 (n/M - 1/M), sigma from all M
        se = measured["se"].to_numpy(float) * math.sqrt(n - 1)
        gap = np.abs(sub - all_)
        with np.errstate(invalid="ignore", divide="ignore"):  # equal weights (gd, all rejected): se = gap = 0
            z = np.fmax(z, np.where(gap == 0, 0.0, np.nan_to_num(gap / se, nan=np.inf)))
    out = {"min_weight_ess": float(np.nanmin(ess)) if np.isfinite(ess).any() else math.nan,
           "stability_z": float(z.max())}
    radius = measured["radius"].to_numpy(float)
    low = np.nan_to_num(ess, nan=0.0) < ESS_FLOOR
    if low.any():
        i = int(np.argmin(np.nan_to_num(ess, nan=0.0)))
        out.update(reliable=False, reason=f"weight ESS {ess[i]:.3g} < {ESS_FLOOR} at radius {radius[i]:g} "
                                          f"(a few transitions carry the mean: Pi V may be infinite)")
    elif (z > q).any():
        i = int(np.argmax(z))
        row = measured.iloc[i]
        values = ", ".join(f"{row[f'log_ratio_m{n}']:.3g}" for n in SUBSETS)
        out.update(reliable=False, reason=f"unstable in the sample size at radius {radius[i]:g}: log ratio "
                                          f"{values}, {row['log_ratio']:.3g} from 1/16, 1/4 and all of "
                                          f"{int(row['samples']) if 'samples' in row else 'M'} transitions ({z[i]:.1f} standard errors > {q:.2f})")
    else:
        out["reliable"] = True
    return out


def drift_verdict(frame: pd.DataFrame, alpha: float = ALPHA) -> Dict[str, object]:
    """The verdict for one (target, sampler) or one family: rows of a drift table."""
    if "pi_v_infinite" in frame and frame["pi_v_infinite"].astype(bool).any():
        infinite = frame["pi_v_infinite"].astype(bool)
        return {"drift": INFINITE, "reliable": True,
                "reason": f"Pi V infinite at {int(infinite.sum())} of {len(frame)} points (the kernel's Gaussian "
                          "proposal decays slower than V = c pi^-beta grows): the drift inequality cannot hold",
                "mu_far": math.inf, "max_radius": float(frame["radius"].max()), "points": int(len(frame))}
    log_ratio = frame["log_ratio"].to_numpy(float)
    se = np.nan_to_num(frame["se"].to_numpy(float), nan=np.inf)
    radius = frame["radius"].to_numpy(float)
    log_pi_v = log_ratio + frame["log_v"].to_numpy(float)
    weight_ess = frame["weight_ess"].to_numpy(float) if "weight_ess" in frame else np.full(len(frame), np.nan)
    radii = np.unique(radius)
    far = radius == radii[-1]
    best: Optional[Dict[str, object]] = None
    for r in radii[:-1]:
        outside, inside = radius > r, radius <= r
        q = stats.norm.ppf(1 - alpha / outside.sum())
        with np.errstate(invalid="ignore"):
            bound = np.where(se[outside] > 0, log_ratio[outside] + q * se[outside], log_ratio[outside])
        row = {
            "R": float(r), "mu": _exp(log_ratio[outside].max()),
            "mu_upper": _exp(np.nan_to_num(bound, nan=np.inf).max()),
            "log_mu": float(log_ratio[outside].max()), "log_delta": float(log_pi_v[inside].max()),
            "weight_ess": float(weight_ess[outside][np.argmax(np.nan_to_num(bound, nan=np.inf))]),
        }
        row["holds"] = bool(row["mu_upper"] < 1 and np.isfinite(row["log_delta"]))
        if row["holds"]:
            best = row
            break
        if best is None or row["mu_upper"] < best["mu_upper"]:
            best = row
    out = {"drift": HOLDS if best and best["holds"] else FAILS, **reliability(frame, alpha)}
    if not out["reliable"]:
        out["drift"] = UNRELIABLE
    if best:
        out.update({k: v for k, v in best.items() if k != "holds"})
        out["delta"] = _exp(best["log_delta"])
    out["mu_far"] = _exp(log_ratio[far].max())
    out["max_radius"] = float(radii[-1])
    out["points"] = int(len(frame))
    return out


def drift_summary(table: pd.DataFrame, keys: Sequence[str] = ("target", "sampler")) -> pd.DataFrame:
    rows = [{**dict(zip(keys, key if isinstance(key, tuple) else (key,))), **drift_verdict(part)}
            for key, part in table.groupby(list(keys), sort=False)]
    return pd.DataFrame(rows)


def rate_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (target, sampler): rho per gradient evaluation (with its interval) and per
    transition, the geometric-rate test's verdict and reason (:mod:`.geometric`), the bias."""
    rows = []
    for (target, sampler), part in table.groupby(["target", "sampler"], sort=False):
        first = part.iloc[0]
        per_step = part["grad_evals"].diff().dropna()
        grads = float(per_step.iloc[0]) if len(per_step) else 1.0
        rho = float(first["rho_per_grad"])
        rows.append({"target": target, "sampler": sampler, "rho": rho, "rho_per_transition": rho**grads,
                     "rho_low": float(first.get("rho_low", math.nan)), "rho_high": float(first.get("rho_high", math.nan)),
                     "rate": first.get("rate", math.nan),
                     "rate_reason": first.get("rate_reason", "") if isinstance(first.get("rate_reason"), str) else "",
                     "limit": first["limit"], "bias": float(first["bias"]), "floor": float(first["floor_target"]),
                     "fit_r2": float(first["fit_r2"])})
    return pd.DataFrame(rows)


def mixing_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Worst case over the summarised quantities (coordinates and radius)."""
    grouped = table.groupby(["target", "sampler"], sort=False)
    return grouped.agg(ess_bulk_per_1k=("ess_bulk_per_1k_grad", "min"),
                       ess_tail_per_1k=("ess_tail_per_1k_grad", "min"),
                       rhat=("rhat", "max"), acceptance=("acceptance", "mean"),
                       diverged_chains=("diverged_chains", "max")).reset_index()


def minorisation_at(table: pd.DataFrame, drift: pd.DataFrame) -> pd.Series:
    """log eps of the ball the drift verdict chose (NaN when that radius was not computed)."""
    values = []
    for _, row in drift.iterrows():
        part = table[(table["target"] == row["target"]) & (table["sampler"] == row["sampler"])
                     & np.isclose(table["radius"], row.get("R", np.nan))]
        values.append(float(part["log_eps"].iloc[0]) if len(part) else math.nan)
    return pd.Series(values, index=drift.index)


def _read(paths: Iterable[str]) -> Optional[pd.DataFrame]:
    frames = [pd.read_csv(p) for p in paths]
    return pd.concat(frames, ignore_index=True) if frames else None


COLUMNS = ["target", "sampler", "drift", "reliable", "reason", "R", "mu", "mu_upper", "log_delta", "delta", "mu_far", "weight_ess",
           "log_eps", "rho", "rho_low", "rho_high", "rate", "rate_reason", "bias", "ess_bulk_per_1k", "ess_tail_per_1k", "rhat"]


SETTING_COLUMNS = ["estimator", "beta", "samples", "step_size", "noise_scale", "threshold", "leapfrog"]


def drift_settings(table: pd.DataFrame) -> pd.DataFrame:
    """What each drift row was measured with (for the report's settings table)."""
    rows = []
    for (target, sampler), part in table.groupby(["target", "sampler"], sort=False):
        first = part.iloc[0]
        radii = sorted(part["radius"].unique())
        rows.append({"target": target, "sampler": sampler,
                     **{c: first[c] for c in SETTING_COLUMNS if c in part and not pd.isna(first[c])},
                     "directions": int(part["direction"].nunique()),
                     "radii": ", ".join(f"{r:g}" for r in radii)})
    return pd.DataFrame(rows)


def verdict_table(drift: Sequence[str], minorisation: Sequence[str] = (), rate: Sequence[str] = (),
                  mixing: Sequence[str] = ()) -> pd.DataFrame:
    """The target x sampler table from the per-target CSVs of each kind."""
    measured = _read(drift)
    table = drift_summary(measured).merge(drift_settings(measured), on=["target", "sampler"], how="left")
    minor = _read(minorisation)
    table["log_eps"] = minorisation_at(minor, table) if minor is not None else math.nan
    for frame in (_read(rate), _read(mixing)):
        if frame is not None:
            summary = rate_summary(frame) if "rho_per_grad" in frame else mixing_summary(frame)
            table = table.merge(summary, on=["target", "sampler"], how="left")
    for column in COLUMNS:
        if column not in table:
            table[column] = math.nan
    return table[COLUMNS + [c for c in table.columns if c not in COLUMNS]]


def uniformity_verdicts(paths: Sequence[str]) -> pd.DataFrame:
    """One row per run: the inequality with the theta-free V, sup over the saved family."""
    table = _read(paths)
    rows: List[Dict[str, object]] = []
    for (run, sampler), part in table.groupby(["run", "sampler"], sort=False):
        worst = drift_summary(part.assign(member=part["iteration"]), keys=("member",))
        rows.append({"run": run, "sampler": sampler, "members": int(part["iteration"].nunique()),
                     "first_iteration": int(part["iteration"].min()), "last_iteration": int(part["iteration"].max()),
                     **drift_verdict(part), "members_holding_alone": int((worst["drift"] == HOLDS).sum())})
    return pd.DataFrame(rows)
