"""Figures, drawn from tables only (never from training state), so restyling never retrains."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
import yaml  # noqa: E402

from .errors import ConfigError, unknown  # noqa: E402
from .io import write_atomic  # noqa: E402

ORDER = ("stanley", "langevin", "mala", "stanley_mh", "hmc", "gd")
LABELS = {
    "stanley": "STANLEY", "langevin": "Langevin", "mala": "MH (MALA)",
    "stanley_mh": "STANLEY + MH", "hmc": "HMC", "gd": "GD (no noise)",
}
PALETTE = dict(zip(ORDER, sns.color_palette("colorblind", len(ORDER))))


def sampler_order(names: Sequence[str]) -> List[str]:
    """STANLEY and Langevin first, as in the paper; unknown names after, alphabetically."""
    known = [n for n in ORDER if n in names]
    return known + sorted(set(names) - set(known))


def save(fig: plt.Figure, out: str | Path) -> Path:
    path = write_atomic(out, lambda tmp: fig.savefig(tmp, format=Path(out).suffix.lstrip(".") or "png",
                                                     dpi=110, bbox_inches="tight"))
    plt.close(fig)
    return path


def _snapshot_grid(inputs: Sequence[str], draw: Callable, title: str, out: str | Path) -> Path:
    """Rows = samplers (STANLEY and Langevin first), columns = snapshot iterations (seed 0 runs)."""
    panels = {}
    for path in map(Path, inputs):
        run = yaml.safe_load((path.parent / "config.yaml").read_text())
        panels[run["sampler"]["name"]] = np.load(path)
    rows = sampler_order(list(panels))
    columns = len(panels[rows[0]]["snapshot_iterations"])
    fig, axes = plt.subplots(len(rows), columns, figsize=(1.9 * columns, 1.9 * len(rows)), squeeze=False)
    for r, name in enumerate(rows):
        data = panels[name]
        extent = float(data["grid_extent"])
        for c, iteration in enumerate(data["snapshot_iterations"]):
            ax = axes[r, c]
            draw(ax, data, c, extent)
            ax.set_xlim(-extent, extent), ax.set_ylim(-extent, extent)
            ax.set_aspect("equal"), ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(f"iteration {int(iteration):,}", fontsize=9)
            if c == 0:
                ax.set_ylabel(LABELS.get(name, name), fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save(fig, out)


def fig1_rings(inputs: Sequence[str], out: str | Path) -> Path:
    """Figure 1: short-run samples through training, as in the paper."""
    def draw(ax, data, c, extent):
        samples = data["snapshot_samples"][c]
        samples = samples[np.isfinite(samples).all(axis=1)]
        ax.scatter(samples[:, 0], samples[:, 1], s=1.5, alpha=0.5, color="#1f3b73", linewidths=0)
    return _snapshot_grid(inputs, draw, "Rings: short-run samples through training (seed 0)", out)


def fig1_density(inputs: Sequence[str], out: str | Path) -> Path:
    """Companion to Figure 1: the learned log density log exp(f/T)/Z, clipped 30 nats below its peak."""
    def draw(ax, data, c, extent):
        log_q = data["snapshot_log_density"][c]
        ax.imshow(np.clip(log_q, log_q.max() - 30, None), origin="lower", cmap="viridis",
                  extent=(-extent, extent, -extent, extent), interpolation="nearest")
    return _snapshot_grid(inputs, draw, "Rings: learned log density log(exp(f/T)/Z) (seed 0; 30 nats shown)", out)


def toy_metrics(inputs: Sequence[str], out: str | Path) -> Path:
    """Toy metrics against iterations: mean over seeds with a +-1 sd band."""
    table = pd.read_csv(inputs[0])
    metrics = [("kl", "KL(target || model)"), ("tv", "total variation"), ("sliced_w2", "sliced W2 of samples")]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4))
    hue_order = sampler_order(table["sampler"].unique())
    for ax, (column, title) in zip(axes, metrics):
        sns.lineplot(table, x="iteration", y=column, hue="sampler", hue_order=hue_order, palette=PALETTE,
                     errorbar="sd", ax=ax, legend=ax is axes[-1])
        ax.set_title(title, fontsize=10)
        ax.set_yscale("log")
        ax.set_ylabel("")
    if axes[-1].get_legend():
        handles, labels = axes[-1].get_legend_handles_labels()
        axes[-1].legend(handles, [LABELS.get(l, l) for l in labels], fontsize=8, frameon=False)
    n_seeds = table.groupby("sampler")["seed"].nunique().max()
    fig.suptitle(f"Rings toy: mean over {n_seeds} seed(s), band = +-1 sd", fontsize=10)
    fig.tight_layout()
    return save(fig, out)


def training_curves(inputs: Sequence[str], out: str | Path) -> Path:
    """Energy difference f(data) - f(samples) and chain gradient norm against iterations."""
    table = pd.read_csv(inputs[0])
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4))
    hue_order = sampler_order(table["sampler"].unique())
    for ax, (column, title) in zip(axes, [("energy_diff", "f(data) - f(samples)"),
                                          ("grad_norm", "mean chain gradient norm")]):
        sns.lineplot(table, x="iteration", y=column, hue="sampler", hue_order=hue_order, palette=PALETTE,
                     errorbar="sd", ax=ax, legend=ax is axes[-1])
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("")
    fig.tight_layout()
    return save(fig, out)


FIGURES: Dict[str, Callable[[Sequence[str], str | Path], Path]] = {
    "fig1": fig1_rings,
    "fig1_density": fig1_density,
    "toy_metrics": toy_metrics,
    "training": training_curves,
}


def make(name: str, inputs: Sequence[str], out: str | Path) -> Path:
    if name not in FIGURES:
        raise unknown("figure", name, FIGURES)
    missing = [p for p in inputs if not Path(p).exists()]
    if missing:
        raise ConfigError(f"figure {name}: input {missing[0]} does not exist (run the jobs that make it)")
    return FIGURES[name](inputs, out)
