"""Figures, drawn from tables only (never from training state), so restyling never retrains.

This module only draws: names, order and colours come from :mod:`stanley.experiment.names`, the
statistics a figure shows from :mod:`.summaries`."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..experiment.names import AXES, PALETTE, PAPER_NAMES, display, image_order, sampler_order  # noqa: E402
from ..errors import ConfigError, unknown  # noqa: E402
from . import ablation as ablation_rows, summaries, tables  # noqa: E402
from .formatting import number  # noqa: E402
from ..plumbing.io import write_figure  # noqa: E402
from ..plumbing.rundir import RunDir, Tables  # noqa: E402


def value_scale(ax: plt.Axes, values: Sequence[float], axis: str = "y") -> None:
    """Log scale only for a positive quantity that spans more than a decade; linear otherwise
    (a log axis over 0.99-1.0 turns rounding noise into a landscape)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) and values.min() > 0 and values.max() / values.min() > 10:
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")


def legend_below(fig: plt.Figure, axes: Sequence[plt.Axes], names: Sequence[str]) -> None:
    """One legend for the whole figure, under the panels, in display names."""
    handles = [plt.Line2D([], [], color=PALETTE.get(n, "grey"), lw=2, label=display(n)) for n in names]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), frameon=False, fontsize=8)


def _run_of(path: Path) -> dict:
    """The run config of the run directory that holds ``path`` (one of its files)."""
    return RunDir(path.parent).load_config()


