"""The HTML report: figures and tables from ``results/``, rendered through Jinja2 templates
into one self-contained file (images and CSV downloads embedded as data URIs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import jinja2
import pandas as pd

from .claims import checkpoint_table, learning_notes
from ..diagnostics import report_context
from .embed import figure, table_link
from .figures import display, sampler_order
from .formatting import (
    Blank,
    change,
    html_table,
    mean_sd_of,
    missing,
    number,
    plus_minus,
    quantity_of,
)
from ..plumbing.io import write_text
from .packaged import BEYOND_PAPER, PAPER_FID_CURVES, TEMPLATES
from ..plumbing.rundir import Layout, Tables
from ..plumbing.view import declared_view
from ..plumbing.provenance import git_commit, now

SCALES = {
    "paper": "the paper's setting",
    "smoke": "smoke scale: a few hundred iterations on a CPU, for checking the pipeline; "
             "its numbers say nothing about the paper's claims",
}


def mean_sd(frame: pd.DataFrame, columns: List[str]) -> pd.DataFrame:
    """One row per sampler: 'mean ± sd (n)' per column, over seeds."""
    rows = []
    for sampler in sampler_order(list(frame["sampler"].unique())):
        part = frame[frame["sampler"] == sampler]
        row = {"sampler": display(sampler)}
        for column in columns:
            row[column] = mean_sd_of(part[column], quantity_of(column))
        rows.append(row)
    return pd.DataFrame(rows)


TOY_COLUMNS = {column: display(column) for column in ("kl", "tv", "sliced_w2")}


def toy_summary(eval_table: pd.DataFrame) -> List[Dict[str, Any]]:
    """Toy metrics early in training and at the end, mean ± sd over seeds."""
    columns = list(TOY_COLUMNS)
    iterations = sorted(eval_table["iteration"].unique())
    picks = [("early", iterations[1] if len(iterations) > 1 else iterations[0]), ("final", iterations[-1])]
    return [
        {"label": f"{label} (iteration {int(it):,})",
         "html": html_table(mean_sd(eval_table[eval_table["iteration"] == it], columns).rename(columns=TOY_COLUMNS))}
        for label, it in picks
    ]


def fid_summary(fid_table: pd.DataFrame, paper: Optional[pd.DataFrame] = None,
                provenance_table: Optional[pd.DataFrame] = None) -> pd.DataFrame:
    """Final FID per data set and sampler: each run's last FID, mean ± sd over seeds, its
    protocol (proxy or Inception), beside the paper's last logged value (the authors' "mh" is
    our mala). Data sets the paper logged but this suite did not run show as "not run"."""
    from .figures import PAPER_NAMES, image_order

    last = fid_table.sort_values("iteration").groupby(["dataset", "sampler", "seed"], as_index=False).last()
    paper = paper if paper is not None else pd.DataFrame(columns=["dataset", "sampler", "iteration", "fid"])
    paper = paper.assign(sampler=paper["sampler"].replace(PAPER_NAMES))
    paper_last = paper.sort_values("iteration").groupby(["dataset", "sampler"]).last()
    diverged = {}
    if provenance_table is not None and "status" in provenance_table:
        bad = provenance_table[provenance_table["status"].astype(str).str.startswith("diverged")]
        diverged = bad.groupby(["dataset", "sampler"]).size().to_dict()
    rows = []
    for dataset in dict.fromkeys([*last["dataset"], *paper["dataset"]]):
        mine = last[last["dataset"] == dataset]
        names = image_order(list(set(mine["sampler"]) | set(paper.loc[paper["dataset"] == dataset, "sampler"])))
        for sampler in names:
            runs = mine[mine["sampler"] == sampler]
            theirs = paper_last.loc[(dataset, sampler)] if (dataset, sampler) in paper_last.index else None
            rows.append({
                "data set": display(dataset), "sampler": display(sampler),
                "final FID, this suite (mean ± sd over seeds)": mean_sd_of(runs["fid"], "fid") if len(runs) else "not run",
                "protocol": "/".join(sorted(set(runs["protocol"]))) if len(runs) else Blank("not run"),
                "at iteration": int(runs["iteration"].max()) if len(runs) else Blank("not run"),
                "runs diverged": diverged.get((dataset, sampler), 0) if len(runs) else Blank("not run"),
                "paper (authors' logs, Inception)": number(theirs["fid"], "fid") if theirs is not None
                else Blank("not in the authors' logs"),
                "paper at iteration": int(theirs["iteration"]) if theirs is not None else Blank("not in the authors' logs"),
            })
    return pd.DataFrame(rows)


def inpainting_summary(tables: List[Path]) -> Optional[Dict[str, Any]]:
    """Masked-region MSE per sampler: each run's mean over its test images, mean ± sd over seeds."""
    if not tables:
        return None
    from .figures import image_order

    frame = pd.concat([pd.read_csv(path) for path in tables], ignore_index=True)
    per_run = frame.groupby(["dataset", "sampler", "seed"], as_index=False).agg(
        mse=("mse", "mean"), images=("image", "count"), mask_side=("mask_side", "first"), steps=("steps", "first"))
    rows = []
    for dataset in dict.fromkeys(per_run["dataset"]):
        mine = per_run[per_run["dataset"] == dataset]
        for sampler in image_order(list(mine["sampler"].unique())):
            part = mine[mine["sampler"] == sampler]
            rows.append({"data set": display(dataset), "sampler": display(sampler),
                         "masked-region MSE (mean ± sd over seeds)": mean_sd_of(part["mse"], "mse"),
                         "test images": int(part["images"].iloc[0]), "mask side (px)": int(part["mask_side"].iloc[0]),
                         "sampler steps": int(part["steps"].iloc[0])})
    return {"html": html_table(pd.DataFrame(rows)),
            "datasets": [display(d) for d in dict.fromkeys(per_run["dataset"])]}


