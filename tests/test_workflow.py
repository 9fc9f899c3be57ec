"""The Snakemake DAG: the paper's matrix, and the smoke suite end to end in a temporary copy."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import BIN, ROOT
from stanley.config import data_kind

COPIED = ("Snakefile", "workflow", "report/templates", "report/reference", "stanley")  # stanley/: code that rules depend on
SMOKE, SHORT_CONFIG = "workflow/config/smoke.yaml", "workflow/config/smoke_short.yaml"


def snakemake(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([str(BIN / "snakemake"), *args], cwd=cwd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def job_counts(output: str) -> dict:
    """The 'Job stats' table of a dry run, as {rule: count}."""
    table = output.split("Job stats:")[-1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def copy_tree(path: Path) -> Path:
    for name in COPIED:
        source, target = ROOT / name, path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    return path


@pytest.fixture
def workdir(tmp_path):
    return copy_tree(tmp_path)


def test_default_config_lists_the_paper_matrix(workdir):
    counts = job_counts(snakemake(workdir, "-n", "--cores", "1").stdout)
    assert counts["train"] == 63  # rings x 6 samplers x 3 seeds + 3 image sets x 5 samplers x 3 seeds
    assert counts["report"] == 1 and counts["fig1"] == 1
    # beyond the paper, on CIFAR-10 x (langevin, stanley) x 3 seeds: K sweep 6 + noise sweep 6 + Improved
    # CD 6 variants = 108 runs, less 6 equal to the matrix's own runs and 6 equal to the K sweep's K100
    assert counts["train_study"] == 96 and counts["study_tables"] == 3 and counts["study_figure"] == 3


def test_bad_config_stops_the_dag_with_the_key(workdir):
    config = workdir / "workflow/config/smoke.yaml"
    config.write_text(config.read_text().replace("lr: 1.0e-3", "lr: fast"))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([str(BIN / "snakemake"), "-n", "--configfile", str(config)], cwd=workdir,
                            capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert "training.lr must be a finite number > 0" in result.stdout + result.stderr


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
        if "fid" in block:
            block["fid"]["every"] = every

    for name, block in (config.get("per_dataset") or {}).items():
        cut(block, SHORT["images"] if data_kind(name) == "images" else SHORT["training"])
    for study in (config.get("studies") or {}).values():
        study["defaults"] = copy.deepcopy(study.get("defaults") or {})  # YAML anchors share these blocks
        cut(study["defaults"], SHORT["studies"])
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
    smoke = job_counts(snakemake(workdir, "-n", "--configfile", SMOKE).stdout)
    short = job_counts(snakemake(workdir, "-n", "--configfile", SHORT_CONFIG).stdout)
    assert short == smoke and smoke["train"] == 22


@pytest.mark.slow
def test_smoke_dag_report_has_every_figure_labelled(smoke_dag):
    html = (smoke_dag / "report/index.html").read_text()
    assert "Figure 1" in html and "smoke scale" in html
    assert html.count("data:image/png;base64,") >= 9  # fig1, fig1_density, toy metrics, training, figs 2-6
    for words in ("Figure 2", "Figure 3", "Figure 4", "Figure 5", "Final FID per data set and sampler", "Figure 6"):
        assert words in html
    fid_table = html[html.index('id="fid-table"'):html.index('id="inpainting"')]
    assert "<td>proxy</td>" in fid_table and "Proxy FID" in html  # labelled wherever shown


@pytest.mark.slow
def test_smoke_dag_every_run_completed_with_provenance(smoke_dag):
    provenance = pd.read_csv(smoke_dag / "results/smoke/tables/provenance.csv")
    assert len(provenance) == 22 and set(provenance["status"]) == {"completed"}  # rings 12 + shapes 10
    assert provenance["git_commit"].notna().all() and provenance["config_hash"].notna().all()


@pytest.mark.slow
def test_smoke_dag_studies_section(smoke_dag):
    html = (smoke_dag / "report/index.html").read_text()
    beyond = html[html.index('id="beyond"'):html.index('id="provenance"')]  # the studies' own section
    assert "Not in the STANLEY paper" in beyond and "FIDs here are proxy FIDs" in beyond
    for study in ("short_run_k", "short_run_noise", "improved_cd"):
        assert f'id="study-{study}"' in beyond
        runs = pd.read_csv(smoke_dag / f"results/smoke/tables/studies/{study}/provenance.csv")
        assert set(runs["status"]) == {"completed"}
    assert beyond.count("data:image/png;base64,") == 3 and "25.08" in beyond  # Du et al.'s printed FID


@pytest.mark.slow
def test_smoke_dag_replots_without_retraining(smoke_dag):
    figures = smoke_dag / "stanley/figures.py"
    original = figures.read_text()
    try:  # restyling a figure redraws it and the report, and retrains nothing (dry runs only)
        figures.write_text(original + "\n# restyled\n")  # Snakemake 9 ignores a bare touch (same content)
        counts = job_counts(snakemake(smoke_dag, "-n", "--configfile", SHORT_CONFIG).stdout)
        assert "train" not in counts and counts.get("fig1") == 1
        # one figure can be rebuilt alone, by rule name
        counts = job_counts(snakemake(smoke_dag, "-n", "fig1", "--configfile", SHORT_CONFIG).stdout)
        assert counts == {"fig1": 1, "total": 1}
    finally:
        figures.write_text(original)


def test_default_config_schedules_the_image_path_on_gpu_slots(workdir, monkeypatch):
    """The paper's matrix on a 4-GPU box: image jobs take a GPU each, inside a slot of the pool."""
    monkeypatch.setenv("STANLEY_INCEPTION", str(workdir / "weights/inception-2015-12-05.pt"))
    out = snakemake(workdir, "-n", "-p", "--cores", "all", "--resources", "gpu=4").stdout
    counts = job_counts(out)
    assert counts["train"] == 63  # 18 rings + cifar10, flowers102, celeba x 5 samplers x 3 seeds
    assert counts["reference_stats"] == 3 and counts["download_data"] == 3 and counts["download_inception"] == 1
    assert counts["inpaint"] == 15  # celeba x 5 samplers x 3 seeds
    assert all(counts[f"fig{n}"] == 1 for n in range(1, 7)) and counts["report"] == 1
    assert "python -m stanley.slots --jobs-per-gpu 1 -- stanley train" in out
    assert "results/reference/cifar10_inception_32.npz" in out and "celeba_inception_64.npz" in out
    blocks = re.split(r"^(?:local)?rule ", out, flags=re.M)
    rings = [b for b in blocks if b.startswith("train:") and "wildcards: dataset=rings" in b]
    assert rings and not any("stanley.slots" in block or "gpu=1" in block for block in rings)


def test_missing_data_set_stops_before_training_with_the_files(workdir, tmp_path):
    """Offline, the download rule names the folder and the files it expects; nothing trains."""
    config = workdir / "workflow/config/offline.yaml"
    smoke = (workdir / "workflow/config/smoke.yaml").read_text().split("\nstudies:")[0] + "\n"  # the studies use shapes
    config.write_text(
        smoke.replace("datasets: [rings, shapes]", "datasets: [rings, cifar10]")
        .replace("shapes:", "cifar10:") + f"data_root: {tmp_path / 'nodata'}\n")
    offline = {key: "http://127.0.0.1:9" for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}
    env = {**os.environ, **offline, "no_proxy": "", "NO_PROXY": "",  # offline even where the internet is reachable
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([str(BIN / "snakemake"), "results/smoke/runs/cifar10/stanley/seed0/metrics.csv",
                             "--cores", "1", "--configfile", str(config)],
                            cwd=workdir, capture_output=True, text=True, env=env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert str(tmp_path / "nodata") in output and "cifar-10-batches-py/data_batch_1" in output
    assert not (workdir / "results/smoke/runs/cifar10").exists()

