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

COPIED = ("Snakefile", "workflow", "report/templates", "stanley/figures.py")


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
    assert counts["train"] == 18  # rings x 6 samplers x 3 seeds
    assert counts["report"] == 1 and counts["fig1"] == 1


def test_bad_config_stops_the_dag_with_the_key(workdir):
    config = workdir / "workflow/config/smoke.yaml"
    config.write_text(config.read_text().replace("lr: 1.0e-3", "lr: fast"))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([str(BIN / "snakemake"), "-n", "--configfile", str(config)], cwd=workdir,
                            capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert "training.lr must be a number > 0" in result.stdout + result.stderr


@pytest.mark.slow
def test_smoke_dag_produces_the_report_and_replots_without_retraining(workdir):
    snakemake(workdir, "--cores", "2", "--configfile", "workflow/config/smoke.yaml")
    html = (workdir / "report/index.html").read_text()
    assert "Figure 1" in html and "smoke scale" in html
    assert html.count("data:image/png;base64,") >= 4  # fig1, fig1_density, toy metrics, training curves
    provenance = pd.read_csv(workdir / "results/smoke/tables/provenance.csv")
    assert len(provenance) == 12 and set(provenance["status"]) == {"completed"}
    assert provenance["git_commit"].notna().all() and provenance["config_hash"].notna().all()

    # restyling a figure redraws it and the report, and retrains nothing
    (workdir / "stanley/figures.py").touch()
    counts = job_counts(snakemake(workdir, "-n", "--configfile", "workflow/config/smoke.yaml").stdout)
    assert "train" not in counts and counts.get("fig1") == 1
    # one figure can be rebuilt alone, by rule name
    counts = job_counts(snakemake(workdir, "-n", "--configfile", "workflow/config/smoke.yaml", "fig1").stdout)
    assert counts == {"fig1": 1, "total": 1}