IMAGE_FIGURES = ("fig2", "fig3", "fig4", "fig5", "fig6")


def images_context(results: Path, reference: Path) -> Optional[Dict[str, Any]]:
    """Figures 2-6, the final-FID table and the inpainting errors; None without image results."""
    layout = Layout(results)
    shown = {name: figure(layout.figure(name)) for name in IMAGE_FIGURES}
    fid_file = layout.tables.table("fid")
    inpainting_tables = [run.inpainting_table for run in layout.inpainting_runs()]
    if not any(shown.values()) and not fid_file.is_file() and not inpainting_tables:
        return None
    context: Dict[str, Any] = {"figures": shown, "fid": None, "inpainting": inpainting_summary(inpainting_tables)}
    if fid_file.is_file():
        fid_table = pd.read_csv(fid_file)
        paper = pd.read_csv(reference) if reference.is_file() else None
        provenance_file = layout.tables.table("provenance")
        summary = fid_summary(fid_table, paper, pd.read_csv(provenance_file) if provenance_file.is_file() else None)
        protocols = sorted(set(fid_table["protocol"].dropna()))
        context["fid"] = {
            "html": html_table(summary),
            "protocols": protocols, "proxy": "proxy" in protocols,
            "datasets": [display(d) for d in dict.fromkeys(fid_table["dataset"])],
            "download": table_link(fid_file), "paper": reference.is_file(),
        }
    return context


PROVENANCE_COLUMNS = {"dataset": "data set", "sampler": "sampler", "seed": "seed", "status": "status",
                      "config_hash": "config", "git_commit": "commit", "device": "device",
                      "wall_time_s": "wall time (s)", "gpu_hours": "GPU-hours", "slurm_job_id": "SLURM job",
                      "finished": "finished (UTC)"}
