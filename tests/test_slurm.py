"""Scale-out on SLURM: the DAG through workflow/profiles/slurm on a private single-node SLURM.

The fixture starts munged, slurmctld and slurmd (tests/slurm_cluster.py; docs/architecture.md,
section 5) and stops exactly those processes afterwards, pass or fail. The test runs a reduced smoke
matrix (rings x 2 samplers x 1 seed) three times: locally, then through the SLURM executor
with one training job cancelled (`scancel`) once it has a checkpoint, then through SLURM
again, which resumes that job from its checkpoint. Every training job must have run as a
SLURM job, and the gathered tables must equal the local run's exactly (wall times aside).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import BIN, ROOT
from slurm_cluster import SlurmCluster, Unavailable, ensure_installed

pytestmark = pytest.mark.slurm

COPIED = ("workflow", "environment.yml", "stanley")
RESULTS = "results/slurmtest"
TARGET = f"{RESULTS}/tables/eval.csv"  # the `tables` rule: every training job, then the gathering
SAMPLERS = ("stanley", "langevin")
ITERATIONS, CHECKPOINT_EVERY = 120, 10
SLURM_FLAGS = (  # what a cluster without accounting needs (docs/architecture.md, section 5)
    "--slurm-no-account", "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2",
)
SUBMITTED = re.compile(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+?)\)")


def reduced_config(workdir: Path) -> Path:
    """The smoke config cut to rings x 2 samplers x 1 seed and a short, often-checkpointed run."""
    config = yaml.safe_load((workdir / "workflow/config/smoke.yaml").read_text())
    # one SLURM job per run (no seed batches) and no tuning stage: this checks the scheduler, not those
    config.update(results=RESULTS, datasets=["rings"], samplers=list(SAMPLERS), seeds=[0], batch_toy_runs=False,
                  tuning={"enabled": False})
    for key in ("samplers_per_dataset", "figures", "inpainting", "studies"):  # they name the image data sets
        config.pop(key, None)
    rings = config["per_dataset"]["rings"]
    config["per_dataset"] = {"rings": rings}
    config["ablation"] = {"rings": config["ablation"]["rings"]}  # the image ablation names shapes
    rings["training"].update(iterations=ITERATIONS, log_every=10, checkpoint_every=CHECKPOINT_EVERY)
    rings["evaluation"] = {"every": 60, "grid_size": 64, "n_samples": 300}
    path = workdir / "slurmtest.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def make_workdir(path: Path) -> Path:
    for name in COPIED:
        source, target = ROOT / name, path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    reduced_config(path)
    return path


def clean_env(extra: dict | None = None) -> dict:
    """This environment without an enclosing scheduler's SLURM_* variables, the venv first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SBATCH_", "SRUN_", "STANLEY_SLURM_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **(extra or {})}


def snakemake_cmd(*args: str) -> list:
    return [str(BIN / "snakemake"), TARGET, "--configfile", "slurmtest.yaml", *args]


def slurm_cmd(*args: str) -> list:
    return snakemake_cmd("--workflow-profile", "workflow/profiles/slurm", *SLURM_FLAGS, *args)


def submitted(output: str) -> dict:
    """{SLURM job id: 'rule wildcards'} from the executor's 'submitted with SLURM jobid' lines
    (the log path is <slurm-logdir>/rule_<rule>/<wildcard values joined by _>/<job id>.log)."""
    jobs = {}
    for job_id, log in SUBMITTED.findall(output):
        parts = Path(log).parts
        i = max(k for k, p in enumerate(parts) if p.startswith("rule_"))
        jobs[job_id] = " ".join(parts[i:-1]).replace("rule_", "")
    return jobs


TRAIN_JOB = "train_toy runs_rings_{}_seed0"  # a toy run's job: its rule, and its {run} wildcard with / as _


def training_job(running: dict, sampler: str):
    """The id of the RUNNING job that trains rings/SAMPLER/seed0, from the comments the executor
    gives its jobs (the rule's name, then the wildcard values)."""
    for comment, job_id in running.items():
        flat = comment.replace("/", "_")
        if flat.startswith("rule_train") and flat.endswith(f"rings_{sampler}_seed0"):
            return job_id
    return None


def tables(workdir: Path) -> dict:
    out = {}
    for kind in ("eval", "metrics"):
        table = pd.read_csv(workdir / RESULTS / "tables" / f"{kind}.csv")
        table = table.drop(columns=[c for c in table.columns if "wall_time" in c])
        out[kind] = table.sort_values(["dataset", "sampler", "seed", "iteration"]).reset_index(drop=True)
    return out


