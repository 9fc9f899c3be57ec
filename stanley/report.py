"""The HTML report: figures and tables from ``results/``, rendered through Jinja2 templates
into one self-contained file (images and CSV downloads embedded as data URIs)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Dict, List, Optional

import jinja2
import pandas as pd
import yaml

from .figures import LABELS, sampler_order
from .io import write_text
from .provenance import git_commit, now

SCALES = {
    "paper": "the paper's setting",
    "smoke": "smoke scale: a few hundred iterations on a CPU, for checking the pipeline; "
             "its numbers say nothing about the paper's claims",
}


def data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def figure(path: Path) -> Optional[str]:
    return data_uri(path, "image/png") if path.is_file() else None


def table_link(path: Path) -> Optional[str]:
    return data_uri(path, "text/csv") if path.is_file() else None


def mean_sd(frame: pd.DataFrame, columns: List[str]) -> pd.DataFrame:
    """One row per sampler: 'mean +- sd (n)' per column, over seeds."""
    rows = []
    for sampler in sampler_order(list(frame["sampler"].unique())):
        part = frame[frame["sampler"] == sampler]
        row = {"sampler": LABELS.get(sampler, sampler)}
        for column in columns:
            row[column] = _mean_sd(part[column])
        rows.append(row)
    return pd.DataFrame(rows)


def toy_summary(eval_table: pd.DataFrame) -> List[Dict[str, Any]]:
    """Toy metrics early in training and at the end, mean +- sd over seeds."""
    columns = ["kl", "tv", "sliced_w2"]
    iterations = sorted(eval_table["iteration"].unique())
    picks = [("early", iterations[1] if len(iterations) > 1 else iterations[0]), ("final", iterations[-1])]
    return [
        {"label": f"{label} (iteration {int(it):,})",
         "html": mean_sd(eval_table[eval_table["iteration"] == it], columns).to_html(index=False, border=0)}
        for label, it in picks
    ]


def _plus_minus(mean: float, sd: float, digits: str = ".3g") -> str:
    """'mean ± sd', the sd left out where it is NaN (one seed); '' for a missing mean."""
    if pd.isna(mean):
        return ""
    return f"{mean:{digits}}" + ("" if pd.isna(sd) else f" ± {sd:{digits}}")


def _mean_sd(values: pd.Series) -> str:
    values = values.dropna()
    if not len(values):
        return "n/a"
    return f"{_plus_minus(values.mean(), values.std(ddof=1))} (n={len(values)})"


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
                "dataset": dataset, "sampler": LABELS.get(sampler, sampler),
                "final FID, this suite (mean ± sd over seeds)": _mean_sd(runs["fid"]) if len(runs) else "not run",
                "protocol": "/".join(sorted(set(runs["protocol"]))) if len(runs) else "",
                "at iteration": f"{int(runs['iteration'].max()):,}" if len(runs) else "",
                "runs diverged": diverged.get((dataset, sampler), 0) if len(runs) else "",
                "paper (authors' logs, Inception)": f"{theirs['fid']:.3g}" if theirs is not None else "",
                "paper at iteration": f"{int(theirs['iteration']):,}" if theirs is not None else "",
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
            rows.append({"dataset": dataset, "sampler": LABELS.get(sampler, sampler),
                         "masked-region MSE (mean ± sd over seeds)": _mean_sd(part["mse"]),
                         "test images": int(part["images"].iloc[0]), "mask side (px)": int(part["mask_side"].iloc[0]),
                         "sampler steps": int(part["steps"].iloc[0])})
    return {"html": pd.DataFrame(rows).to_html(index=False, border=0),
            "datasets": list(dict.fromkeys(per_run["dataset"]))}


IMAGE_FIGURES = ("fig2", "fig3", "fig4", "fig5", "fig6")


def images_context(results: Path, reference: Path) -> Optional[Dict[str, Any]]:
    """Figures 2-6, the final-FID table and the inpainting errors; None without image results."""
    tables, figures = results / "tables", results / "figures"
    shown = {name: figure(figures / f"{name}.png") for name in IMAGE_FIGURES}
    fid_file = tables / "fid.csv"
    inpainting_tables = sorted((results / "inpainting").glob("*/*/seed*/inpainting.csv"))
    if not any(shown.values()) and not fid_file.is_file() and not inpainting_tables:
        return None
    context: Dict[str, Any] = {"figures": shown, "fid": None, "inpainting": inpainting_summary(inpainting_tables)}
    if fid_file.is_file():
        fid_table = pd.read_csv(fid_file)
        paper = pd.read_csv(reference) if reference.is_file() else None
        provenance_file = tables / "provenance.csv"
        summary = fid_summary(fid_table, paper, pd.read_csv(provenance_file) if provenance_file.is_file() else None)
        protocols = sorted(set(fid_table["protocol"].dropna()))
        context["fid"] = {
            "html": summary.to_html(index=False, border=0),
            "protocols": protocols, "proxy": "proxy" in protocols,
            "datasets": list(dict.fromkeys(fid_table["dataset"])),
            "download": table_link(fid_file), "paper": reference.is_file(),
        }
    return context


PROVENANCE_COLUMNS = ["dataset", "sampler", "seed", "status", "config_hash", "git_commit", "device",
                      "wall_time_s", "gpu_hours", "slurm_job_id", "finished"]


def provenance(table: pd.DataFrame) -> Dict[str, Any]:
    config_columns = [c for c in table.columns if c.startswith("config.")]
    varying = [c for c in config_columns if table[c].astype(str).nunique() > 1]
    constant = {c[len("config."):]: table[c].iloc[0] for c in config_columns if c not in varying}
    versions = {c[len("version."):]: table[c].iloc[0] for c in table.columns if c.startswith("version.")}
    shown = [c for c in PROVENANCE_COLUMNS if c in table.columns] + varying
    return {
        "jobs": table[shown].rename(columns=lambda c: c.replace("config.", "")).to_html(index=False, border=0),
        "constant": constant,
        "versions": versions,
        "total_wall_time_h": table["wall_time_s"].sum() / 3600,
        "total_gpu_hours": table["gpu_hours"].sum(),
    }


def ablation_summary(table: pd.DataFrame) -> Dict[str, Any]:
    """Final toy metrics per reading, mean +- sd over seeds, and each reading's change from the paper's."""
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
            sd = f" ± {values.std(ddof=1):.3g}" if len(values) > 1 else ""
            change = ("" if variant == "paper" or "paper" not in means.index
                      else f" ({means.loc[variant, column] - means.loc['paper', column]:+.3g})")
            row[column] = f"{values.mean():.3g}{sd}{change}"
        rows.append(row)
    return {"html": pd.DataFrame(rows).to_html(index=False, border=0), "iteration": int(final["iteration"].max())}


PRINTED = {"fid": "paper FID (Inception)", "is": "paper Inception score", "grad_norm": "paper chain-gradient norm",
           "stable": "paper: stable (1 = yes)"}


def studies_context(results: Path, reference: Path) -> List[Dict[str, Any]]:
    """One entry per study beyond the STANLEY paper: its figure, and a table of our numbers
    (mean ± sd over seeds) beside the paper's printed ones, each labelled with how it was made."""
    from .studies import paper_values, summarise

    printed = pd.read_csv(reference) if reference.is_file() else pd.DataFrame(columns=["table", "variant", "metric", "value", "source"])
    entries = []
    specs = [(yaml.safe_load(f.read_text()), f.parent) for f in (results / "tables" / "studies").glob("*/study.yaml")]
    for spec, tables in sorted(specs, key=lambda pair: (pair[0].get("order", 0), pair[0]["name"])):
        summary = summarise(tables)
        paper = paper_values(printed, spec.get("paper")) if spec.get("paper") in set(printed["table"]) else printed.iloc[0:0]
        provenance_table = pd.read_csv(tables / "provenance.csv")
        proxy = (summary["protocol"] == "proxy").any()
        fid_name = "FID (proxy)" if proxy else "FID (Inception)"
        rows = []
        for r in summary.itertuples():
            row = {"variant": r.variant, "sampler": LABELS.get(r.sampler, r.sampler)}
            if spec.get("x"):
                row[spec["x"]] = r.x
            row["seeds"] = r.seeds
            row[f"final {fid_name}"] = _plus_minus(r.fid_mean, r.fid_sd, ".4g")
            if summary["sliced_w2_mean"].notna().any():
                row["final sliced W2"] = _plus_minus(r.sliced_w2_mean, r.sliced_w2_sd, ".4g")
            if summary["gamma_mean_mean"].notna().any():
                row["gamma, mean"] = _plus_minus(r.gamma_mean_mean, r.gamma_mean_sd, ".4g")
            row["chain-gradient norm"] = _plus_minus(r.grad_norm_mean, r.grad_norm_sd)
            row["diverged"] = f"{r.diverged} of {r.seeds}"
            for metric, values in paper[paper["variant"] == r.variant].groupby("metric", sort=False):
                row[PRINTED.get(metric, f"paper {metric}")] = f"{values['value'].iloc[0]:g}"
            rows.append(row)
        iterations = sorted(provenance_table["config.training.iterations"].unique()) if "config.training.iterations" in provenance_table else []
        entries.append({
            "name": spec["name"], "title": spec["title"], "dataset": spec["dataset"],
            "figure": figure(results / "figures" / f"study_{spec['name']}.png"),
            "table": pd.DataFrame(rows).fillna("").to_html(index=False, border=0),
            "proxy": bool(proxy), "iterations": ", ".join(f"{int(i):,}" for i in iterations),
            "source": paper["source"].iloc[0] if len(paper) else "",
            "download": table_link(tables / "metrics.csv"),
            "unfinished": [f"{r.variant}/{r.sampler}/seed{r.seed}: {r.status}" for r in provenance_table.itertuples()
                           if r.status != "completed"],
        })
    return entries