"""The jobs table's columns. A column with one value for every job moves into the sentence
above the table, so the table stays narrow enough for a phone."""
JOB_KEYS = {"seed", "data.name", "sampler.name"}  # the jobs table's own columns: not repeated as settings


def _short(value: Any, length: int) -> str:
    return str(value)[:length] if not missing(value) else value


def provenance(table: pd.DataFrame) -> Dict[str, Any]:
    config_columns = [c for c in table.columns if c.startswith("config.")]
    varying = [c for c in config_columns if table[c].nunique(dropna=False) > 1]
    constant = {c[len("config."):]: number(table[c].iloc[0], "setting") for c in config_columns if c not in varying}
    versions = {c[len("version."):]: table[c].iloc[0] for c in table.columns if c.startswith("version.")}
    jobs = table[[c for c in PROVENANCE_COLUMNS if c in table.columns]].copy()
    shared = {PROVENANCE_COLUMNS[c]: jobs[c].iloc[0] for c in jobs.columns
              if c not in ("dataset", "sampler", "seed", "status") and jobs[c].nunique(dropna=False) == 1}
    jobs = jobs.drop(columns=[c for c in jobs.columns if PROVENANCE_COLUMNS[c] in shared])
    for column, length in (("config_hash", 8), ("git_commit", 8)):
        if column in jobs:
            jobs[column] = jobs[column].map(lambda v: _short(v, length))
    if "finished" in jobs:
        jobs["finished"] = jobs["finished"].map(lambda v: _short(str(v).replace("T", " "), 16))
    jobs["dataset"] = jobs["dataset"].map(display)
    jobs["sampler"] = jobs["sampler"].map(display)
    # settings that differ between jobs: one row per setting, one column per data set ("per run" where
    # they differ inside a data set too), so the table grows down, not across
    settings = []
    for column in varying:
        key = column[len("config."):]
        if key in JOB_KEYS:
            continue
        row = {"setting": key}
        for dataset, part in table.groupby("dataset", sort=False):
            values = list(dict.fromkeys(number(v, "setting") for v in part[column].dropna()))
            unused = " (where used)" if part[column].isna().any() and values else ""
            row[display(dataset)] = (Blank("not used by this data set's runs") if not values else
                                     values[0] + unused if len(values) == 1 else "per run: " + ", ".join(values) + unused)
        settings.append(row)
    shared_text = {name: (value[:12] if name in ("commit", "config") and isinstance(value, str) else
                          number(value, "hours" if name == "GPU-hours" else "seconds" if "(s)" in name else "value",
                                 why="none"))
                   for name, value in shared.items()}
    return {
        "jobs": html_table(jobs.rename(columns=PROVENANCE_COLUMNS), formats={"wall time (s)": "seconds"},
                           classes={"config": "hash", "commit": "hash", "status": "wrap"}),
        "shared": shared_text,
        "settings": html_table(pd.DataFrame(settings)) if settings else None,
        "constant": constant,
        "versions": versions,
        "total_wall_time_h": number(table["wall_time_s"].sum() / 3600, "hours"),
        "total_gpu_hours": number(table["gpu_hours"].sum(), "hours"),
    }


def ablation_summary(table: pd.DataFrame) -> Dict[str, Any]:
    """Final toy metrics per reading, mean ± sd over seeds, and each reading's change from the paper's."""
    final = table[table["iteration"] == table.groupby(["variant", "seed"])["iteration"].transform("max")]
    columns = ["kl", "tv", "sliced_w2"]
    means = final.groupby("variant")[columns].mean()
    rows = []
    for variant in ["paper"] + sorted(v for v in means.index if v != "paper"):
        if variant not in means.index:
            continue
        part = final[final["variant"] == variant]
        row = {"reading": variant, "seeds": int(part["seed"].nunique())}
        for column in columns:
            values = part[column].dropna()
            shift = ("" if variant == "paper" or "paper" not in means.index
                     else f" ({change(means.loc[variant, column] - means.loc['paper', column], means.loc[variant, column], column)})")
            row[TOY_COLUMNS[column]] = f"{plus_minus(values.mean(), values.std(ddof=1), column)}{shift}"
        rows.append(row)
    return {"html": html_table(pd.DataFrame(rows)), "iteration": int(final["iteration"].max())}


