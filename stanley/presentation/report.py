"""The HTML report: figures and tables from ``results/``, rendered through Jinja2 templates
into one self-contained file (images and CSV downloads embedded as data URIs).

Three steps, each in one place: :func:`inputs` names every file the report reads; the
``*_context`` functions turn those files into what the templates show (the statistics come from
:mod:`.summaries`, the Theorem 1 section's data from :mod:`.theorem`; tables stay frames, their
number formats in ``frame.attrs``); :func:`render` is the only place that renders HTML: the
templates hold the prose and turn each frame into a table through the ``table`` filter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import jinja2
import pandas as pd
from markupsafe import Markup

from . import ablation, summaries, theorem
from .claims import checkpoint_table, learning_notes
from .embed import figure, table_link
from ..experiment.names import AXES, display, sampler_order
from .formatting import Blank, change, html_table, mean_sd_n, missing, number, plus_minus, quantity_of
from ..plumbing.io import write_text
from .packaged import BEYOND_PAPER, PAPER_FID_CURVES, TEMPLATES
from ..plumbing.rundir import Layout, Tables
from ..plumbing.view import declared_view
from ..plumbing.provenance import git_commit, now

SCALES = ("paper", "smoke")
"""The scales a report can be labelled with; the template says what each means."""
FIGURES = ("fig1", "fig1_density", "toy_metrics", "training")
IMAGE_FIGURES = ("fig2", "fig3", "fig4", "fig5", "fig6")
DIAGNOSTICS_FIGURES = ("drift", "rate", "uniformity")


def inputs(results: str | Path) -> Dict[str, Any]:
    """Every file the report reads, by role; a file that is not there makes its section say
    "not run". Found in the results folder's layout."""
    layout = Layout(results)
    tables = layout.tables
    return {
        "tables": {kind: tables.table(kind) for kind in ("eval", "metrics", "fid", "provenance", "claims")},
        "ablation": {t.path.name: {"tables": t, "figure": layout.figure(f"ablation_{t.path.name}")}
                     for t in layout.ablations()},
        "figures": {name: layout.figure(name) for name in (*FIGURES, *IMAGE_FIGURES)},
        "inpainting": [run.inpainting_table for run in layout.inpainting_runs()],
        "studies": {t.path.name: (t.path, layout.figure(f"study_{t.path.name}")) for t in layout.studies()},
        "tuning": layout.tuning_tables(),
        "diagnostics": {"verdicts": layout.diagnostics_verdicts, "uniformity": layout.uniformity_verdicts,
                        "figures": {name: layout.diagnostics_figure(name) for name in DIAGNOSTICS_FIGURES}},
        "paper_curves": PAPER_FID_CURVES,
        "beyond_paper": BEYOND_PAPER,
    }


def _csv(path: Path) -> Optional[pd.DataFrame]:
    return pd.read_csv(path) if path.is_file() else None


def _named(frame: pd.DataFrame) -> List[Dict[str, Any]]:
    """Rows as records, their data sets and samplers in display names."""
    return frame.assign(**{c: frame[c].map(display) for c in ("dataset", "sampler") if c in frame}).to_dict("records")


def _formats(frame: pd.DataFrame, formats: Optional[Dict[str, str]] = None,
             classes: Optional[Dict[str, str]] = None) -> pd.DataFrame:
    """``frame`` with the number formats and CSS classes the ``table`` filter uses."""
    frame.attrs.update(formats=formats or {}, classes=classes or {})
    return frame


def seeds_text(stats: pd.DataFrame, column: str, quantity: str) -> List[str]:
    """'mean ± sd (n=k)' for each row of a :func:`summaries.over_seeds` frame."""
    return [mean_sd_n(m, s, n, quantity) for m, s, n in
            zip(stats[f"{column}_mean"], stats[f"{column}_sd"], stats[f"{column}_n"])]


def mean_sd(frame: pd.DataFrame, columns: List[str], names: Optional[Dict[str, str]] = None) -> pd.DataFrame:
    """One row per sampler (display names, paper's order): 'mean ± sd (n)' per column, over seeds."""
    return per_sampler_table(summaries.per_sampler(frame, columns), columns, names)


def per_sampler_table(stats: pd.DataFrame, columns: List[str], names: Optional[Dict[str, str]] = None) -> pd.DataFrame:
    """A :func:`summaries.per_sampler` frame as shown: display names, 'mean ± sd (n)' cells, each
    column under its name in ``names`` (else its own)."""
    shown = pd.DataFrame({"sampler": stats["sampler"].map(display)})
    for column in columns:
        shown[(names or {}).get(column, column)] = seeds_text(stats, column, quantity_of(column))
    return shown