def paper_log_notes(curves: pd.DataFrame) -> List[str]:
    """Where the authors' own FID logs show another sampler below STANLEY (the paper's text says STANLEY wins)."""
    notes = []
    for dataset, part in curves.groupby("dataset", sort=False):
        wide = part.pivot_table(index="iteration", columns="sampler", values="fid")
        if "stanley" not in wide:
            continue
        others = wide.drop(columns="stanley")
        beaten = others.lt(wide["stanley"], axis=0)
        if not beaten.any().any():
            notes.append(f"{dataset}: in the authors' logs STANLEY has the lowest FID at every logged checkpoint.")
            continue
        for sampler in beaten.columns[beaten.any()]:
            iterations = list(wide.index[beaten[sampler]])
            last = wide.index[-1]
            notes.append(
                f"{dataset}: in the authors' own logs {sampler} has a lower FID than STANLEY at "
                f"{len(iterations)} of {len(wide)} checkpoints ({', '.join(f'{i // 1000}k' for i in iterations)}); "
                f"final FID at {last:,}: {sampler} {wide.loc[last, sampler]:.1f}, STANLEY {wide.loc[last, 'stanley']:.1f}.")
    return notes


def tuning_context(results: Path) -> Optional[Dict[str, Any]]:
    """The tuning stage (stanley.tuning): the grid, each pilot's score and the choice, per data set."""
    from . import tuning

    files = sorted((results / "tuning").glob("*/pilots.csv"))
    if not files:
        return None
    sections = []
    for path in files:
        table = pd.read_csv(path)
        table["sampler"] = table["sampler"].map(lambda s: LABELS.get(s, s))
        shown = [c for c in ("sampler", "point", "step_size", "metric", "score", "chosen", "acceptance", "movement",
                             "gamma_mean", "status") if c in table.columns]
        sections.append({"dataset": path.parent.name, "iterations": int(table["iterations"].iloc[0]),
                         "fraction": float(table["budget_fraction"].iloc[0]),
                         "points": sorted(table["point"].unique()),
                         "html": table[shown].to_html(index=False, border=0, na_rep="", float_format="%.4g")})
    return {"rule": tuning.RULE, "datasets": sections}


