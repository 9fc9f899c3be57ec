"""The smoke DAG end to end, once, in a temporary copy, and the tests that inspect what it made.

Its own file, so that under pytest-xdist (``--dist loadfile``) this longest unit of the suite
starts first on one worker (tests/conftest.py orders it) while the other worker takes the rest.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from stanley.experiment.config import data_kind
from test_workflow import SMOKE, copy_tree, job_counts, snakemake, trained

SHORT_CONFIG = "workflow/config/smoke_short.yaml"


@pytest.fixture
def workdir(tmp_path):
    return copy_tree(tmp_path)


SHORT = {"training": 20, "images": 20, "studies": 10}  # iterations in the test's copy of the smoke config


def shortened(config: dict) -> dict:
    """The smoke config with every run cut to a few iterations (and a few inpainted images).

    What the DAG tests check (every job, table, figure and report section, the replot rules) does
    not depend on how long the runs train; ``make demo`` runs the config at its own lengths, and
    a test below checks that this copy schedules exactly the smoke config's jobs.
    """
    def cut(block: dict, iterations: int) -> None:
        every = max(1, iterations // 2)
        training = block.setdefault("training", {})
        training.update(iterations=iterations, log_every=min(training.get("log_every", every), every),
                        checkpoint_every=every)
        block.setdefault("evaluation", {})["every"] = every
        if "fid" in block:  # one FID, at the end: a run's FID costs more than its few iterations
            block["fid"]["every"] = iterations

    for name, block in (config.get("per_dataset") or {}).items():
        cut(block, SHORT["images"] if data_kind(name) == "images" else SHORT["training"])
    for study in (config.get("studies") or {}).values():
        study["defaults"] = copy.deepcopy(study.get("defaults") or {})  # YAML anchors share these blocks
        toy = data_kind(study["dataset"]) == "toy"  # a toy study's paper variant is a matrix run: cut alike
        cut(study["defaults"], SHORT["training"] if toy else SHORT["studies"])
    if config.get("inpainting"):
        config["inpainting"]["n"] = min(config["inpainting"].get("n", 10), 10)
    return config


@pytest.fixture(scope="module")
def smoke_dag(tmp_path_factory):
    """ONE run of the smoke DAG (shortened) for every test that inspects it; all in this file, so
    under pytest-xdist (--dist loadfile) it runs once, on one worker."""
    workdir = write_short_config(copy_tree(tmp_path_factory.mktemp("smoke")))
    snakemake(workdir, "--cores", "2", "--configfile", SHORT_CONFIG)
    return workdir


def write_short_config(workdir: Path) -> Path:
    smoke = yaml.safe_load((workdir / SMOKE).read_text())
    (workdir / SHORT_CONFIG).write_text(yaml.safe_dump(shortened(smoke), sort_keys=False))
    return workdir


def test_the_shortened_copy_schedules_the_smoke_configs_jobs(workdir):
    write_short_config(workdir)
    smoke_out = snakemake(workdir, "-n", "--configfile", SMOKE).stdout
    smoke = job_counts(smoke_out)
    short = job_counts(snakemake(workdir, "-n", "--configfile", SHORT_CONFIG).stdout)
    assert short == smoke and trained(smoke_out)["runs"] == 12 and smoke["train_toy_batch"] == 7


@pytest.mark.slow
def test_smoke_dag_report_has_every_figure_labelled(smoke_dag):
    html = (smoke_dag / "results/smoke/report/index.html").read_text()
    assert "Figure 1" in html and "smoke scale" in html
    assert html.count("data:image/png;base64,") >= 9  # fig1, fig1_density, toy metrics, training, figs 2-6
    for words in ("Figure 2", "Figure 3", "Figure 4", "Figure 5", "Final FID per data set and sampler", "Figure 6"):
        assert words in html
    fid_table = html[html.index('id="fid-table"'):html.index('id="inpainting"')]
    assert "<td>proxy</td>" in fid_table and "Proxy FID" in html  # labelled wherever shown


@pytest.mark.slow
def test_smoke_dag_every_run_completed_with_provenance(smoke_dag):
    provenance = pd.read_csv(smoke_dag / "results/smoke/tables/provenance.csv")
    assert len(provenance) == 26 and set(provenance["status"]) == {"completed"}  # rings 14 + shapes 12
    assert provenance["git_commit"].notna().all() and provenance["config_hash"].notna().all()


@pytest.mark.slow
def test_smoke_dag_studies_section(smoke_dag):
    html = (smoke_dag / "results/smoke/report/index.html").read_text()
    beyond = html[html.index('id="beyond"'):html.index('id="provenance"')]  # the studies' own section
    assert "Not in the STANLEY paper" in beyond and "FIDs here are proxy FIDs" in beyond
    for study in ("short_run_k", "short_run_noise", "improved_cd", "rings_gamma_active"):
        assert f'id="study-{study}"' in beyond
        runs = pd.read_csv(smoke_dag / f"results/smoke/tables/studies/{study}/provenance.csv")
        assert set(runs["status"]) == {"completed"}
    assert beyond.count("data:image/png;base64,") == 4 and "25.08" in beyond  # Du et al.'s printed FID


def ablation_section(results: Path) -> None:
    """The report's ablation section: per data set a figure and a table, movement beside the final
    metric, the proxy FID labelled, the paper text's row first and the authors' code reading beside it."""
    html = (results / "report/index.html").read_text()
    start = html.index('id="ablation"')
    section = html[start:html.index("<h2 ", start)]  # up to the next section (the studies)
    assert section.count("data:image/png;base64,") == 2 and "<h3>rings</h3>" in section and "<h3>shapes</h3>" in section
    shapes = section[section.index("<h3>shapes</h3>"):]
    assert "<th>movement per coordinate</th><th>FID (proxy)</th>" in shapes and "FID (proxy): made without" in shapes
    rows = re.findall(r"<tr><td>([^<]+)</td>", shapes)
    assert rows[:2] == ["paper (the matrix&#x27;s runs)",
                        "STANLEY (authors&#x27; image code), every option it pins at once (the matrix&#x27;s runs)"]
    assert set(rows[2:]) == {"norm=pixel", "noise_power=1", "drift=unscaled"}  # the smoke config's switches


@pytest.mark.slow
def test_smoke_dag_ablation_section(smoke_dag):
    ablation_section(smoke_dag / "results/smoke")


@pytest.mark.slow
def test_smoke_dag_replots_without_retraining(smoke_dag):
    figures = smoke_dag / "stanley/presentation/figures.py"
    original = figures.read_text()
    try:  # restyling a figure redraws it and the report, and retrains nothing (dry runs only)
        figures.write_text(original + "\n# restyled\n")  # Snakemake 9 ignores a bare touch (same content)
        counts = job_counts(snakemake(smoke_dag, "-n", "--configfile", SHORT_CONFIG).stdout)
        assert not {"train", "train_toy", "train_toy_batch"} & set(counts) and counts.get("fig1") == 1
        # one figure can be rebuilt alone, by rule name
        counts = job_counts(snakemake(smoke_dag, "-n", "fig1", "--configfile", SHORT_CONFIG).stdout)
        assert counts == {"fig1": 1, "total": 1}
    finally:
        figures.write_text(original)