PRINTED = {"fid": "paper FID (Inception)", "is": "paper Inception score", "grad_norm": "paper chain-gradient norm",
           "stable": "paper: stable (1 = yes)"}


def studies_context(results: Path, reference: Path) -> List[Dict[str, Any]]:
    """One entry per study beyond the STANLEY paper: its figure, and a table of our numbers
    (mean ± sd over seeds) beside the paper's printed ones, each labelled with how it was made."""
    from ..experiment.studies import paper_values, summarise

    printed = pd.read_csv(reference) if reference.is_file() else pd.DataFrame(columns=["table", "variant", "metric", "value", "source"])
    entries = []
    layout = Layout(results)
    specs = [(tables.load_study_spec(), tables) for tables in layout.studies()]
    for spec, tables in sorted(specs, key=lambda pair: (pair[0].get("order", 0), pair[0]["name"])):
        summary = summarise(tables.path)
        paper = paper_values(printed, spec.get("paper")) if spec.get("paper") in set(printed["table"]) else printed.iloc[0:0]
        provenance_table = pd.read_csv(tables.table("provenance"))
        proxy = (summary["protocol"] == "proxy").any()
        fid_name = "FID (proxy)" if proxy else "FID (Inception)"
        rows = []
        for r in summary.itertuples():
            row = {"variant": r.variant, "sampler": display(r.sampler)}
            if spec.get("x"):
                from .figures import AXES

                row[AXES.get(spec["x"], spec["x"])] = r.x
            row["seeds"] = r.seeds
            row[f"final {fid_name}"] = plus_minus(r.fid_mean, r.fid_sd, "fid")
            if summary["sliced_w2_mean"].notna().any():
                row["final sliced W2"] = plus_minus(r.sliced_w2_mean, r.sliced_w2_sd, "sliced_w2")
            if summary["gamma_mean_mean"].notna().any():
                row["gamma, mean"] = plus_minus(r.gamma_mean_mean, r.gamma_mean_sd, "gamma")
            row["chain-gradient norm"] = plus_minus(r.grad_norm_mean, r.grad_norm_sd, "grad_norm")
            row["diverged"] = f"{r.diverged} of {r.seeds}"
            for metric, values in paper[paper["variant"] == r.variant].groupby("metric", sort=False):
                row[PRINTED.get(metric, f"paper {metric}")] = f"{values['value'].iloc[0]:g}"  # as printed
            rows.append(row)
        iterations = sorted(provenance_table["config.training.iterations"].unique()) if "config.training.iterations" in provenance_table else []
        entries.append({
            "name": spec["name"], "title": spec["title"], "dataset": spec["dataset"],
            "figure": figure(layout.figure(f"study_{spec['name']}")),
            "table": html_table(pd.DataFrame(rows).astype(object).where(lambda f: f.notna(), Blank("not printed"))),
            "proxy": bool(proxy), "iterations": ", ".join(f"{int(i):,}" for i in iterations),
            "source": paper["source"].iloc[0] if len(paper) else "",
            "download": table_link(tables.table("metrics")),
            "unfinished": [f"{r.variant}, {display(r.sampler)}, seed {r.seed}: {r.status}" for r in provenance_table.itertuples()
                           if r.status != "completed"],
        })
    return entries