def chains_context(tables: Path) -> Optional[Dict[str, Any]]:
    """Do the chains move? Each run's last logged movement (mean |z_K - z_0| per coordinate, per
    pixel on images), gamma and acceptance, mean +- sd over seeds; and the toy metric's floor."""
    from . import readings

    if not (tables / "metrics.csv").is_file():
        return None
    metrics = pd.read_csv(tables / "metrics.csv")
    if "movement" not in metrics.columns:
        return None
    last = metrics[metrics["iteration"] == metrics.groupby(["dataset", "sampler", "seed"])["iteration"].transform("max")]
    columns = [c for c in ("movement", "gamma_mean", "gamma_min", "acceptance") if c in last.columns]
    sections = [{"dataset": dataset, "iteration": int(part["iteration"].max()),
                 "html": mean_sd(part, columns).to_html(index=False, border=0)}
                for dataset, part in last.groupby("dataset", sort=False)]
    floors = []
    if (tables / "eval.csv").is_file():
        evals = pd.read_csv(tables / "eval.csv")
        if "sliced_w2_floor" in evals.columns:
            floors = [{"dataset": d, "floor": float(part["sliced_w2_floor"].mean())}
                      for d, part in evals.dropna(subset=["sliced_w2_floor"]).groupby("dataset")]
    return {"datasets": sections, "floors": floors,
            "readings": [{"name": n, "label": readings.LABELS[n], "source": readings.SOURCES[n],
                          "pinned": ", ".join(f"{k}: {v}" for k, v in readings.PINNED[n].items()) or "none (the switches' defaults)"}
                         for n in readings.NAMES]}


