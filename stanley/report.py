"""The HTML report: figures and tables from ``results/``, rendered through Jinja2 templates
into one self-contained file (images and CSV downloads embedded as data URIs)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Dict, List, Optional

import jinja2
import pandas as pd

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
            values = part[column].dropna()
            sd = f" ± {values.std(ddof=1):.3g}" if len(values) > 1 else ""
            row[column] = f"{values.mean():.3g}{sd} (n={len(values)})" if len(values) else "n/a"
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


def render(results: str | Path = "results", templates: str | Path = "report/templates",
           out: str | Path = "report/index.html", scale: str = "paper") -> Path:
    results, templates = Path(results), Path(templates)
    tables, figures = results / "tables", results / "figures"
    context: Dict[str, Any] = {
        "generated": now(), "git_commit": git_commit(), "scale": scale,
        "scale_note": SCALES.get(scale, scale),
        "figures": {name: figure(figures / f"{name}.png") for name in ("fig1", "fig1_density", "toy_metrics", "training")},
        "downloads": {name: table_link(tables / f"{name}.csv") for name in ("eval", "metrics", "provenance")},
        "toy": None, "provenance": None, "diagnostics": None, "unfinished": [],
    }
    if (tables / "eval.csv").is_file():
        eval_table = pd.read_csv(tables / "eval.csv")
        toy = eval_table[eval_table["dataset"] == "rings"]
        if len(toy):
            context["toy"] = {"summary": toy_summary(toy), "seeds": int(toy["seed"].nunique()),
                              "samplers": [LABELS.get(s, s) for s in sampler_order(list(toy["sampler"].unique()))]}
    context["unfinished"] = []
    if (tables / "provenance.csv").is_file():
        jobs = pd.read_csv(tables / "provenance.csv")
        context["provenance"] = provenance(jobs)
        context["unfinished"] = [f"{r.dataset}/{r.sampler}/seed{r.seed}: {r.status}"
                                 for r in jobs.itertuples() if r.status != "completed"]
    try:
        from .diagnostics import report_context
    except ImportError:
        report_context = None
    if report_context is not None:
        context["diagnostics"] = report_context(results)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), autoescape=jinja2.select_autoescape(),
                             undefined=jinja2.StrictUndefined)
    html = env.get_template("index.html.j2").render(**context)
    return write_text(out, html)