def paper_log_notes(curves: pd.DataFrame) -> List[str]:
    """Where the authors' own FID logs show another sampler below STANLEY (the paper's text says STANLEY wins)."""
    from .figures import PAPER_NAMES

    curves = curves.assign(sampler=curves["sampler"].replace(PAPER_NAMES))  # the authors' "mh" is our mala
    notes = []
    for dataset, part in curves.groupby("dataset", sort=False):
        wide = part.pivot_table(index="iteration", columns="sampler", values="fid")
        if "stanley" not in wide:
            continue
        others = wide.drop(columns="stanley")
        beaten = others.lt(wide["stanley"], axis=0)
        if not beaten.any().any():
            notes.append(f"{display(dataset)}: in the authors' logs STANLEY has the lowest FID at every logged checkpoint.")
            continue
        for sampler in beaten.columns[beaten.any()]:
            iterations = list(wide.index[beaten[sampler]])
            last = wide.index[-1]
            notes.append(
                f"{display(dataset)}: in the authors' own logs {display(sampler)} has a lower FID than STANLEY at "
                f"{len(iterations)} of {len(wide)} checkpoints ({', '.join(f'{i // 1000}k' for i in iterations)}); "
                f"final FID at {last:,}: {display(sampler)} {number(wide.loc[last, sampler], 'fid')}, "
                f"STANLEY {number(wide.loc[last, 'stanley'], 'fid')}.")
    return notes


def tuning_context(results: Path) -> Optional[Dict[str, Any]]:
    """The tuning stage (stanley.experiment.tuning): the grid, each pilot's score and the choice, per data set."""
    from ..experiment import tuning

    files = Layout(results).tuning_tables()
    if not files:
        return None
    sections = []
    for path in files:
        table = pd.read_csv(path)
        table["sampler"] = table["sampler"].map(display)
        shown = [c for c in ("sampler", "point", "step_size", "metric", "score", "chosen", "acceptance", "movement",
                             "gamma_mean", "status") if c in table.columns]
        sections.append({"dataset": path.parent.name, "iterations": int(table["iterations"].iloc[0]),
                         "fraction": float(table["budget_fraction"].iloc[0]),
                         "points": sorted(table["point"].unique()),
                         "html": html_table(table[shown], formats={"step_size": "setting", "score": "value"})})
    return {"rule": tuning.RULE, "datasets": sections}


def chains_context(tables: Tables) -> Optional[Dict[str, Any]]:
    """Do the chains move? Each run's last logged movement (mean |z_K - z_0| per coordinate, per
    pixel on images), gamma and acceptance, mean ± sd over seeds; and the toy metric's floor."""
    from ..experiment import readings

    if not tables.table("metrics").is_file():
        return None
    metrics = pd.read_csv(tables.table("metrics"))
    if "movement" not in metrics.columns:
        return None
    last = metrics[metrics["iteration"] == metrics.groupby(["dataset", "sampler", "seed"])["iteration"].transform("max")]
    columns = [c for c in ("movement", "gamma_mean", "gamma_min", "acceptance") if c in last.columns]
    sections = [{"dataset": dataset, "iteration": int(part["iteration"].max()),
                 "html": html_table(mean_sd(part, columns))}
                for dataset, part in last.groupby("dataset", sort=False)]
    floors = []
    if tables.table("eval").is_file():
        evals = pd.read_csv(tables.table("eval"))
        if "sliced_w2_floor" in evals.columns:
            floors = [{"dataset": d, "floor": float(part["sliced_w2_floor"].mean())}
                      for d, part in evals.dropna(subset=["sliced_w2_floor"]).groupby("dataset")]
    return {"datasets": sections, "floors": floors,
            "readings": [{"name": n, "label": readings.LABELS[n], "source": readings.SOURCES[n],
                          "pinned": ", ".join(f"{k}: {v}" for k, v in readings.PINNED[n].items()) or "none (the switches' defaults)"}
                         for n in readings.NAMES]}