TOY_COLUMNS = {column: display(column) for column in summaries.TOY_METRICS}


def toy_context(eval_table: pd.DataFrame) -> Dict[str, Any]:
    """Toy metrics early in training and at the end, mean ± sd over seeds."""
    picks = summaries.toy(eval_table)
    return {"summary": [{"when": when, "iteration": it, "table": per_sampler_table(stats, summaries.TOY_METRICS, TOY_COLUMNS)}
                        for when, (it, stats) in picks.items()],
            "seeds": int(eval_table["seed"].nunique()),
            "samplers": [display(s) for s in sampler_order(list(eval_table["sampler"].unique()))]}


def fid_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The final-FID table as shown: a pair this suite did not run says so, as does one the
    authors did not log."""
    rows = []
    for r in summary.itertuples():
        run = r.fid_n > 0 or not missing(r.protocol)
        logged = not missing(r.paper_fid)
        rows.append({
            "data set": display(r.dataset), "sampler": display(r.sampler),
            "final FID, this suite (mean ± sd over seeds)": mean_sd_n(r.fid_mean, r.fid_sd, r.fid_n, "fid") if run else "not run",
            "protocol": r.protocol if run else Blank("not run"),
            "at iteration": int(r.iteration) if run else Blank("not run"),
            "runs diverged": int(r.diverged) if run else Blank("not run"),
            "paper (authors' logs, Inception)": number(r.paper_fid, "fid") if logged else Blank("not in the authors' logs"),
            "paper at iteration": int(r.paper_iteration) if logged else Blank("not in the authors' logs"),
        })
    return pd.DataFrame(rows)


def inpainting_table(stats: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "data set": stats["dataset"].map(display), "sampler": stats["sampler"].map(display),
        "masked-region MSE (mean ± sd over seeds)": seeds_text(stats, "mse", "mse"),
        "test images": stats["images"].astype(int), "mask side (px)": stats["mask_side"].astype(int),
        "sampler steps": stats["steps"].astype(int)})


def images_context(inp: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """Figures 2-6, the final-FID table and the inpainting errors; None without image results."""
    shown = {name: figure(inp["figures"][name]) for name in IMAGE_FIGURES}
    fid_file, paper_file = inp["tables"]["fid"], inp["paper_curves"]
    if not any(shown.values()) and not fid_file.is_file() and not inp["inpainting"]:
        return None
    inpainting = None
    if inp["inpainting"]:
        stats = summaries.inpainting(pd.concat([pd.read_csv(p) for p in inp["inpainting"]], ignore_index=True))
        inpainting = {"table": inpainting_table(stats), "datasets": [display(d) for d in dict.fromkeys(stats["dataset"])]}
    context: Dict[str, Any] = {"figures": shown, "fid": None, "inpainting": inpainting}
    if fid_file.is_file():
        fids = pd.read_csv(fid_file)
        summary = summaries.fid(fids, _csv(paper_file), _csv(inp["tables"]["provenance"]))
        protocols = sorted(set(fids["protocol"].dropna()))
        context["fid"] = {
            "table": fid_table(summary), "protocols": protocols, "proxy": "proxy" in protocols,
            "datasets": [display(d) for d in dict.fromkeys(fids["dataset"])],
            "download": table_link(fid_file), "paper": paper_file.is_file(),
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
        "jobs": _formats(jobs.rename(columns=PROVENANCE_COLUMNS), {"wall time (s)": "seconds"},
                         {"config": "hash", "commit": "hash", "status": "wrap"}),
        "shared": shared_text,
        "settings": pd.DataFrame(settings) if settings else None,
        "constant": constant,
        "versions": versions,
        "total_wall_time_h": number(table["wall_time_s"].sum() / 3600, "hours"),
        "total_gpu_hours": number(table["gpu_hours"].sum(), "hours"),
    }


def ablation_context(ablations: Dict[str, Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One entry per ablated data set: its readings' movement and final metric beside the paper text's."""
    sections = []
    for dataset, files in ablations.items():
        summary = ablation.summary(ablation.finals(files["tables"]), display)
        sections.append({"dataset": dataset, "table": summary["rows"], "iteration": summary["iteration"],
                         "proxy": summary["proxy"], "figure": figure(files["figure"]),
                         "downloads": {kind: table_link(files["tables"].table(kind)) for kind in ("metrics", "eval", "fid")
                                       if files["tables"].table(kind).is_file()}})
    return sections


