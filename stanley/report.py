"""The HTML report: figures and tables from ``results/``, rendered through Jinja2 templates
into one self-contained file (images and CSV downloads embedded as data URIs)."""

from __future__ import annotations

import base64
import html
import math
import numbers
from pathlib import Path
from typing import Any, Dict, List, Optional

import jinja2
import pandas as pd
import yaml

from .figures import display, sampler_order
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


# --------------------------------------------------------------------------- numbers

DIGITS = {
    # quantity: ("sig", n) significant figures or ("dec", n) decimals. Chosen per quantity: what
    # a reader can compare, not what the float holds. Bounded quantities get fixed decimals.
    "fid": ("sig", 3), "kl": ("sig", 3), "sliced_w2": ("sig", 3), "tv": ("dec", 3), "mse": ("sig", 3),
    "grad_norm": ("sig", 3), "energy_diff": ("sig", 3), "gamma": ("sig", 3), "movement": ("sig", 2),
    "acceptance": ("dec", 2), "seconds": ("sig", 2), "hours": ("sig", 2), "p": ("sig", 2),
    "mu": ("dec", 3), "rho": ("dec", 4), "log": ("sig", 3), "ess": ("dec", 0), "rhat": ("dec", 2),
    "bias": ("sig", 2), "setting": ("exact", 6), "value": ("sig", 3),
}
"""How many figures each quantity is shown with; :func:`quantity_of` reads a table column's
quantity from its name; a "setting" is shown as written; anything else is a "value"."""
SMALL, LARGE = 1e-3, 1e6  # outside these magnitudes: a × 10ⁿ (never 1.06e+03)
MISSING = "\u2014"  # an em dash; its reason goes in the cell's title (``Blank``)
SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


class Blank(str):
    """A missing value as shown (an em dash) that carries why it is missing; ``html_table`` puts
    the reason in the cell's title, so a hover says it."""

    def __new__(cls, why: str) -> "Blank":
        blank = super().__new__(cls, MISSING)
        blank.why = why
        return blank


def _missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _exponent(value: float) -> int:
    return math.floor(math.log10(abs(value)))


def _decimals(value: float, quantity: str) -> int:
    """Decimal places (negative: rounding to tens, hundreds...) for ``value`` as ``quantity``."""
    kind, n = DIGITS.get(quantity, DIGITS["value"])
    if kind == "dec" or value == 0:
        return n if kind == "dec" else 0
    return n - 1 - _exponent(value)


def _fixed(value: float, decimals: int, sign: bool = False) -> str:
    text = f"{round(value, decimals):{'+' if sign else ''},.{max(decimals, 0)}f}"
    return text.replace("-", "\u2212")


def _scientific(value: float, quantity: str, sign: bool = False) -> str:
    exponent = _exponent(value)
    kind, n = DIGITS.get(quantity, DIGITS["value"])
    mantissa = value / 10 ** exponent
    mantissa = (f"{mantissa:{'+' if sign else ''}.{n}g}" if kind == "exact"
                else f"{mantissa:{'+' if sign else ''}.{max(n - 1, 0)}f}")
    return f"{mantissa.replace('-', chr(0x2212))} \u00d7 10{str(exponent).translate(SUPERSCRIPT)}"


def _exact(value: float, sign: bool = False) -> str:
    """A setting as it was written: 100, not 100.0; 0.001; 2 × 10⁻⁴ (6 significant figures at most)."""
    if value.is_integer() and abs(value) < LARGE:
        return _fixed(value, 0, sign)
    if value != 0 and not SMALL <= abs(value) < LARGE:
        return _scientific(value, "setting", sign)
    return f"{value:{'+' if sign else ''}.6g}".replace("-", "\u2212")


