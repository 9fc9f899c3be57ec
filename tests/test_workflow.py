"""The Snakemake DAG: the paper's matrix and the workflow's conventions, by dry runs and tiny runs in temporary copies
(the smoke DAG end to end: test_smoke_dag.py)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import BIN, ROOT

COPIED = ("workflow", "environment.yml", "stanley")  # stanley/: code that rules depend on
SMOKE = "workflow/config/smoke.yaml"


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


TRAINING_RULES = ("train", "train_nofid", "train_toy")  # one run per job; toy seeds also train in batches


def trained(output: str) -> dict:
    """{stage: jobs} of a dry run's one-run training jobs, by the results folder each writes
    (runs: the matrix; tuning: the pilots; studies; ablation)."""
    found = re.findall(r"^rule (\w+):\n(?:    .*\n)*?    output: \S*?(runs|tuning|studies|ablation)/", output, re.M)
    stages: dict = {}
    for rule, stage in found:
        if rule in TRAINING_RULES:
            stages[stage] = stages.get(stage, 0) + 1
    return stages


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
    out = snakemake(workdir, "-n", "--cores", "1").stdout
    counts, stages = job_counts(out), trained(out)
    # rings x 7 samplers (two readings of STANLEY beside the paper's), each job a batch of 3 seeds;
    # 3 image sets x 6 samplers (two readings) x 3 seeds, a job each
    assert counts["train_toy_batch"] == 7 and stages["runs"] == 54
    # the ablation: on the rings 4 variants, each a batch of 3 seeds; on CIFAR-10 4 variants x 3 seeds, a job each
    assert counts["train_ablation_batch"] == 4 and stages["ablation"] == 12
    assert counts["ablation_tables"] + counts["ablation_tables_fid"] == 2  # one per data set; CIFAR-10 has FID
    assert counts["report"] == 1 and counts["fig1"] == 1
    # the tuning stage: 5 step multipliers for each (data set, sampler): (7 + 3 x 6) x 5 pilots, one choice per data set
    assert stages["tuning"] == 125 and counts["tune"] == 4
    # beyond the paper, on CIFAR-10 x (langevin, stanley, stanley_code) x 3 seeds: K sweep 6 + noise sweep 6 +
    # Improved CD 6 variants = 162 runs, less 9 equal to the matrix's own runs and 9 equal to the K sweep's
    # K100; and the rings with gamma active: 3 runs (its "paper" variant is the matrix's)
    assert stages["studies"] == 147 and counts["study_figure"] == 4
    assert counts["study_tables"] + counts["study_tables_nofid"] == 4  # the rings study has no FID table
    # each training run's config written once: the matrix (54 + 21), pilots, study runs, ablation variants
    assert counts["run_config"] == 54 + 21 + 125 + 147 + 12 + 12  # ablation: 12 on the rings, 12 on CIFAR-10


def test_bad_config_stops_the_dag_with_the_key(workdir):
    config = workdir / "workflow/config/smoke.yaml"
    config.write_text(config.read_text().replace("lr: 1.0e-3", "lr: fast"))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([str(BIN / "snakemake"), "-n", "--configfile", str(config)], cwd=workdir,
                            capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert "training.lr must be a finite number > 0" in result.stdout + result.stderr


def test_default_config_schedules_the_image_path_on_gpu_slots(workdir, monkeypatch):
    """The paper's matrix on a 4-GPU box: image jobs take a GPU each, inside a slot of the pool."""
    monkeypatch.setenv("STANLEY_INCEPTION", str(workdir / "weights/inception-2015-12-05.pt"))
    out = snakemake(workdir, "-n", "-p", "--cores", "all", "--resources", "gpu=4").stdout
    counts = job_counts(out)
    assert trained(out)["runs"] == 54  # cifar10, flowers102, celeba x 6 samplers x 3 seeds (rings: batches)
    assert counts["train_toy_batch"] == 7
    assert counts["reference_stats"] == 3 and counts["download_data"] == 3 and counts["download_inception"] == 1
    assert counts["inpaint"] == 18  # celeba x 6 samplers x 3 seeds
    assert all(counts[f"fig{n}"] == 1 for n in range(1, 7)) and counts["report"] == 1
    assert "python -m stanley.plumbing.slots --jobs-per-gpu 1 -- stanley train" in out
    assert "results/reference/cifar10_inception_32.npz" in out and "celeba_inception_64.npz" in out
    blocks = re.split(r"^(?:local)?rule ", out, flags=re.M)
    rings = [b for b in blocks if b.startswith("train_toy_batch:") and "wildcards: dataset=rings" in b]
    assert len(rings) == 7 and not any("stanley.plumbing.slots" in block or "gpu=1" in block for block in rings)
    assert all(block.count("--out results/runs/rings/") == 3 for block in rings)  # one batch writes every seed
    ablation = [b for b in blocks if re.match(r"train\w*:", b) and "output: results/ablation/cifar10/" in b]  # a GPU job each
    assert len(ablation) == 12 and all("stanley.plumbing.slots" in b and "gpu=1" in b for b in ablation)


