"""Diagnostics figures, drawn from the diagnostics CSVs only (restyling never recomputes).

Styling (sampler order, colours, labels) is the suite's, from :mod:`stanley.experiment.names`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import SymmetricalLogLocator  # noqa: E402

from ..errors import unknown  # noqa: E402
from ..experiment.names import PALETTE, display, sampler_order  # noqa: E402
from ..plumbing.io import write_figure  # noqa: E402


def _read(inputs: Sequence[str]) -> pd.DataFrame:
    return pd.concat([pd.read_csv(p) for p in inputs], ignore_index=True)


def _panels(count: int, width: float = 4.2, height: float = 3.2, columns: int = 2):
    columns = min(columns, count)
    rows = math.ceil(count / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:count])


def _legend(fig, axes) -> None:
    handles = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=min(len(handles), 6),
                   frameon=False, bbox_to_anchor=(0.5, -0.02))


def _symlog(ax) -> None:
    """log(ΠV/V) spans 0.01 to thousands of either sign: symmetric log, ticks every two decades."""
    ax.set_yscale("symlog", linthresh=0.01)
    ax.yaxis.set_major_locator(SymmetricalLogLocator(linthresh=0.01, base=100))


def drift(inputs: Sequence[str], out: str | Path) -> Path:
    """sup over directions of log(Pi V / V) against the radius, one panel per target."""
    table = _read(inputs)
    sup = table.groupby(["target", "sampler", "radius"], sort=False)["log_ratio"].max().reset_index()
    targets = list(dict.fromkeys(table["target"]))
    fig, axes = _panels(len(targets))
    for ax, target in zip(axes, targets):
        part = sup[sup["target"] == target]
        for sampler in sampler_order(list(part["sampler"].unique())):
            line = part[part["sampler"] == sampler]
            y = line["log_ratio"].replace(np.inf, np.nan)
            ax.plot(line["radius"], y, marker="o", ms=3, lw=1.3, color=PALETTE.get(sampler),
                    label=display(sampler))
        ax.axhline(0.0, color="k", lw=0.8, ls=":")
        _symlog(ax)
        ax.set_title(target, fontsize=10)
        ax.set_xlabel("|z|")
    for ax in axes[::2]:  # the first column of each row
        ax.set_ylabel("largest log(ΠV/V) over directions", fontsize=9)
    _legend(fig, axes)
    fig.suptitle("Drift ratio against the radius (below the dotted line: ΠV < V)", fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return write_figure(out, fig)


DISTANCES = {"sw": "sliced W2", "tv": "total variation"}


def rate(inputs: Sequence[str], out: str | Path) -> Path:
    """Distance to the target (solid) and to the kernel's own limit (dashed) per gradient evaluation."""
    table = _read(inputs)
    targets = list(dict.fromkeys(table["target"]))
    fig, axes = _panels(len(targets))
    for ax, target in zip(axes, targets):
        part = table[table["target"] == target]
        for sampler in sampler_order(list(part["sampler"].unique())):
            curve = part[part["sampler"] == sampler]
            colour = PALETTE.get(sampler)
            ax.plot(curve["grad_evals"], curve["distance_to_target"], color=colour, lw=1.3,
                    label=display(sampler))
            noisy = float(curve["noise_scale"].iloc[0]) > 0 if "noise_scale" in curve else False
            if noisy and not curve["limit"].iloc[0].startswith("target"):
                # (a noiseless kernel's limit is a point or a cycle: its distance to it says nothing)
                ax.plot(curve["grad_evals"], curve["distance_to_limit"], color=colour, lw=1.0, ls="--")
        floor = float(part["floor_target"].min())
        ax.axhline(floor, color="grey", lw=0.8, ls=":")
        ax.set_yscale("log")
        top = np.nanmax(part[["distance_to_target", "distance_to_limit"]].replace(np.inf, np.nan).to_numpy())
        if floor > 0 and np.isfinite(top):
            ax.set_ylim(0.3 * floor, 2 * top)
        ax.set_title(f"{target} ({DISTANCES.get(part['distance'].iloc[0], part['distance'].iloc[0])})", fontsize=10)
        ax.set_xlabel("gradient evaluations")
    for ax in axes[::2]:
        ax.set_ylabel("distance")
    _legend(fig, axes)
    fig.suptitle("From a far start: solid to the target, dashed to the kernel's own (biased) limit, "
                 "dotted the sample-size floor", fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return write_figure(out, fig)


def uniformity(inputs: Sequence[str], out: str | Path) -> Path:
    """Per training run: the drift ratio with the theta-free V, one line per saved iteration."""
    table = _read(inputs)
    runs = list(dict.fromkeys(zip(table["run"], table["sampler"])))
    fig, axes = _panels(len(runs), columns=3)
    for ax, (run, sampler) in zip(axes, runs):
        part = table[(table["run"] == run) & (table["sampler"] == sampler)]
        sup = part.groupby(["iteration", "radius"])["log_ratio"].max().reset_index()
        iterations = sorted(sup["iteration"].unique())
        colours = plt.cm.viridis(np.linspace(0, 1, len(iterations)))
        for colour, iteration in zip(colours, iterations):
            line = sup[sup["iteration"] == iteration]
            ax.plot(line["radius"], line["log_ratio"].replace(np.inf, np.nan), color=colour, marker="o", ms=2.5,
                    lw=1.0, label=f"iteration {iteration:,}")
        ax.axhline(0.0, color="k", lw=0.8, ls=":")
        _symlog(ax)
        name = Path(str(run)).name or str(run)
        ax.set_title(display(sampler) + ("" if name == sampler else f" ({name})"), fontsize=9)
        ax.set_xlabel("|z|")
        ax.legend(fontsize=7, frameon=False)
    axes[0].set_ylabel("sup over directions of log(Π_θV/V)")
    fig.suptitle("Uniformity in θ: one V = V1^a V2^(2a) for every saved network", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return write_figure(out, fig)


FIGURES = {"drift": drift, "rate": rate, "uniformity": uniformity}


def make(name: str, inputs: Sequence[str], out: str | Path) -> Path:
    if name not in FIGURES:
        raise unknown("diagnostics figure", name, FIGURES)
    return FIGURES[name](inputs, out)
