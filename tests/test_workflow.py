"""The Snakemake DAG: the paper's matrix, and the smoke suite end to end in a temporary copy."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from conftest import BIN, ROOT

COPIED = ("Snakefile", "workflow", "report/templates", "report/reference", "stanley")  # stanley/: code that rules depend on


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


@pytest.fixture
def workdir(tmp_path):
    for name in COPIED:
        source, target = ROOT / name, tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    return tmp_path


def test_default_config_lists_the_paper_matrix(workdir):
    counts = job_counts(snakemake(workdir, "-n", "--cores", "1").stdout)
    # rings x 6 samplers, each job a batch of 3 seeds; 3 image sets x 5 samplers x 3 seeds, a job each
    assert counts["train_toy_batch"] == 6 and counts["train"] == 45
    assert counts["train_ablation_batch"] == 4 and "train_ablation" not in counts  # 4 variants x 3 seeds
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


@pytest.mark.slow
def test_smoke_dag_produces_the_report_and_replots_without_retraining(workdir):
    snakemake(workdir, "--cores", "2", "--configfile", "workflow/config/smoke.yaml")
    html = (workdir / "report/index.html").read_text()
    assert "Figure 1" in html and "smoke scale" in html
    assert html.count("data:image/png;base64,") >= 9  # fig1, fig1_density, toy metrics, training, figs 2-6
    for words in ("Figure 2", "Figure 3", "Figure 4", "Figure 5", "Final FID per data set and sampler", "Figure 6"):
        assert words in html
    fid_table = html[html.index('id="fid-table"'):html.index('id="inpainting"')]
    assert "<td>proxy</td>" in fid_table and "Proxy FID" in html  # labelled wherever shown
    provenance = pd.read_csv(workdir / "results/smoke/tables/provenance.csv")
    assert len(provenance) == 22 and set(provenance["status"]) == {"completed"}  # rings 12 + shapes 10
    assert provenance["git_commit"].notna().all() and provenance["config_hash"].notna().all()
    beyond = html[html.index('id="beyond"'):html.index('id="provenance"')]  # the studies' own section
    assert "Not in the STANLEY paper" in beyond and "FIDs here are proxy FIDs" in beyond
    for study in ("short_run_k", "short_run_noise", "improved_cd"):
        assert f'id="study-{study}"' in beyond
        runs = pd.read_csv(workdir / f"results/smoke/tables/studies/{study}/provenance.csv")
        assert set(runs["status"]) == {"completed"}
    assert beyond.count("data:image/png;base64,") == 3 and "25.08" in beyond  # Du et al.'s printed FID

    # restyling a figure redraws it and the report, and retrains nothing
    with open(workdir / "stanley/figures.py", "a") as code:  # Snakemake 9 ignores a bare touch (same content)
        code.write("\n# restyled\n")
    counts = job_counts(snakemake(workdir, "-n", "--configfile", "workflow/config/smoke.yaml").stdout)
    assert "train" not in counts and "train_toy_batch" not in counts and counts.get("fig1") == 1
    # one figure can be rebuilt alone, by rule name
    counts = job_counts(snakemake(workdir, "-n", "fig1", "--configfile", "workflow/config/smoke.yaml").stdout)
    assert counts == {"fig1": 1, "total": 1}


def test_default_config_schedules_the_image_path_on_gpu_slots(workdir, monkeypatch):
    """The paper's matrix on a 4-GPU box: image jobs take a GPU each, inside a slot of the pool."""
    monkeypatch.setenv("STANLEY_INCEPTION", str(workdir / "weights/inception-2015-12-05.pt"))
    out = snakemake(workdir, "-n", "-p", "--cores", "all", "--resources", "gpu=4").stdout
    counts = job_counts(out)
    assert counts["train"] == 45  # cifar10, flowers102, celeba x 5 samplers x 3 seeds (rings: batches)
    assert counts["train_toy_batch"] == 6
    assert counts["reference_stats"] == 3 and counts["download_data"] == 3 and counts["download_inception"] == 1
    assert counts["inpaint"] == 15  # celeba x 5 samplers x 3 seeds
    assert all(counts[f"fig{n}"] == 1 for n in range(1, 7)) and counts["report"] == 1
    assert "python -m stanley.slots --jobs-per-gpu 1 -- stanley train" in out
    assert "results/reference/cifar10_inception_32.npz" in out and "celeba_inception_64.npz" in out
    blocks = re.split(r"^(?:local)?rule ", out, flags=re.M)
    rings = [b for b in blocks if b.startswith("train_toy_batch:") and "wildcards: dataset=rings" in b]
    assert len(rings) == 6 and not any("stanley.slots" in block or "gpu=1" in block for block in rings)
    assert all(block.count("--out results/runs/rings/") == 3 for block in rings)  # one batch writes every seed


def test_one_seeds_file_of_a_toy_batch_is_a_target(workdir):
    out = snakemake(workdir, "-n", "-p", "results/smoke/runs/rings/hmc/seed1/metrics.csv",
                    "--configfile", "workflow/config/smoke.yaml").stdout
    assert job_counts(out) == {"train_toy_batch": 1, "total": 1}
    assert "stanley train-batch" in out and "results/smoke/runs/rings/hmc/seed0/run.yaml" in out


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

