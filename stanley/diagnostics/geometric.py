"""Is a distance curve geometric? A log-linear fit ``d_k ~ C rho^k`` that can fail.

A distance measured with n samples never reaches 0: it flattens at a floor set by the sample
size. Only the part clearly above the floor (``FLOOR_FACTOR`` x floor) and before the curve
first reaches it can show a rate; within that part the fit uses the last decade (the asymptotic
rate, which Corollary 1 is about, rather than the transit from a far start), or the whole part
when the last decade holds too few points.

Any chain that converges gives a fitted rho < 1, so the fit alone proves nothing. The test:
the chains are split into ``GROUPS`` independent groups, each measured against its own share of
the reference (squared distances less the group's squared floor, the sample-size bias), and
each group's curve is fitted on the common window. The groups are iid replicates, so their
slopes give a t-interval for log rho. The rate is called *geometric* only when

* the interval for rho lies below 1, and
* the rate is constant along the window: the slopes of its first and second halves agree
  (paired t-test over the groups at level ``LEVEL``) or differ by less than ``SAME_RATE``
  (practically one rate). A sub-geometric (e.g. polynomial, ``d ~ k^-a``) curve flattens:
  over a decade of d its second-half slope is several times smaller than its first.

From one start no finite curve proves geometric *ergodicity* (a statement over all starts);
what the test can refuse is a curve that is not geometric where it was measured.
"""

from __future__ import annotations

from typing import Dict

import numpy as np
from scipy import stats

FLOOR_FACTOR = 3.0
DECADE = 10.0
MIN_POINTS = 4
GROUPS = 8
LEVEL = 0.05
SAME_RATE = 0.2  # |second-half slope / first-half slope - 1| below this: one rate
GEOMETRIC, NOT_SHOWN = "geometric", "not shown"


def _window(d: np.ndarray, level: float) -> np.ndarray:
    """Indices of the fitted window (empty if there are too few points above ``level``)."""
    ok = np.isfinite(d) & (d > level)
    stop = int(np.argmin(ok)) if not ok.all() else len(d)
    if stop < MIN_POINTS:
        return np.arange(0)
    part = np.arange(1, stop)  # step 0 is the start itself
    window = part[d[part] <= DECADE * level]
    if len(window) < MIN_POINTS:
        window = part if len(part) >= MIN_POINTS else np.arange(stop)
    return window


def _slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """OLS slope of each row of y against x."""
    xc = x - x.mean()
    return (y - y.mean(axis=1, keepdims=True)) @ xc / (xc @ xc)


def rate_test(grad_evals: np.ndarray, curves: np.ndarray, floors: np.ndarray) -> Dict[str, object]:
    """The geometric-rate test on ``curves`` (groups x steps) with each group's ``floors``.

    Returns rho (per gradient evaluation) with its ``1 - LEVEL`` interval, the half-window slope
    ratio and the p-value of its test, the verdict ``rate`` and its ``rate_reason``."""
    k = np.asarray(grad_evals, dtype=float)
    # every group has the same size, so the same expected squared floor: pooled, it is less noisy
    floor = float(np.sqrt(np.mean(np.asarray(floors, dtype=float) ** 2)))
    corrected = np.sqrt(np.clip(np.asarray(curves, dtype=float) ** 2 - floor**2, 0.0, None))  # nan stays nan
    out: Dict[str, object] = {"rho_per_grad": np.nan, "rho_low": np.nan, "rho_high": np.nan, "fit_from": np.nan,
                              "fit_to": np.nan, "fit_points": 0, "fit_r2": np.nan, "rate_ratio": np.nan,
                              "rate_change_p": np.nan, "rate": NOT_SHOWN}
    groups = len(corrected)
    # the window: every group clearly above its own floor
    margin = np.min(corrected, axis=0) / (FLOOR_FACTOR * max(floor, np.finfo(float).tiny))
    window = _window(np.nan_to_num(margin, nan=0.0), 1.0)
    if groups < 3 or len(window) < 2 * MIN_POINTS:
        out["rate_reason"] = (f"too few points above {FLOOR_FACTOR:g} x the noise floor "
                              f"({len(window)} < {2 * MIN_POINTS}) to fit and test a rate")
        return out
    x, y = k[window], np.log(corrected[:, window])
    slopes = _slopes(x, y)
    mean_curve = np.log(corrected[:, window].mean(axis=0))
    line = np.polyval(np.polyfit(x, mean_curve, 1), x)
    total = ((mean_curve - mean_curve.mean()) ** 2).sum()
    t = stats.t.isf(LEVEL / 2, groups - 1)
    centre, se = slopes.mean(), slopes.std(ddof=1) / np.sqrt(groups)
    half = len(window) // 2
    first, second = _slopes(x[:half], y[:, :half]), _slopes(x[half:], y[:, half:])
    ratio = second.mean() / first.mean() if first.mean() != 0 else np.nan
    p = float(stats.ttest_rel(second, first).pvalue) if np.any(second != first) else 1.0
    out.update(rho_per_grad=float(np.exp(centre)), rho_low=float(np.exp(centre - t * se)),
               rho_high=float(np.exp(centre + t * se)), fit_from=float(x[0]), fit_to=float(x[-1]),
               fit_points=int(len(window)), fit_r2=float(1 - ((mean_curve - line) ** 2).sum() / total)
               if total > 0 else np.nan, rate_ratio=float(ratio), rate_change_p=p)
    constant = p > LEVEL or abs(ratio - 1) < SAME_RATE
    if not out["rho_high"] < 1:
        out["rate_reason"] = f"the {1 - LEVEL:.0%} interval for rho reaches 1 ({out['rho_high']:.6g})"
    elif not constant:
        out["rate_reason"] = (f"the rate changes along the window: the second half's log-slope is {ratio:.2f} x "
                              f"the first's (p = {p:.2g}), not one geometric rate")
    else:
        out.update(rate=GEOMETRIC, rate_reason="")
    return out