def test_one_seeds_file_of_a_toy_batch_is_a_target(workdir):
    out = snakemake(workdir, "-n", "-p", "results/smoke/runs/rings/hmc/seed1/metrics.csv",
                    "--configfile", "workflow/config/smoke.yaml").stdout
    counts = job_counts(out)  # the batch, after the rings' tuning stage it trains with
    assert counts["train_toy_batch"] == 1 and counts["tune"] == 1 and set(counts) == {
        "train_toy_batch", "tune", "train_toy", "run_config", "total"}  # train_toy: the rings' pilots
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
    trained = [p.name for p in (workdir / "results/smoke/runs/cifar10").rglob("*") if p.is_file()]
    assert set(trained) <= {"run.yaml"}  # at most the run configs are written: nothing trains



# --------------------------------------------------------------------------- conventions and hostile input


def run_snakemake(cwd: Path, *args: str, tool: str = "snakemake") -> subprocess.CompletedProcess:
    """Like snakemake() but returns the result whatever its exit status."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([str(BIN / tool), *args], cwd=cwd, capture_output=True, text=True, env=env)


def shell_commands(output: str) -> list:
    return re.findall(r"^Shell command: (.*)$", output, re.M)


TINY = """\
scale: smoke
results: {results}
datasets: [rings]
samplers: [langevin, stanley]
seeds: [0]
defaults:
  device: cpu
  sampler: {{options: {{step_size: 2.0, noise_scale: 0.0070710678, threshold: 0.01}}}}
per_dataset:
  rings:
    model: {{name: toynet}}
    training: {{iterations: 20, batch_size: 50, n_chains: 50, mcmc_steps: 10, log_every: 10, checkpoint_every: 10}}
    evaluation: {{every: 20, grid_size: 32, n_samples: 100}}