def number(value: Any, quantity: str = "value", sign: bool = False, why: str = "no value") -> str:
    """One number as the report shows it: the quantity's significant figures or decimals,
    thousands separated, a true minus sign, ∞ for infinities, a × 10ⁿ outside [10⁻³, 10⁶),
    and an em dash (a ``Blank`` saying ``why``) where there is no number."""
    if _missing(value):
        return Blank(why)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"  # as YAML writes it
    value = float(value)
    if math.isinf(value):
        return ("+" if sign else "") + "\u221e" if value > 0 else "\u2212\u221e"
    kind, n = DIGITS.get(quantity, DIGITS["value"])
    if kind == "exact":
        return _exact(value, sign)
    if value != 0 and kind == "sig" and not SMALL <= abs(value) < LARGE:
        return _scientific(value, quantity, sign)
    text = _fixed(value, _decimals(value, quantity), sign)
    if value != 0 and float(text.replace(",", "").replace("\u2212", "-")) == 0:
        # below the quantity's last decimal: a change that small is no change at this precision;
        # a value that small is bounded, never a bare 0.000
        return _fixed(0.0, n) if sign else f"< {_fixed(10.0 ** -n, n)}"
    return text


def plus_minus(mean: Any, sd: Any, quantity: str = "value") -> str:
    """'mean ± sd', the sd to the same decimal place as the mean (so "0.292 ± 0.004", not
    "0.292 ± 0.00412"); the sd left out where it is missing (one seed); a ``Blank`` for a
    missing mean. An sd too small to show at that place is written "< 0.001"."""
    if _missing(mean):
        return Blank("not measured")
    shown = number(mean, quantity)
    if _missing(sd) or "\u00d7" in shown or math.isinf(float(mean)):
        return shown
    decimals = _decimals(float(mean), quantity)
    if 0 < sd < 0.5 * 10 ** -decimals:
        return f"{shown} \u00b1 < {_fixed(10 ** -decimals, decimals)}"
    return f"{shown} \u00b1 {_fixed(float(sd), decimals)}"


def change(delta: Any, reference: Any, quantity: str = "value") -> str:
    """A signed difference to the decimal place of the value it changes ("467 (−60)", not
    "467 (−60.1)"); a change below that place is "0"."""
    if _missing(delta) or _missing(reference) or math.isinf(float(reference)) or math.isinf(float(delta)):
        return number(delta, quantity, sign=True)
    decimals = _decimals(float(reference), quantity)
    if abs(delta) < 0.5 * 10 ** -decimals:
        return _fixed(0.0, decimals)
    return _fixed(float(delta), decimals, sign=True)


def mean_sd_of(values: pd.Series, quantity: str = "value") -> str:
    """'mean ± sd (n=k)' over the non-missing ``values`` (seeds); a ``Blank`` when none."""
    values = values.dropna()
    if not len(values):
        return Blank("no run measured it")
    return f"{plus_minus(values.mean(), values.std(ddof=1), quantity)} (n={len(values)})"


def quantity_of(column: str) -> str:
    """The ``DIGITS`` quantity a table column holds, read from its name."""
    name = column.lower()
    for key, quantity in (("fid", "fid"), ("sliced", "sliced_w2"), ("kl", "kl"), ("tv", "tv"), ("mse", "mse"),
                          ("grad", "grad_norm"), ("energy", "energy_diff"), ("gamma", "gamma"),
                          ("movement", "movement"), ("accept", "acceptance")):
        if key in name:
            return quantity
    return "seconds" if name.endswith("_s") or name.endswith("(s)") else "value"


