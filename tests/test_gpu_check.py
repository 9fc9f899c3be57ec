"""benchmarks/gpu_check.py on a CPU: its FLOP counts, peak table, projection, table and failures.

The GPU steps themselves can only run on a GPU; what decides their numbers (the FLOPs, the
peaks, the projection) and what keeps the check from hanging or failing obscurely is here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from conftest import ROOT
from stanley.experiment import config
from stanley.learning.models import ConvNet

sys.path.insert(0, str(ROOT / "benchmarks"))
import gpu_check  # noqa: E402

SCRIPT = ROOT / "benchmarks" / "gpu_check.py"
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the failure without a CUDA device")


def test_convnet_flops_by_hand_and_by_torch():
    cost = gpu_check.conv_flops(ConvNet(n_f=64).modules(), 32)
    # conv3x3 3->64 at 32x32; conv4x4 s2 64->128 at 16x16, 128->256 at 8x8, 256->512 at 4x4; conv4x4 512->1 at 1x1
    hand = [2 * 3 * 64 * 9 * 32 * 32, 2 * 64 * 128 * 16 * 16 * 16, 2 * 128 * 256 * 16 * 8 * 8,
            2 * 256 * 512 * 16 * 4 * 4, 2 * 512 * 1 * 16 * 1 * 1]
    assert cost == (sum(hand), hand[0]) == (204_881_920, 3_538_944)
    with FlopCounterMode(display=False) as counter:  # torch's own per-op formulas
        ConvNet(n_f=64)(torch.rand(1, 3, 32, 32))
    assert counter.get_total_flops() == cost.forward
    size64 = gpu_check.conv_flops(ConvNet(n_f=8, image_size=64).modules(), 64)  # one more stage
    with FlopCounterMode(display=False) as counter:
        ConvNet(n_f=8, image_size=64)(torch.rand(1, 3, 64, 64))
    assert counter.get_total_flops() == size64.forward


def test_iteration_flops_equal_torchs_count_of_the_baseline_step(tmp_path):
    """K input gradients per chain and the learning step, against torch's count of the baseline's ops."""
    import train_step

    n_f, batch, steps = 4, 3, 2
    trainer = train_step.image_trainer("stanley", tmp_path, "cpu", n_f, batch, steps)
    theirs = train_step.ShortRunConvNet(n_f).load_from(trainer.learner.net)
    baseline = train_step.baseline_for(trainer, "stanley", train_step.CIFAR, theirs, (3, 32, 32))
    cost = gpu_check.conv_flops(trainer.learner.net.modules(), 32)
    assert gpu_check.iteration_flops(cost, batch, batch, steps) == train_step.count_flops(baseline.step)
    assert gpu_check.iteration_flops(cost, 100, 100, 50) == 2 * 100 * 50 * cost.forward + 2 * 100 * (3 * cost.forward - cost.first)
    assert gpu_check.generation_flops(cost, 10, 5) == 2 * 10 * 5 * cost.forward


@pytest.mark.parametrize("name, fp32, tf32", [
    ("NVIDIA H200", 66.9, 494.7),
    ("NVIDIA H100 80GB HBM3", 66.9, 494.7),
    ("NVIDIA H100 PCIe", 51.2, 378.0),
    ("NVIDIA A100-SXM4-80GB", 19.5, 156.0),
    ("NVIDIA A100 80GB PCIe", 19.5, 156.0),
    ("NVIDIA A10", 31.2, 62.5),
    ("NVIDIA L4", 30.3, 60.0),
    ("Tesla V100-SXM2-16GB", 15.7, None),
    ("Tesla T4", 8.1, None),
])
def test_peak_by_device_name(name, fp32, tf32):
    peak = gpu_check.peak_for(name)
    assert (peak.fp32, peak.tf32) == (fp32, tf32)


@pytest.mark.parametrize("name", ["NVIDIA A10G", "NVIDIA GeForce RTX 4090", "NVIDIA H100 NVL", "AMD Instinct MI300X"])
def test_unknown_devices_have_no_peak(name):
    assert gpu_check.peak_for(name) is None


def test_peak_share_uses_tf32_only_where_it_is_on_and_exists():
    h200, v100 = gpu_check.peak_for("NVIDIA H200"), gpu_check.peak_for("Tesla V100-SXM2-16GB")
    assert gpu_check.peak_share(49.47e12, h200, tf32=True) == pytest.approx(0.1)
    assert gpu_check.peak_share(6.69e12, h200, tf32=False) == pytest.approx(0.1)
    assert gpu_check.peak_share(1.57e12, v100, tf32=True) == pytest.approx(0.1)  # no TF32 units: the FP32 peak
    assert gpu_check.peak_share(1e12, None, tf32=True) is None


def small_image_run(**training) -> dict:
    return config.complete_run({
        "device": "cpu", "data": {"name": "shapes", "image_size": 32},
        "model": {"name": "convnet", "options": {"n_f": 8}},
        "training": {"iterations": 1000, "batch_size": 10, "n_chains": 20, "mcmc_steps": 5, **training},
        "fid": {"every": 250, "n_samples": 100, "proxy": True, "reference": "ref.npz"},
        "evaluation": {"temperature": 1.0},
    })


def test_projection_arithmetic_by_hand():
    forward = gpu_check.conv_flops(ConvNet(n_f=8).modules(), 32)
    per_iteration = 2 * 20 * 5 * forward.forward + 2 * 10 * (3 * forward.forward - forward.first)
    fid = 4 * 2 * 100 * 5 * forward.forward  # FID at 250, 500, 750, 1000: 100 samples of 5 steps each
    runs = [small_image_run(), small_image_run(iterations=500)]  # the second: 500 iterations, 2 FIDs
    rate = 1e-12  # seconds per FLOP
    hours = gpu_check.projected_hours(runs, rate)
    assert hours["runs"] == 2
    assert hours["train_hours"] == pytest.approx(1500 * per_iteration * rate / 3600)
    assert hours["fid_sample_hours"] == pytest.approx(1.5 * fid * rate / 3600)
    assert hours["hours"] == pytest.approx(hours["train_hours"] + hours["fid_sample_hours"])


def test_multiscale_energy_costs_its_three_scales():
    run = config.deep_merge(small_image_run(), {"training": {"scheme": "improved_cd"}})
    run = config.complete_run(run)
    scales = [gpu_check.conv_flops(ConvNet(n_f=8, image_size=s).modules(), s) for s in (32, 16, 8)]
    assert gpu_check.model_flops(run) == (sum(c.forward for c in scales), sum(c.first for c in scales))


def test_paper_matrix_runs_match_the_dag():
    """54 image runs in the matrix (6 samplers: two readings of STANLEY), 144 distinct image study runs:
    the counts the workflow schedules (its 147 study jobs hold 3 rings runs besides)."""
    runs = gpu_check.image_runs(config.load_yaml(ROOT / "workflow/config/config.yaml"))
    assert len(runs["matrix"]) == 54 and len(runs["studies"]) == 144
    assert {run["data"]["name"] for run in runs["matrix"]} == {"cifar10", "flowers102", "celeba"}


def test_table_has_every_cell_in_aligned_columns():
    rows = [gpu_check.Row("CUDA-only tests", "pytest -m gpu", "3 passed"),
            gpu_check.Row("TF32 on", "shapes, 200 it", "12.0 ms/it, FID (proxy) 40.10", "a note", "FAIL"),
            gpu_check.Row("share", "", "not finished", "stopped after 40 s", "TIMEOUT")]
    text = gpu_check.format_table("GPU check: a title", rows)
    lines = text.splitlines()
    assert lines[0] == "GPU check: a title"
    body = [line for line in lines[1:] if not set(line) <= {"-"}]
    assert len(body) == 1 + len(rows)
    for row, line in zip(rows, body[1:]):
        assert line.startswith(row.status)
        for cell in row[:4]:
            assert cell in line
    for column in ("setting", "result", "note"):  # every row's cell starts where its header does
        start = body[0].index(column)
        cells = [getattr(row, column) for row in rows]
        for cell, line in zip(cells, body[1:]):
            if cell:
                assert line.index(cell) == start, (column, line)


def test_arguments():
    args = gpu_check.parse_args([])
    assert args.only == list(gpu_check.STEPS) and args.budget < 480
    assert gpu_check.parse_args(["--only", "tests, long", "--budget", "100"]).only == ["tests", "long"]
    for bad in (["--only", "tests,warp"], ["--budget", "-5"]):
        with pytest.raises(SystemExit) as stop:
            gpu_check.parse_args(bad)
        assert stop.value.code == 2


def test_step_limits_fit_in_eight_minutes():
    share = gpu_check.STEP_LIMITS["share"] * len(gpu_check.SHARE_JOBS)
    total = sum(v for k, v in gpu_check.STEP_LIMITS.items() if k != "share") + share
    assert total <= gpu_check.parse_args([]).budget - 10 < 8 * 60  # the start-up checks have the rest


def test_a_step_past_its_limit_is_stopped_and_reported():
    started = time.monotonic()
    rows = gpu_check.run_step("tests", limit=1.0)
    assert time.monotonic() - started < 30
    assert [row.status for row in rows] == ["TIMEOUT"] and "stopped after 1 s" in rows[0].note


def run_check(script: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHON": sys.executable}
    command = ["bash", str(ROOT / "benchmarks/gpu_check.sh")] if script == "sh" else [sys.executable, str(SCRIPT)]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@no_cuda
@pytest.mark.parametrize("script", ["py", "sh"])
def test_no_cuda_is_one_line_and_exit_2(script):
    result = run_check(script)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 2, output
    assert output.count("\n") == 0 and "no CUDA device visible" in output and "Traceback" not in output


def test_a_missing_package_is_one_line_naming_it(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # as on a GPU machine
    monkeypatch.setitem(sys.modules, "cleanfid", None)  # as if clean-fid were not installed: its import fails
    assert gpu_check.main([]) == 2
    output = capsys.readouterr()
    assert output.out == "" and output.err.count("\n") == 1
    assert "missing Python packages: clean-fid;" in output.err and ".whl/" in output.err
    assert gpu_check.main(["--missing"]) == 1 and capsys.readouterr().out == "clean-fid\n"