def render(results: str | Path = "results", templates: str | Path = "report/templates",
           out: str | Path = "report/index.html", scale: str = "paper") -> Path:
    results, templates = Path(results), Path(templates)
    tables, figures = results / "tables", results / "figures"
    context: Dict[str, Any] = {
        "generated": now(), "git_commit": git_commit(), "scale": scale,
        "scale_note": SCALES.get(scale, scale),
        "figures": {name: figure(figures / f"{name}.png") for name in ("fig1", "fig1_density", "toy_metrics", "training", "ablation")},
        "downloads": {name: table_link(tables / f"{name}.csv") for name in ("eval", "metrics", "provenance")},
        "toy": None, "provenance": None, "diagnostics": None, "unfinished": [],
        "claims": None, "ablation": None, "paper_notes": [],
        "images": images_context(results, templates.parent / "reference" / "paper_fid_curves.csv"),
        "studies": studies_context(results, templates.parent / "reference" / "beyond_paper.csv"),
        "tuning": tuning_context(results), "chains": chains_context(tables),
    }
    if (tables / "eval.csv").is_file():
        eval_table = pd.read_csv(tables / "eval.csv")
        toy = eval_table[eval_table["dataset"] == "rings"]
        if len(toy):
            context["toy"] = {"summary": toy_summary(toy), "seeds": int(toy["seed"].nunique()),
                              "samplers": [LABELS.get(s, s) for s in sampler_order(list(toy["sampler"].unique()))]}
    reference = Path(templates).parent / "reference" / "paper_fid_curves.csv"
    context["paper_notes"] = paper_log_notes(pd.read_csv(reference)) if reference.is_file() else []
    if (tables / "claims.csv").is_file():
        context["claims"] = pd.read_csv(tables / "claims.csv").fillna("").to_dict("records")
    if (tables / "ablation" / "eval.csv").is_file():
        context["ablation"] = ablation_summary(pd.read_csv(tables / "ablation" / "eval.csv"))
        context["downloads"]["ablation"] = table_link(tables / "ablation" / "eval.csv")
    context["downloads"]["claims"] = table_link(tables / "claims.csv")
    context["unfinished"] = []
    if (tables / "provenance.csv").is_file():
        jobs = pd.read_csv(tables / "provenance.csv")
        context["provenance"] = provenance(jobs)
        context["unfinished"] = [f"{r.dataset}/{r.sampler}/seed{r.seed}: {r.status}"
                                 for r in jobs.itertuples() if r.status != "completed"]
    from .diagnostics import report_context  # here: diagnostics imports this module's helpers

    context["diagnostics"] = report_context(results)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), autoescape=jinja2.select_autoescape(),
                             undefined=jinja2.StrictUndefined)
    html = env.get_template("index.html.j2").render(**context)
    return write_text(out, html)
