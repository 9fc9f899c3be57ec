"""Bulk and tail ESS and rank-normalised split R-hat (Vehtari, Gelman, Simpson, Carpenter and
Buerkner 2021, "Rank-normalization, folding, and localization: an improved R-hat").

Written here in numpy/scipy so the suite does not depend on ArviZ at run time; the tests hold
it to ArviZ's numbers. Every function takes draws as a (chains, draws) array.

- split: each chain cut in two halves (the middle draw dropped when the length is odd), so a
  chain that drifts within itself shows up as between-chain variance;
- rank normalisation: pooled ranks r (average ties) mapped to normal scores
  ``Phi^-1((r - 3/8) / (S + 1/4))``, which makes R-hat and ESS work for heavy tails;
- R-hat: ``sqrt((n - 1)/n + B / (n W))`` on split, rank-normalised draws, and again on the
  folded draws ``|x - median|`` (spread), the larger of the two;
- ESS: ``chains * draws / tau`` with tau from the multi-chain autocorrelations, truncated by
  Geyer's initial positive sequence and made monotone; bulk ESS is that on split
  rank-normalised draws, tail ESS the smaller of the ESS of the indicators ``x <= q05`` and
  ``x <= q95``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.fft import next_fast_len

MIN_DRAWS = 4


def _valid(draws: np.ndarray, min_chains: int = 1) -> bool:
    return bool(np.all(np.isfinite(draws))) and draws.shape[1] >= MIN_DRAWS and draws.shape[0] >= min_chains


def as_chains(draws) -> np.ndarray:
    draws = np.asarray(draws, dtype=float)
    return draws[None] if draws.ndim == 1 else draws


def split_chains(draws: np.ndarray) -> np.ndarray:
    half = draws.shape[1] // 2
    return np.concatenate([draws[:, :half], draws[:, draws.shape[1] - half:]], axis=0)


def rank_normalise(draws: np.ndarray) -> np.ndarray:
    ranks = stats.rankdata(draws, method="average").reshape(draws.shape)
    return stats.norm.ppf((ranks - 3 / 8) / (draws.size + 1 / 4))


def autocovariance(draws: np.ndarray) -> np.ndarray:
    """Per chain, the biased autocovariance at every lag (by FFT, zero-padded)."""
    n = draws.shape[1]
    centred = draws - draws.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(centred, n=next_fast_len(2 * n), axis=1)
    return np.fft.irfft(spectrum * np.conjugate(spectrum), axis=1)[:, :n] / n


def _rhat_plain(draws: np.ndarray) -> float:
    n = draws.shape[1]
    between = n * np.var(draws.mean(axis=1), ddof=1)
    within = np.mean(np.var(draws, axis=1, ddof=1))
    return float(np.sqrt((between / within + n - 1) / n))


def rhat(draws) -> float:
    """Rank-normalised split R-hat: the max of the bulk and the folded (tail) versions."""
    draws = as_chains(draws)
    if not _valid(draws, min_chains=2):
        return float("nan")
    split = split_chains(draws)
    folded = np.abs(split - np.median(split))
    return max(_rhat_plain(rank_normalise(split)), _rhat_plain(rank_normalise(folded)))


def ess(draws) -> float:
    """Multi-chain ESS of the draws as given (no split, no rank normalisation)."""
    draws = as_chains(draws)
    if not _valid(draws):
        return float("nan")
    chains, n = draws.shape
    if np.ptp(draws) < np.finfo(float).resolution:
        return float(draws.size)
    acov = autocovariance(draws)
    mean_var = acov[:, 0].mean() * n / (n - 1)
    var_plus = mean_var * (n - 1) / n + (np.var(draws.mean(axis=1), ddof=1) if chains > 1 else 0.0)
    rho = np.zeros(n)
    rho[0] = 1.0
    rho_even, rho_odd = 1.0, 1.0 - (mean_var - acov[:, 1].mean()) / var_plus
    rho[1] = rho_odd
    t = 1  # Geyer's initial positive sequence: sum pairs while they stay positive
    while t < n - 3 and rho_even + rho_odd > 0:
        rho_even = 1.0 - (mean_var - acov[:, t + 1].mean()) / var_plus
        rho_odd = 1.0 - (mean_var - acov[:, t + 2].mean()) / var_plus
        if rho_even + rho_odd >= 0:
            rho[t + 1], rho[t + 2] = rho_even, rho_odd
        t += 2
    max_t = t - 2
    if rho_even > 0:
        rho[max_t + 1] = rho_even
    t = 1  # initial monotone sequence: pair sums may not increase
    while t <= max_t - 2:
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = rho[t + 2] = (rho[t - 1] + rho[t]) / 2
        t += 2
    total = chains * n
    tau = -1.0 + 2.0 * rho[: max_t + 1].sum() + rho[max_t + 1: max_t + 2].sum()
    tau = max(tau, 1 / np.log10(total))
    return float("nan") if np.isnan(rho).any() else float(total / tau)


def ess_bulk(draws) -> float:
    draws = as_chains(draws)
    if not _valid(draws):
        return float("nan")
    return ess(rank_normalise(split_chains(draws)))


def ess_tail(draws, prob: float = 0.05) -> float:
    draws = as_chains(draws)
    if not _valid(draws):
        return float("nan")
    low, high = np.quantile(draws, [prob, 1 - prob])
    return min(ess(split_chains((draws <= low).astype(float))), ess(split_chains((draws <= high).astype(float))))