def render(results: str | Path = "results", templates: str | Path | None = None,
           out: str | Path | None = None, scale: str = "paper") -> Path:
    """``templates``: a folder of templates to use instead of the packaged ones; ``out`` defaults
    to the report's place in the results' layout, so each scale keeps its own."""
    results, templates = Path(results), Path(templates) if templates is not None else TEMPLATES
    layout = Layout(results)
    tables = layout.tables
    context: Dict[str, Any] = {
        "generated": now(), "git_commit": git_commit(), "scale": scale,
        "scale_note": SCALES.get(scale, scale),
        "figures": {name: figure(layout.figure(name)) for name in ("fig1", "fig1_density", "toy_metrics", "training", "ablation")},
        "downloads": {name: table_link(tables.table(name)) for name in ("eval", "metrics", "provenance")},
        "toy": None, "provenance": None, "diagnostics": None, "unfinished": [],
        "claims": None, "ablation": None, "paper_notes": [], "learning_notes": [], "claim_checkpoints": None,
        "images": images_context(results, PAPER_FID_CURVES),
        "studies": studies_context(results, BEYOND_PAPER),
        "tuning": tuning_context(results), "chains": chains_context(tables),
    }
    if tables.table("eval").is_file():
        eval_table = pd.read_csv(tables.table("eval"))
        toy = eval_table[eval_table["dataset"] == "rings"]
        if len(toy):
            context["toy"] = {"summary": toy_summary(toy), "seeds": int(toy["seed"].nunique()),
                              "samplers": [display(s) for s in sampler_order(list(toy["sampler"].unique()))]}
    context["paper_notes"] = paper_log_notes(pd.read_csv(PAPER_FID_CURVES)) if PAPER_FID_CURVES.is_file() else []
    context["learning_notes"] = learning_notes(results)
    if tables.table("claims").is_file():
        ledger = pd.read_csv(tables.table("claims"))
        ledger["reading"] = ledger["reading"].map(display)
        context["claims"] = ledger.astype(object).fillna("").to_dict("records")
        described = checkpoint_table(results)
        if len(described):
            checkpoint_table_metrics = list(described["metric"])
            for column in ("sampler", "baseline", "reading", "metric"):
                if column in described:
                    described[column] = described[column].map(display)
            # in the units of each row's metric, all three to the decimal place the interval's width allows
            widths = (described["high"] - described["low"]).abs()
            for column in ("difference", "low", "high"):
                described[column] = [change(v, w, m) if column == "difference" else change(v, w, m).lstrip("+")
                                     for v, w, m in zip(described[column], widths, checkpoint_table_metrics)]
        context["claim_checkpoints"] = html_table(described) if len(described) else None
    ablation = layout.ablation_tables.table("eval")
    if ablation.is_file():
        context["ablation"] = ablation_summary(pd.read_csv(ablation))
        context["downloads"]["ablation"] = table_link(ablation)
    context["downloads"]["claims"] = table_link(tables.table("claims"))
    context["unfinished"] = []
    if tables.table("provenance").is_file():
        jobs = pd.read_csv(tables.table("provenance"))
        context["provenance"] = provenance(jobs)
        context["unfinished"] = [f"{display(r.dataset)}, {display(r.sampler)}, seed {r.seed}: {r.status}"
                                 for r in jobs.itertuples() if r.status != "completed"]
    context["diagnostics"] = report_context(results)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), autoescape=jinja2.select_autoescape(),
                             undefined=jinja2.StrictUndefined)
    env.filters.update(number=number, display=display)  # the templates' numbers and names: the same owners
    return write_text(out if out is not None else layout.report, env.get_template("index.html.j2").render(**context))


def render_declared(inputs: List[str | Path], results: str | Path = "results", templates: str | Path | None = None,
                    out: str | Path | None = None, scale: str = "paper") -> Path:
    """:func:`render` from the listed result files only (the workflow lists what its DAG declares:
    ``Plan.report_inputs``), so a file an earlier config left in ``results`` never reaches the report."""
    with declared_view(results, inputs) as view:
        return render(view, templates, out if out is not None else Layout(results).report, scale)