PRINTED = {"fid": "paper FID (Inception)", "is": "paper Inception score", "grad_norm": "paper chain-gradient norm",
           "stable": "paper: stable (1 = yes)"}


def study_table(summary: pd.DataFrame, paper: pd.DataFrame, spec: Dict[str, Any]) -> pd.DataFrame:
    """Our numbers (mean ± sd over seeds) beside the paper's printed ones, labelled with how made."""
    fid_name = "FID (proxy)" if (summary["protocol"] == "proxy").any() else "FID (Inception)"
    rows = []
    for r in summary.itertuples():
        row = {"variant": r.variant, "sampler": display(r.sampler)}
        if spec.get("x"):
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
    return pd.DataFrame(rows).astype(object).where(lambda f: f.notna(), Blank("not printed"))


def studies_context(inp: Dict[str, Any]) -> List[Dict[str, Any]]:
    """One entry per study beyond the STANLEY paper: its figure, and a table of our numbers
    (mean ± sd over seeds) beside the paper's printed ones, each labelled with how it was made."""
    from . import tables as gathered

    printed = _csv(inp["beyond_paper"])
    printed = printed if printed is not None else pd.DataFrame(columns=["table", "variant", "metric", "value", "source"])
    entries = []
    for folder, figure_file in inp["studies"].values():
        spec, frames = Tables(folder).load_study_spec(), gathered.read(folder)
        summary = summaries.study(frames["metrics"], frames["provenance"], spec, frames["fid"], frames["eval"])
        paper = (summaries.paper_values(printed, spec.get("paper")) if spec.get("paper") in set(printed["table"])
                 else printed.iloc[0:0])
        jobs = frames["provenance"]
        iterations = sorted(jobs["config.training.iterations"].unique()) if "config.training.iterations" in jobs else []
        entries.append({
            "name": spec["name"], "title": spec["title"], "dataset": spec["dataset"], "order": spec.get("order", 0),
            "figure": figure(figure_file), "table": study_table(summary, paper, spec),
            "proxy": bool((summary["protocol"] == "proxy").any()), "iterations": ", ".join(f"{int(i):,}" for i in iterations),
            "source": paper["source"].iloc[0] if len(paper) else "",
            "download": table_link(Tables(folder).table("metrics")),
            "unfinished": _named(summaries.unfinished(jobs, ["variant", "sampler", "seed"])),
        })
    return sorted(entries, key=lambda e: (e["order"], e["name"]))