def html_table(frame: pd.DataFrame, formats: Optional[Dict[str, str]] = None, classes: Optional[Dict[str, str]] = None) -> str:
    """A table as HTML: every cell escaped, numbers through :func:`number` (``formats`` maps a
    column to its quantity, else :func:`quantity_of`), missing values as an em dash with their
    reason on hover, ``classes`` giving a column's cells a CSS class (e.g. "hash" to wrap)."""
    formats, classes = formats or {}, classes or {}

    def cell(column: str, value: Any) -> str:
        quantity = formats.get(column, quantity_of(column))
        counted = quantity == "value" and isinstance(value, numbers.Real) and float(value).is_integer()
        if isinstance(value, numbers.Integral) and not isinstance(value, bool) or counted and abs(value) < LARGE:
            value = f"{int(value):,}"  # a count or an index (seeds, iterations, runs): every digit
        elif isinstance(value, numbers.Real) or _missing(value):
            value = number(value, quantity, why="no value")
        title = f' title="{html.escape(value.why)}"' if isinstance(value, Blank) else ""
        css = f' class="{classes[column]}"' if column in classes else (' class="blank"' if title else "")
        return f"<td{css}{title}>{html.escape(str(value))}</td>"

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join("<tr>" + "".join(cell(c, v) for c, v in zip(frame.columns, row)) + "</tr>\n"
                   for row in frame.astype(object).itertuples(index=False))
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>"


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
    return str(value)[:length] if not _missing(value) else value


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
            row = {"variant": r.variant, "sampler": display(r.sampler)}
            if spec.get("x"):
                from .figures import AXES

                row[AXES.get(spec["x"], spec["x"])] = r.x
            row["seeds"] = r.seeds
            row[f"final {fid_name}"] = plus_minus(r.fid_mean, r.fid_sd, "fid")
            row["chain-gradient norm"] = plus_minus(r.grad_norm_mean, r.grad_norm_sd, "grad_norm")
            row["diverged"] = f"{r.diverged} of {r.seeds}"
            for metric, values in paper[paper["variant"] == r.variant].groupby("metric", sort=False):
                row[PRINTED.get(metric, f"paper {metric}")] = f"{values['value'].iloc[0]:g}"  # as printed
            rows.append(row)
        iterations = sorted(provenance_table["config.training.iterations"].unique()) if "config.training.iterations" in provenance_table else []
        entries.append({
            "name": spec["name"], "title": spec["title"], "dataset": spec["dataset"],
            "figure": figure(results / "figures" / f"study_{spec['name']}.png"),
            "table": html_table(pd.DataFrame(rows).astype(object).where(lambda f: f.notna(), Blank("not printed"))),
            "proxy": bool(proxy), "iterations": ", ".join(f"{int(i):,}" for i in iterations),
            "source": paper["source"].iloc[0] if len(paper) else "",
            "download": table_link(tables / "metrics.csv"),
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
        "claims": None, "ablation": None, "paper_notes": [], "learning_notes": [], "claim_checkpoints": None,
        "images": images_context(results, templates.parent / "reference" / "paper_fid_curves.csv"),
        "studies": studies_context(results, templates.parent / "reference" / "beyond_paper.csv"),
    }
    if (tables / "eval.csv").is_file():
        eval_table = pd.read_csv(tables / "eval.csv")
        toy = eval_table[eval_table["dataset"] == "rings"]
        if len(toy):
            context["toy"] = {"summary": toy_summary(toy), "seeds": int(toy["seed"].nunique()),
                              "samplers": [display(s) for s in sampler_order(list(toy["sampler"].unique()))]}
    reference = Path(templates).parent / "reference" / "paper_fid_curves.csv"
    context["paper_notes"] = paper_log_notes(pd.read_csv(reference)) if reference.is_file() else []
    from .claims import checkpoint_table, learning_notes

    context["learning_notes"] = learning_notes(results)
    if (tables / "claims.csv").is_file():
        ledger = pd.read_csv(tables / "claims.csv")
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
    if (tables / "ablation" / "eval.csv").is_file():
        context["ablation"] = ablation_summary(pd.read_csv(tables / "ablation" / "eval.csv"))
        context["downloads"]["ablation"] = table_link(tables / "ablation" / "eval.csv")
    context["downloads"]["claims"] = table_link(tables / "claims.csv")
    context["unfinished"] = []
    if (tables / "provenance.csv").is_file():
        jobs = pd.read_csv(tables / "provenance.csv")
        context["provenance"] = provenance(jobs)
        context["unfinished"] = [f"{display(r.dataset)}, {display(r.sampler)}, seed {r.seed}: {r.status}"
                                 for r in jobs.itertuples() if r.status != "completed"]
    from .diagnostics import report_context  # here: diagnostics imports this module's helpers

    context["diagnostics"] = report_context(results)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), autoescape=jinja2.select_autoescape(),
                             undefined=jinja2.StrictUndefined)
    env.filters.update(number=number, display=display)  # the templates' numbers and names: the same owners
    return write_text(out, env.get_template("index.html.j2").render(**context))