def _snapshot_grid(inputs: Sequence[str], draw: Callable, title: str, out: str | Path) -> Path:
    """Rows = samplers (STANLEY and Langevin first), columns = snapshot iterations (seed 0 runs)."""
    panels = {}
    for path in map(Path, inputs):
        run = _run_of(path)
        panels[run["sampler"]["name"]] = np.load(path)
    rows = sampler_order(list(panels))
    columns = max(len(panels[name]["snapshot_iterations"]) for name in rows)
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
                ax.set_ylabel(display(name), fontsize=9)
        for c in range(len(data["snapshot_iterations"]), columns):  # a run that stopped early (diverged)
            axes[r, c].set_axis_off()
            axes[r, c].text(0.5, 0.5, "run stopped\n(see provenance)", ha="center", va="center", fontsize=8,
                            color="0.4", transform=axes[r, c].transAxes)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return write_figure(out, fig)


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
    """Toy metrics against iterations: mean over seeds with a ±1 sd band. Total variation lives
    in [0, 1]: a linear axis; KL and sliced W2 go on a log axis only when they span a decade."""
    table = pd.read_csv(inputs[0])
    table = table[table["kl"].notna()] if "kl" in table else table  # toy rows only (image runs share eval.csv)
    metrics = [(m, display(m)) for m in ("kl", "tv", "sliced_w2")]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4))
    hue_order = sampler_order(table["sampler"].unique())
    for ax, (column, title) in zip(axes, metrics):
        sns.lineplot(table, x="iteration", y=column, hue="sampler", hue_order=hue_order, palette=PALETTE,
                     errorbar="sd", ax=ax, legend=False)
        ax.set_title(title, fontsize=10)
        if column == "tv":
            ax.set_ylim(0, 1.02)
        else:
            value_scale(ax, table[column])
        ax.set_ylabel("")
    legend_below(fig, axes, hue_order)
    n_seeds = table.groupby("sampler")["seed"].nunique().max()
    fig.suptitle(f"Rings toy: mean over {n_seeds} seed(s), band = ±1 sd", fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return write_figure(out, fig)


def training_curves(inputs: Sequence[str], out: str | Path) -> Path:
    """Energy difference f(data) - f(samples) and chain gradient norm against iterations,
    one row per data set (their scales have nothing in common)."""
    table = pd.read_csv(inputs[0])
    datasets = list(dict.fromkeys(table["dataset"])) if "dataset" in table else [None]
    fig, grid = plt.subplots(len(datasets), 2, figsize=(8.4, 3.4 * len(datasets)), squeeze=False)
    for axes, dataset in zip(grid, datasets):
        part = table if dataset is None else table[table["dataset"] == dataset]
        hue_order = sampler_order(part["sampler"].unique())
        for ax, (column, title) in zip(axes, [("energy_diff", "f(data) - f(samples)"),
                                              ("grad_norm", "mean chain gradient norm")]):
            sns.lineplot(part, x="iteration", y=column, hue="sampler", hue_order=hue_order, palette=PALETTE,
                         errorbar="sd", ax=ax, legend=False)
            ax.set_title(title if dataset is None else f"{display(dataset)}: {title}", fontsize=10)
            ax.set_ylabel("")
    legend_below(fig, grid.flat, sampler_order(list(table["sampler"].unique())))
    fig.suptitle("Training signals: mean over seeds, band = ±1 sd", fontsize=10)
    fig.tight_layout(rect=(0, 0.1 / len(datasets), 1, 1))
    return write_figure(out, fig)


# --------------------------------------------------------------------------- image figures

PROXY_NOTE = "proxy FID: stand-in features, not comparable with Inception FIDs"


def _final_fid(run_dir: Path) -> str:
    """'FID (proxy) 41.2 at iteration 150' from the run's last FID evaluation, or '' when it has none."""
    path = RunDir(run_dir).fid
    table = pd.read_csv(path) if path.is_file() else pd.DataFrame()
    if table.empty:
        return ""
    last = table.iloc[-1]
    tag = " (proxy)" if last["protocol"] == "proxy" else ""
    return f"FID{tag} {number(last['fid'], 'fid')} at iteration {int(last['iteration']):,}"


def mosaic(images: np.ndarray, columns: int = 8, pad: int = 1) -> np.ndarray:
    """uint8 (n, C, H, W) images as one (rows*H, columns*W, C) picture with white gutters."""
    n, c, h, w = images.shape
    rows = -(-n // columns)
    canvas = np.full((rows * (h + pad) - pad, columns * (w + pad) - pad, c), 255, dtype=np.uint8)
    for i, image in enumerate(images):
        r, q = divmod(i, columns)
        canvas[r * (h + pad):r * (h + pad) + h, q * (w + pad):q * (w + pad) + w] = image.transpose(1, 2, 0)
    return canvas


def sample_grids(inputs: Sequence[str], out: str | Path, title: str) -> Path:
    """Final short-run samples (the 64 of samples.npz) per sampler, one row per data set."""
    panels: Dict[str, Dict[str, Path]] = {}
    for path in map(Path, inputs):
        run = _run_of(path)
        panels.setdefault(run["data"]["name"], {})[run["sampler"]["name"]] = path
    columns = max(len(p) for p in panels.values())
    fig, axes = plt.subplots(len(panels), columns, figsize=(3.0 * columns, 3.4 * len(panels)), squeeze=False)
    for row, (dataset, runs) in zip(axes, panels.items()):
        for ax in row:
            ax.axis("off")
        for ax, sampler in zip(row, image_order(list(runs))):
            arrays = np.load(runs[sampler])
            ax.imshow(mosaic(arrays["samples"]), interpolation="nearest")
            iteration = int(arrays["snapshot_iterations"][-1])
            fid = _final_fid(runs[sampler].parent)
            ax.set_title(f"{display(dataset)}: {display(sampler)}\n" + (fid or f"iteration {iteration:,}"),
                         fontsize=11)
    seed = _run_of(Path(inputs[0]))["seed"]
    fig.suptitle(f"{title} (seed {seed})", fontsize=13)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return write_figure(out, fig)


def read_fid_tables(inputs: Sequence[str]) -> Tuple[pd.DataFrame, pd.DataFrame]:
    """(ours, paper): per-run fid.csv files keyed by their run's config.yaml, and the
    authors' logged curves (any input with dataset and sampler columns), mh read as mala."""
    ours, paper = [], []
    for path in map(Path, inputs):
        table = pd.read_csv(path)
        if {"dataset", "sampler"} <= set(table.columns):
            paper.append(table.assign(sampler=table["sampler"].replace(PAPER_NAMES)))
        else:
            run = _run_of(path)
            ours.append(table.assign(dataset=run["data"]["name"], sampler=run["sampler"]["name"], seed=run["seed"]))
    columns = ["dataset", "sampler", "iteration", "fid"]
    return (pd.concat(ours, ignore_index=True) if ours else pd.DataFrame(columns=columns + ["seed", "protocol"]),
            pd.concat(paper, ignore_index=True) if paper else pd.DataFrame(columns=columns))


def fid_curves(inputs: Sequence[str], out: str | Path, title: str) -> Path:
    """FID against iterations, one panel per data set: ours solid (mean, band ±1 sd over seeds),
    the paper's logged curves dashed. A proxy FID never shares the paper's axis: the paper's
    curves go on a second axis, and the title says so."""
    ours, paper = read_fid_tables(inputs)
    datasets = list(dict.fromkeys(ours["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.6 * len(datasets), 4.0), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        mine = ours[ours["dataset"] == dataset]
        theirs = paper[paper["dataset"] == dataset]
        proxy = (mine["protocol"] == "proxy").any()
        names = image_order(list(set(mine["sampler"]) | set(theirs["sampler"])))
        sns.lineplot(mine, x="iteration", y="fid", hue="sampler", hue_order=[n for n in names if n in set(mine["sampler"])],
                     palette=PALETTE, errorbar="sd", ax=ax, legend=False, marker="o", markersize=3)
        ax.set_ylabel("FID (proxy)" if proxy else "FID (clean-fid, Inception)")
        twin = ax.twinx() if proxy and len(theirs) else ax
        for sampler, part in theirs.groupby("sampler"):
            twin.plot(part["iteration"], part["fid"], linestyle="--", linewidth=1.2, color=PALETTE.get(sampler, "grey"))
        if twin is not ax:
            twin.set_ylabel("paper: Inception FID (authors' logs)")
        n_seeds = int(mine.groupby("sampler")["seed"].nunique().max()) if len(mine) else 0
        ax.set_title(f"{display(dataset)}: this suite, mean and ±1 sd over {n_seeds} seed(s)"
                     + (f"\n{PROXY_NOTE}" if proxy else ""), fontsize=9)
        ax.set_xlabel("iteration")
        handles = [plt.Line2D([], [], color=PALETTE.get(n, "grey"), label=display(n)) for n in names]
        handles.append(plt.Line2D([], [], color="black", label="this suite" + (" (proxy, left axis)" if twin is not ax else "")))
        if len(theirs):
            handles.append(plt.Line2D([], [], color="black", linestyle="--",
                                      label="paper, authors' logs (Inception" + (", right axis)" if twin is not ax else ")")))
        ax.legend(handles=handles, fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return write_figure(out, fig)


def inpainting_figure(inputs: Sequence[str], out: str | Path, shown: int = 8) -> Path:
    """Figure 6: originals, the masked inputs, then each sampler's completions (inpainting.npz)."""
    rows: List[Tuple[str, np.ndarray]] = []
    dataset = ""
    for path in map(Path, inputs):
        arrays = np.load(path)
        keys = pd.read_csv(RunDir(path.parent).inpainting_table, nrows=1).iloc[0]
        dataset = keys["dataset"]
        if not rows:
            rows += [("original", arrays["originals"][:shown]), ("masked", arrays["masked"][:shown])]
        label = f"{display(keys['sampler'])}\nMSE {number(arrays['mse'].mean(), 'mse')}"
        rows.append((label, arrays["completions"][:shown]))
    fig, axes = plt.subplots(len(rows), 1, figsize=(1.2 * shown, 1.35 * len(rows)), squeeze=False)
    for ax, (label, images) in zip(axes[:, 0], rows):
        ax.imshow(mosaic(images, columns=len(images)), interpolation="nearest")
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    fig.suptitle(f"Figure 6: inpainting the centre square of {display(dataset)} test images "
                 "(MSE over the masked pixels, mean over all test images, [-1, 1] scale)", fontsize=9)
    fig.tight_layout()
    return write_figure(out, fig)


def ablation(inputs: Sequence[str], out: str | Path) -> Path:
    """The ambiguity ablation on one data set (its tables folder): how far each reading's chains
    move and where its training ends, one point per seed."""
    final = ablation_rows.finals(Tables(inputs[0]))
    order = [display(v) for v in ablation_rows.order(final["variant"])]  # a reading by its label
    final = final.assign(variant=final["variant"].map(display))
    metrics = list(ablation_rows.columns(final, display).items())
    dataset = display(final["dataset"].iloc[0])
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 0.5 * len(order) + 1.6), sharey=True,
                             squeeze=False)
    for ax, (column, title) in zip(axes[0], metrics):
        shown = final.dropna(subset=[column])
        sns.stripplot(shown, x=column, y="variant", order=order, color=PALETTE["stanley"], size=6, ax=ax)
        sns.pointplot(shown, x=column, y="variant", order=order, errorbar=None, color="black", markers="|",
                      linestyles="none", ax=ax)
        ax.set_title(title, fontsize=10), ax.set_xlabel(""), ax.set_ylabel("")
        ax.locator_params(axis="x", nbins=4)
        if column != "tv" and len(shown):
            value_scale(ax, shown[column], axis="x")
            ax.xaxis.set_minor_formatter(plt.NullFormatter())  # a log axis over one or two decades: no crowded minor labels
    fig.suptitle(f"STANLEY's ambiguous steps on {dataset}, one reading at a time (dots: seeds, bar: mean)", fontsize=10)
    fig.tight_layout()
    return write_figure(out, fig)


def study(inputs: Sequence[str], out: str | Path) -> Path:
    """A study beyond the STANLEY paper: final FID and mean chain-gradient norm per variant and
    sampler (mean ±1 sd over seeds), against the swept value when the study has one, else one
    row per variant; the paper's printed values in panels of their own (other networks, other
    scale and, for a proxy FID, another feature space: never on our axes)."""
    folder, reference = Path(inputs[0]), pd.read_csv(inputs[1])
    spec, frames = Tables(folder).load_study_spec(), tables.read(folder)
    summary = summaries.study(frames["metrics"], frames["provenance"], spec, frames["fid"], frames["eval"])
    paper = summaries.paper_values(reference, spec.get("paper"))
    proxy = (summary["protocol"] == "proxy").any()
    fid_label = "final FID (proxy)" if proxy else "final FID (clean-fid, Inception)"
    ours = [("fid", fid_label)] if summary["fid_mean"].notna().any() else []
    ours += [(m, label) for m, label in (("sliced_w2", "final sliced W2 of samples"), ("gamma_mean", "STANLEY's gamma, mean"))
             if summary[f"{m}_mean"].notna().any()]
    ours.append(("grad_norm", "mean chain-gradient norm"))
    printed = [(m, label) for m, label in (("fid", "printed FID (Inception)"), ("grad_norm", "printed chain-gradient norm"))
               if m in set(paper["metric"])]
    panels = ours + printed
    variants = list(spec["variants"])
    fig, axes = plt.subplots(1, len(panels), figsize=(4.3 * len(panels), 3.6 if spec.get("x") else 1.2 + 0.45 * len(variants)),
                             squeeze=False)
    names = sampler_order(list(summary["sampler"].unique()))
    for ax, (metric, label) in zip(axes[0], panels):
        mine = (metric, label) in ours
        if mine:
            for offset, sampler in enumerate(names):
                part = summary[summary["sampler"] == sampler]
                mean, sd = part[f"{metric}_mean"].to_numpy(float), part[f"{metric}_sd"].fillna(0).to_numpy(float)
                if spec.get("x"):
                    ax.errorbar(part["x"], mean, yerr=sd, marker="o", capsize=3, color=PALETTE.get(sampler),
                                label=display(sampler))
                else:
                    rows = np.array([variants.index(v) for v in part["variant"]]) + 0.15 * (offset - (len(names) - 1) / 2)
                    ax.errorbar(mean, rows, xerr=sd, marker="o", linestyle="none", capsize=3,
                                color=PALETTE.get(sampler), label=display(sampler))
        else:
            part = paper[paper["metric"] == metric]
            if spec.get("x"):
                ax.plot(part["x"].astype(float), part["value"], marker="s", linestyle="--", color="black",
                        label="printed (Langevin)")
            else:
                rows = [variants.index(v) for v in part["variant"] if v in variants]
                ax.barh(rows, part[part["variant"].isin(variants)]["value"], color="0.6", label="printed")
        if spec.get("x"):
            ax.set_xlabel(AXES.get(spec["x"], spec["x"]))
        else:
            ax.set_yticks(range(len(variants)), variants if ax is axes[0][0] else [""] * len(variants))
            ax.set_ylim(len(variants) - 0.5, -0.5)
            ax.set_xlabel(label)
        ax.set_title(label, fontsize=9)
        ax.legend(fontsize=7, frameon=False)
    seeds = int(summary["seeds"].max()) if len(summary) else 0
    note = f"this suite: mean ±1 sd over {seeds} seed(s)" + (f"; {PROXY_NOTE}" if proxy else "")
    fig.suptitle(f"Beyond the STANLEY paper. {spec['title']}\n{note}", fontsize=9)
    fig.tight_layout()
    return write_figure(out, fig)


FIGURES: Dict[str, Callable[[Sequence[str], str | Path], Path]] = {
    "ablation": ablation,
    "fig1": fig1_rings,
    "fig1_density": fig1_density,
    "toy_metrics": toy_metrics,
    "training": training_curves,
    "fig2": partial(sample_grids, title="Figure 2: Langevin and STANLEY samples at the end of training"),
    "fig3": partial(sample_grids, title="Figure 3: samples of the five samplers at the end of training"),
    "fig4": partial(fid_curves, title="Figure 4: FID against iterations"),
    "fig5": partial(fid_curves, title="Figure 5: FID against iterations"),
    "fig6": inpainting_figure,
    "study": study,
}


def make(name: str, inputs: Sequence[str], out: str | Path) -> Path:
    if name not in FIGURES:
        raise unknown("figure", name, FIGURES)
    missing = [p for p in inputs if not Path(p).exists()]
    if missing:
        raise ConfigError(f"figure {name}: input {missing[0]} does not exist (run the jobs that make it)")
    return FIGURES[name](inputs, out)