def tuning_context(inp: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The tuning stage (stanley.experiment.tuning): the grid, each pilot's score and the choice, per data set."""
    from ..experiment import tuning

    if not inp["tuning"]:
        return None
    sections = []
    for path in inp["tuning"]:
        table = pd.read_csv(path)
        table["sampler"] = table["sampler"].map(display)
        shown = [c for c in ("sampler", "point", "step_size", "metric", "score", "chosen", "acceptance", "movement",
                             "gamma_mean", "status") if c in table.columns]
        sections.append({"dataset": path.parent.name, "iterations": int(table["iterations"].iloc[0]),
                         "fraction": float(table["budget_fraction"].iloc[0]),
                         "points": sorted(table["point"].unique()),
                         "table": _formats(table[shown], {"step_size": "setting", "score": "value"})})
    return {"rule": tuning.RULE, "datasets": sections}


def chains_context(metrics: Optional[pd.DataFrame], evals: Optional[pd.DataFrame]) -> Optional[Dict[str, Any]]:
    """Do the chains move? Each run's last logged movement (mean |z_K - z_0| per coordinate, per
    pixel on images), gamma and acceptance, mean ± sd over seeds; and the toy metric's floor."""
    from ..experiment import readings

    if metrics is None or "movement" not in metrics.columns:
        return None
    sections = [{"dataset": dataset, "iteration": iteration,
                 "table": per_sampler_table(stats, [c for c in summaries.CHAIN_COLUMNS if f"{c}_mean" in stats])}
                for dataset, iteration, stats in summaries.chains(metrics)]
    floors = summaries.floors(evals).to_dict("records") if evals is not None else []
    return {"datasets": sections, "floors": floors,
            "readings": [{"name": n, "label": display(n), "source": readings.SOURCES[n],
                          "pinned": readings.PINNED[n]} for n in readings.NAMES]}


def claims_context(ledger: pd.DataFrame, tables: Dict[str, Optional[pd.DataFrame]]) -> Dict[str, Any]:
    """The ledger's rows, and the per-checkpoint differences in each row's metric's units."""
    ledger = ledger.assign(reading=ledger["reading"].map(display))
    described = checkpoint_table(tables)
    if len(described):
        metrics = list(described["metric"])
        for column in ("sampler", "baseline", "reading", "metric"):
            if column in described:
                described[column] = described[column].map(display)
        # in the units of each row's metric, all three to the decimal place the interval's width allows
        widths = (described["high"] - described["low"]).abs()
        for column in ("difference", "low", "high"):
            described[column] = [change(v, w, m) if column == "difference" else change(v, w, m).lstrip("+")
                                 for v, w, m in zip(described[column], widths, metrics)]
    return {"rows": ledger.astype(object).fillna("").to_dict("records"),
            "checkpoints": described if len(described) else None}


def diagnostics_context(files: Dict[str, Path]) -> Dict[str, Any]:
    """The Theorem 1 section: its data (:mod:`.theorem`), figures and downloads."""
    section = theorem.section(_csv(files["verdicts"]), _csv(files["uniformity"]))
    return {**section, "figures": {name: figure(path) for name, path in files["figures"].items()},
            "downloads": {"verdicts": table_link(files["verdicts"]), "uniformity": table_link(files["uniformity"])}}


def context(inp: Dict[str, Any], scale: str) -> Dict[str, Any]:
    """Everything the templates show, from the report's inputs."""
    tables = {kind: _csv(path) for kind, path in inp["tables"].items()}
    toy = tables["eval"][tables["eval"]["dataset"] == "rings"] if tables["eval"] is not None else None
    jobs, ledger = tables["provenance"], tables["claims"]
    curves = _csv(inp["paper_curves"])
    claimed = claims_context(ledger, tables) if ledger is not None else None
    return {
        "generated": now(), "git_commit": git_commit(), "scale": scale,
        "figures": {name: figure(inp["figures"][name]) for name in FIGURES},
        "downloads": {name: table_link(inp["tables"][name]) for name in ("eval", "metrics", "provenance", "claims")},
        "toy": toy_context(toy) if toy is not None and len(toy) else None,
        "provenance": provenance(jobs) if jobs is not None else None,
        "unfinished": _named(summaries.unfinished(jobs)) if jobs is not None else [],
        "claims": claimed["rows"] if claimed else None,
        "claim_checkpoints": claimed["checkpoints"] if claimed else None,
        "ablation": ablation_context(inp["ablation"]),
        "paper_notes": summaries.paper_log_checks(curves) if curves is not None else [],
        "learning_notes": learning_notes(tables["fid"], tables["provenance"]),
        "images": images_context(inp),
        "studies": studies_context(inp),
        "tuning": tuning_context(inp),
        "chains": chains_context(tables["metrics"], tables["eval"]),
        "diagnostics": diagnostics_context(inp["diagnostics"]),
    }


def table(frame: Optional[pd.DataFrame]) -> Markup:
    """The templates' ``table`` filter: a frame as an HTML table in the report's number formats."""
    if frame is None:
        return Markup("")
    return Markup(html_table(frame, frame.attrs.get("formats"), frame.attrs.get("classes")))


def environment(templates: str | Path = TEMPLATES) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), autoescape=jinja2.select_autoescape(),
                             undefined=jinja2.StrictUndefined)
    env.filters.update(number=number, display=display, table=table)  # the templates' numbers and names: one owner
    return env


def render(results: str | Path = "results", templates: str | Path | None = None,
           out: str | Path | None = None, scale: str = "paper") -> Path:
    """``templates``: a folder of templates to use instead of the packaged ones; ``out`` defaults
    to the report's place in the results' layout, so each scale keeps its own."""
    html = environment(templates if templates is not None else TEMPLATES).get_template("index.html.j2") \
        .render(**context(inputs(results), scale))
    return write_text(out if out is not None else Layout(results).report, html)


def render_declared(inputs: List[str | Path], results: str | Path = "results", templates: str | Path | None = None,
                    out: str | Path | None = None, scale: str = "paper") -> Path:
    """:func:`render` from the listed result files only (the workflow lists what its DAG declares:
    ``Plan.report_inputs``), so a file an earlier config left in ``results`` never reaches the report."""
    with declared_view(results, inputs) as view:
        return render(view, templates, out if out is not None else Layout(results).report, scale)