def provenance(workdir: Path, sampler: str) -> dict:
    return json.loads((workdir / RESULTS / "runs/rings" / sampler / "seed0/provenance.json").read_text())


def resources_of(output: str) -> dict:
    """{rule: {resource: value}} from the 'rule ...: ... resources: ...' blocks of a dry run."""
    found = {}
    for rule, res in re.findall(r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", output, re.M):
        found[rule] = dict(item.split("=", 1) for item in res.split(", "))
    return found


def test_slurm_profile_takes_site_settings_from_the_environment(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="pip install -e '.[slurm]'")
    workdir = make_workdir(tmp_path)
    site = {"STANLEY_SLURM_PARTITION": "gpu", "STANLEY_SLURM_ACCOUNT": "lab42"}
    for extra in (site, {}):
        result = subprocess.run(slurm_cmd("-n", "--forceall"), cwd=workdir, env=clean_env(extra),
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        resources = resources_of(result.stdout + result.stderr)
        assert set(resources) == {"run_config", "train_toy", "tables"}, resources  # run_config: a local rule
        assert resources["train_toy"]["runtime"] == "1440" and resources["train_toy"]["mem_mb"] == "8000"
        assert resources["tables"]["runtime"] == "30"
        for rule in resources.values():
            assert rule.get("slurm_partition") == extra.get("STANLEY_SLURM_PARTITION")
            assert rule.get("slurm_account") == extra.get("STANLEY_SLURM_ACCOUNT")


@pytest.fixture
def slurm(tmp_path_factory):
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="pip install -e '.[slurm]'")
    try:
        ensure_installed()
    except Unavailable as error:
        pytest.skip(f"no SLURM here: {error}")
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    try:
        try:
            started = time.monotonic()
            cluster.start(timeout=90)
        except Unavailable as error:
            pytest.skip(f"the private SLURM did not come up: {error}")
        print(f"\n[slurm] single-node SLURM up in {time.monotonic() - started:.1f} s, daemons {cluster.pids}")
        yield cluster
    finally:
        cluster.stop()
        alive = {name: proc.pid for name, proc in cluster.procs.items() if proc.poll() is None}
        print(f"[slurm] daemons stopped: {sorted(cluster.pids.values())}" + (f", STILL ALIVE: {alive}" if alive else ""))


@pytest.mark.slow
def test_smoke_dag_on_slurm_equals_the_local_run_and_a_cancelled_job_resumes(slurm, tmp_path):
    times = {}
    local, cluster_dir = make_workdir(tmp_path / "local"), make_workdir(tmp_path / "slurm")

    # 1. the reference: the same reduced DAG with the local executor
    t = time.monotonic()
    result = subprocess.run(snakemake_cmd("--cores", "2"), cwd=local, env=clean_env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    times["local run"] = time.monotonic() - t
    assert all(provenance(local, s)["scheduler"] is None for s in SAMPLERS)

    # 2. through SLURM; cancel one training job once it is RUNNING and has a checkpoint
    env = slurm.env(clean_env({"STANLEY_SLURM_PARTITION": slurm.partition}))
    log1 = tmp_path / "slurm_run1.log"
    t = time.monotonic()
    with open(log1, "w") as out:
        first = subprocess.Popen(slurm_cmd("--retries", "0"), cwd=cluster_dir, env=env, stdout=out,
                                 stderr=subprocess.STDOUT, text=True)
    cancelled = None
    try:
        deadline = time.monotonic() + 300
        while cancelled is None and first.poll() is None and time.monotonic() < deadline:
            running = {j["comment"]: j["id"] for j in slurm.jobs() if j["state"] == "RUNNING"}
            for sampler in SAMPLERS:
                ckpts = sorted((cluster_dir / RESULTS / "runs/rings" / sampler / "seed0/checkpoints").glob("ckpt_*.pt"))
                job_id = training_job(running, sampler)
                if ckpts and job_id:
                    at = int(re.search(r"ckpt_(\d+)", ckpts[-1].name).group(1))
                    subprocess.run(["scancel", job_id], env=env, check=True, timeout=30)
                    cancelled = {"sampler": sampler, "job": job_id, "checkpoint": at,
                                 "after_s": time.monotonic() - t}
                    break
            time.sleep(0.2)
        first.wait(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    times["SLURM run 1 (with scancel)"] = time.monotonic() - t
    output1 = log1.read_text()
    jobs1 = submitted(output1)
    assert cancelled is not None, f"no training job was seen RUNNING with a checkpoint:\n{output1[-3000:]}"
    assert first.returncode != 0, "the run with a cancelled job should report a failure"
    assert sorted(jobs1.values()) == sorted(TRAIN_JOB.format(s) for s in SAMPLERS), output1[-3000:]
    assert cancelled["job"] in jobs1
    victim = cancelled["sampler"]
    assert not (cluster_dir / RESULTS / "runs/rings" / victim / "seed0/metrics.csv").exists()
    states1 = {j["id"]: j["state"] for j in slurm.jobs()}
    assert states1[cancelled["job"]] == "CANCELLED"

    # 3. the rerun resubmits only the cancelled job, which resumes from its checkpoint
    log2 = tmp_path / "slurm_run2.log"
    t = time.monotonic()
    second = subprocess.run(slurm_cmd(), cwd=cluster_dir, env=env, capture_output=True, text=True, timeout=600)
    times["SLURM run 2 (rerun)"] = time.monotonic() - t
    log2.write_text(second.stdout + second.stderr)
    output2 = log2.read_text()
    assert second.returncode == 0, output2[-4000:]
    jobs2 = submitted(output2)
    assert sorted(jobs2.values()) == sorted([TRAIN_JOB.format(victim), "tables"]), output2[-3000:]
    train_log = (cluster_dir / RESULTS / "logs/train/runs/rings" / victim / "seed0.log").read_text()
    resumed = re.search(r"resuming from iteration (\d+)", train_log)
    assert resumed, train_log[-2000:]
    assert cancelled["checkpoint"] <= int(resumed.group(1)) < ITERATIONS

    # every training job ran as a SLURM job in the partition the environment named
    all_jobs = {**jobs1, **jobs2}
    states = {j["id"]: j for j in slurm.jobs()}
    partitions = dict(line.split() for line in slurm.run("squeue", "-h", "-t", "all", "-o", "%i %P").stdout.splitlines())
    final_train_jobs = {}
    for sampler in SAMPLERS:
        record = provenance(cluster_dir, sampler)
        assert record["scheduler"] == "slurm" and record["slurm_job_id"] in all_jobs, record
        assert all_jobs[record["slurm_job_id"]] == TRAIN_JOB.format(sampler)
        assert states[record["slurm_job_id"]]["state"] == "COMPLETED"
        final_train_jobs[sampler] = record["slurm_job_id"]
    assert final_train_jobs[victim] in jobs2 and final_train_jobs[victim] != cancelled["job"]
    assert set(partitions[j] for j in all_jobs) == {slurm.partition}
    slurm_logdir = cluster_dir / "results/logs/slurm"  # the profile's slurm-logdir
    slurm_logs = sorted(p.relative_to(cluster_dir) for p in slurm_logdir.rglob("*.log"))
    assert len(slurm_logs) == len(all_jobs), slurm_logs

    # the tables equal the local run's, exactly
    theirs, ours = tables(local), tables(cluster_dir)
    for kind in ("eval", "metrics"):
        pd.testing.assert_frame_equal(ours[kind], theirs[kind], check_exact=True)

    # the record, for the note (pytest -s shows it)
    print("[slurm] SLURM run 1 submitted: " + ", ".join(f"{k} -> job {v}" for v, k in jobs1.items()))
    print(f"[slurm] scancel job {cancelled['job']} ({victim}) {cancelled['after_s']:.1f} s in, while RUNNING with "
          f"checkpoint ckpt_{cancelled['checkpoint']:09d}.pt; snakemake exited {first.returncode}; "
          f"states: {states1}")
    print("[slurm] SLURM run 2 submitted: " + ", ".join(f"{k} -> job {v}" for v, k in jobs2.items()))
    print(f"[slurm] {victim}'s train log: '{resumed.group(0)}' (of {ITERATIONS})")
    print(f"[slurm] final states: " + ", ".join(f"{i} {states[i]['state']} ({partitions[i]})" for i in sorted(all_jobs, key=int)))
    print(f"[slurm] provenance: " + ", ".join(f"{s}: scheduler=slurm slurm_job_id={j}" for s, j in final_train_jobs.items()))
    print(f"[slurm] SLURM logs: {[str(p) for p in slurm_logs]}")
    for kind in ("eval", "metrics"):
        print(f"[slurm] {kind}.csv: {len(ours[kind])} rows x {ours[kind].shape[1]} columns, equal to the local run's "
              f"(exact; wall_time dropped)")
    print("[slurm] times: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
