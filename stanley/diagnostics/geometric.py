"""Fit a geometric rate ``d_k ~ C rho^k`` to a distance curve, before its noise floor.

A distance measured with n samples never reaches 0: it flattens at a floor set by the sample
size. Only the part clearly above the floor (``FLOOR_FACTOR`` x floor) and before the curve
first reaches it is geometric; within that part the fit uses the last decade
(the asymptotic rate, which Corollary 1 is about, rather than the transit from a far start),
or the whole part when the last decade holds too few points.
"""

from __future__ import annotations

from typing import Dict

import numpy as np

FLOOR_FACTOR = 3.0
DECADE = 10.0
MIN_POINTS = 4


def fit_rate(grad_evals: np.ndarray, distance: np.ndarray, floor: float) -> Dict[str, float]:
    """rho per gradient evaluation, the fitted window and the fit's R^2 (NaN if no fit)."""
    k = np.asarray(grad_evals, dtype=float)
    d = np.asarray(distance, dtype=float)
    empty = {"rho_per_grad": np.nan, "fit_from": np.nan, "fit_to": np.nan, "fit_points": 0, "fit_r2": np.nan}
    if len(d) < MIN_POINTS or not np.isfinite(floor):
        return empty
    level = FLOOR_FACTOR * max(floor, np.finfo(float).tiny)
    ok = np.isfinite(d) & (d > level)
    stop = int(np.argmin(ok)) if not ok.all() else len(d)
    if stop < MIN_POINTS:
        return empty
    part = np.arange(1, stop)  # step 0 is the start itself
    window = part[d[part] <= DECADE * level]
    if len(window) < MIN_POINTS:
        window = part if len(part) >= MIN_POINTS else np.arange(stop)
    x, y = k[window], np.log(d[window])
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    total = ((y - y.mean()) ** 2).sum()
    return {"rho_per_grad": float(np.exp(slope)), "fit_from": float(x[0]), "fit_to": float(x[-1]),
            "fit_points": int(len(window)), "fit_r2": float(1 - (residual**2).sum() / total) if total > 0 else np.nan}