"""
"""Two rings runs of 20 iterations: the smallest DAG that trains, gathers tables and draws Figure 1."""


def test_workflow_passes_snakemake_lint(workdir):
    result = run_snakemake(workdir, "--lint")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Congratulations, your workflow is in a good condition" in result.stdout + result.stderr


def test_workflow_is_snakefmt_formatted():
    snakefmt = BIN / "snakefmt" if (BIN / "snakefmt").exists() else shutil.which("snakefmt")
    if not snakefmt:
        pytest.skip("snakefmt is not installed (pip install -e '.[test]' installs it)")
    result = subprocess.run([str(snakefmt), "--check", "workflow"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]


def test_conda_route_resolves_every_rule_environment(workdir):
    """`--sdm conda`: every rule names environment.yml; a dry run resolves it without installing."""
    conda = shutil.which("conda") or shutil.which("mamba")
    if not conda:
        pytest.skip("neither conda nor mamba is on PATH: the --sdm conda route cannot be tried here")
    result = run_snakemake(workdir, "--sdm", "conda", "-n", "--cores", "1", "--configfile",
                           "workflow/config/smoke.yaml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_default_profile_is_found_from_the_repository_root(workdir):
    """Snakemake 9 looks for profiles/default beside the Snakefile: workflow/Snakefile finds
    workflow/profiles/default, so -p (and the rest of the profile) apply without any flag."""
    result = run_snakemake(workdir, "-n", "fig1")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Using workflow specific profile workflow/profiles/default" in result.stdout + result.stderr
    assert shell_commands(result.stdout)  # printshellcmds, from the profile


def test_training_jobs_print_one_short_command(workdir):
    """-p shows each training command, not the run config: that is written by its own job."""
    out = snakemake(workdir, "-n", "-p", "--cores", "1", "--configfile", "workflow/config/smoke.yaml").stdout
    train = [cmd for cmd in shell_commands(out) if " stanley train " in f" {cmd}"]
    assert len(train) == 12 + 23 + 26 + 3  # the image matrix, the study runs, the pilots, the shapes ablation
    for cmd in train:
        assert re.fullmatch(r"stanley train --config \S+/run\.yaml --out \S+ --threads 1( --tuned \S+)? > \S+\.log 2>&1",
                            cmd), cmd
    batches = [cmd for cmd in shell_commands(out) if cmd.startswith("stanley train-batch ")]
    assert len(batches) == 7 + 4  # the rings matrix (one batch per sampler) and the ablation variants
    for cmd in batches:
        assert re.fullmatch(r"stanley train-batch( --config \S+/run\.yaml --out \S+)+ --threads 1( --tuned \S+)? "
                            r"--no-progress > \S+\.log 2>&1", cmd), cmd
    assert max(map(len, train + batches)) < 1000


def test_config_overrides_are_typed_as_yaml(workdir):
    out = snakemake(workdir, "-n", "--cores", "1", "--config", "seeds=[0]").stdout
    # 3 image sets x 6 (the samplers and STANLEY's readings), one seed; the rings' 7 as batches
    assert trained(out)["runs"] == 18 and job_counts(out)["train_toy_batch"] == 7
    out = snakemake(workdir, "-n", "--cores", "1", "--config", "seeds=[0, 2]", "samplers=[stanley]",
                    "samplers_per_dataset={cifar10: [stanley, gd]}", "jobs_per_gpu=2").stdout
    # cifar10 x (stanley, gd) + flowers102, celeba x their six, two seeds; rings x stanley, one batch
    assert trained(out)["runs"] == 2 * (2 + 6 + 6) and job_counts(out)["train_toy_batch"] == 1


def test_partial_configfile_merges_a_full_one_replaces(workdir):
    partial = workdir / "partial.yaml"
    partial.write_text("seeds: [1]\n")
    out = snakemake(workdir, "-n", "--cores", "1", "--configfile", str(partial)).stdout
    assert trained(out)["runs"] == 18 and job_counts(out)["train_toy_batch"] == 7  # the paper's matrix, with one seed
    out = snakemake(workdir, "-n", "--cores", "1", "--configfile", "workflow/config/smoke.yaml").stdout
    assert trained(out)["runs"] == 12 and "download_data" not in job_counts(out)  # the smoke matrix alone


@pytest.mark.parametrize("results", ["/x;touch PWNED;", "r$(touch PWNED)", "a`touch PWNED`", "new\nline", "{x}"])
def test_hostile_results_folder_is_refused_before_any_job(workdir, results):
    config = workdir / "hostile.yaml"
    config.write_text(TINY.format(results=json.dumps(results)))
    result = run_snakemake(workdir, "tables", "--cores", "1", "--configfile", str(config))  # not a dry run
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "invalid config: results must be a folder path without control characters" in output
    assert not list(workdir.rglob("PWNED")) and not Path("PWNED").exists()
    assert not (workdir / "x").exists() and not (workdir / "r").exists()


def test_results_folder_with_spaces_reaches_every_shell_command_quoted(workdir):
    config = workdir / "spaces.yaml"
    smoke = (workdir / "workflow/config/smoke.yaml").read_text()
    config.write_text(smoke.replace("results: results/smoke", "results: 'my results/run one'"))
    out = snakemake(workdir, "-n", "-p", "--cores", "1", "--configfile", str(config)).stdout
    commands = shell_commands(out)
    assert len(commands) > 50
    for cmd in commands:
        tokens = shlex.split(cmd)
        assert not any(t == "my" or t.startswith("one/") for t in tokens), cmd  # never split at the space
    assert sum("my results/run one/" in t for cmd in commands for t in shlex.split(cmd)) > 100


@pytest.mark.slow
def test_tiny_run_in_a_folder_with_spaces_and_snakemakes_report_archive(workdir):
    """A real run under 'out dir/with space': nothing lands beside it, and `snakemake --report`
    gathers Figure 1 with its caption into the archive."""
    (workdir / "tiny.yaml").write_text(TINY.format(results="'out dir/with space'"))
    targets = ["out dir/with space/figures/fig1.png", "out dir/with space/tables/eval.csv"]
    snakemake(workdir, *targets, "--cores", "2", "--configfile", "tiny.yaml")  # --configfile takes every name after it
    assert (workdir / "out dir/with space/tables/eval.csv").is_file()
    assert not (workdir / "out").exists() and not (workdir / "dir").exists()
    assert (workdir / "out dir/with space/benchmarks/train/rings/stanley/batch.tsv").is_file()  # a toy batch
    snakemake(workdir, targets[0], "--report", "report.zip", "--configfile", "tiny.yaml")
    with zipfile.ZipFile(workdir / "report.zip") as archive:
        names = archive.namelist()
        assert any(name.endswith("/fig1.png") for name in names)
        html = archive.read(next(n for n in names if n.endswith("report.html"))).decode()
    assert "Figure 1 of the paper: short-run samples" in html and "(smoke scale)" in html


@pytest.mark.parametrize("override, line", [
    ("sedes=[1]", "invalid config: the top level: Additional properties are not allowed ('sedes' was unexpected)"),
    ("seeds=[x]", "invalid config: seeds.0: 'x' is not of type 'integer'"),
])
def test_schema_errors_are_one_line_not_the_schema(workdir, override, line):
    result = run_snakemake(workdir, "-n", "--config", override)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and line in output
    assert "Failed validating" not in output and len(output.splitlines()) < 12
