"""The GPU slot pool, with real processes holding real flocks on fake devices."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from stanley.plumbing import slots
from stanley.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for key in ("CUDA_VISIBLE_DEVICES", slots.IN_SLOT_ENV, slots.FAKE_GPUS_ENV, slots.LOCK_DIR_ENV, *slots.SCHEDULER_ENV):
        monkeypatch.delenv(key, raising=False)


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", slots.IN_SLOT_ENV)}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def _cli(lock_dir, *cmd, gpus=None, **extra):
    args = [sys.executable, "-m", "stanley.plumbing.slots", "--lock-dir", str(lock_dir)]
    if gpus is not None:
        args += ["--gpus", str(gpus)]
    return args + ["--", *cmd]


RECORD = (
    "import os, sys, time; t0 = time.time(); time.sleep(0.4); "
    "open(sys.argv[1], 'a').write(f\"{os.environ['CUDA_VISIBLE_DEVICES']} {t0} {time.time()}\\n\")"
)


def _assert_never_shared(records, devices):
    by_device = {}
    for device, start, end in records:
        assert device in devices
        by_device.setdefault(device, []).append((start, end))
    for spans in by_device.values():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert start >= end, f"two jobs shared a device: {spans}"
    return by_device


def test_concurrent_processes_never_share_a_slot(tmp_path):
    log = tmp_path / "log.txt"
    env = _env(**{slots.FAKE_GPUS_ENV: "4"})
    procs = [subprocess.Popen(_cli(tmp_path / "locks", sys.executable, "-c", RECORD, str(log)), env=env)
             for _ in range(8)]
    assert [p.wait(timeout=60) for p in procs] == [0] * 8
    records = [(d, float(a), float(b)) for d, a, b in (line.split() for line in log.read_text().splitlines())]
    assert len(records) == 8
    by_device = _assert_never_shared(records, {"0", "1", "2", "3"})
    assert len(by_device) >= 2  # jobs spread over devices rather than queueing on one


def _hold(lock_dir, log, index):
    os.environ[slots.FAKE_GPUS_ENV] = "4"
    with slots.acquire(lock_dir, poll=0.05) as slot:
        start = time.time()
        assert os.environ["CUDA_VISIBLE_DEVICES"] == slot.device
        time.sleep(0.3)
        with open(log, "a") as handle:
            handle.write(f"{slot.device} {start} {time.time()}\n")


def test_acquire_from_many_python_processes(tmp_path):
    context = multiprocessing.get_context("spawn")
    log = tmp_path / "log.txt"
    workers = [context.Process(target=_hold, args=(tmp_path / "locks", log, i)) for i in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert [w.exitcode for w in workers] == [0] * 6
    records = [(d, float(a), float(b)) for d, a, b in (line.split() for line in log.read_text().splitlines())]
    assert len(records) == 6
    _assert_never_shared(records, {"0", "1", "2", "3"})


def test_sigkill_frees_the_slot(tmp_path):
    locks = tmp_path / "locks"
    holder = subprocess.Popen(
        _cli(locks, sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(60)", gpus=1),
        env=_env(), stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(slots.SlotsBusy):
            slots.take(locks, n_devices=1, wait=False)
        os.kill(holder.pid, signal.SIGKILL)  # exec'd: the job itself holds the lock
        holder.wait(timeout=10)
        slot = slots.take(locks, n_devices=1, wait=False)
        assert slot.device == "0"
        slots.release(slot)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_stale_lock_file_from_a_dead_process_does_not_block(tmp_path):
    locks = tmp_path / "locks"
    locks.mkdir()
    (locks / "gpu-0.slot0.lock").write_text("pid 999999 on elsewhere since 1999-01-01T00:00:00\n")
    with slots.acquire(locks, n_devices=1, wait=False) as slot:
        assert slot.device == "0" and str(os.getpid()) in slot.lock_path.read_text()


def test_waits_for_a_slot_and_gives_up_at_timeout(tmp_path):
    first = slots.take(tmp_path, n_devices=1, wait=False)
    with pytest.raises(slots.SlotsBusy):
        slots.take(tmp_path, n_devices=1, wait=True, poll=0.02, timeout=0.1)
    threading.Timer(0.3, slots.release, args=(first,)).start()
    start = time.monotonic()
    second = slots.take(tmp_path, n_devices=1, poll=0.02)
    assert time.monotonic() - start >= 0.25 and second.device == "0"
    slots.release(second)


def test_jobs_per_gpu_fills_devices_evenly(tmp_path):
    taken = [slots.take(tmp_path, n_devices=2, jobs_per_gpu=2, wait=False) for _ in range(4)]
    assert [(s.device, s.index) for s in taken] == [("0", 0), ("1", 0), ("0", 1), ("1", 1)]
    with pytest.raises(slots.SlotsBusy):
        slots.take(tmp_path, n_devices=2, jobs_per_gpu=2, wait=False)
    for s in taken:
        slots.release(s)


def test_scheduler_choice_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    with slots.acquire(tmp_path, n_devices=8) as slot:
        assert slot.source == "scheduler" and slot.device == "3" and slot.lock_path is None
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "3"
    out = subprocess.run(
        _cli(tmp_path, "sh", "-c", "echo $CUDA_VISIBLE_DEVICES", gpus=8),
        env=_env(SLURM_JOB_ID="4242", CUDA_VISIBLE_DEVICES="3"), capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == "3"
    assert not any(tmp_path.iterdir())  # nothing locked


def test_allocation_with_several_devices_is_shared_out_privately(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "77")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,5")
    a = slots.take(tmp_path, n_devices=2, wait=False)
    b = slots.take(tmp_path, n_devices=2, wait=False)
    assert {a.device, b.device} == {"2", "5"} and a.lock_path.parent == tmp_path / "slurm_job_id-77"
    for s in (a, b):
        slots.release(s)


def test_hand_set_visible_devices_limit_the_pool(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,3")
    monkeypatch.setenv(slots.FAKE_GPUS_ENV, "4")
    a, b = slots.take(tmp_path, wait=False), slots.take(tmp_path, wait=False)
    assert (a.device, b.device) == ("1", "3") and a.env["CUDA_VISIBLE_DEVICES"] == "1"
    with pytest.raises(slots.SlotsBusy):
        slots.take(tmp_path, wait=False)
    for s in (a, b):
        slots.release(s)


def test_no_gpu_runs_on_the_cpu_with_a_warning(tmp_path):
    with pytest.warns(RuntimeWarning, match="CPU"):
        with slots.acquire(tmp_path, n_devices=0) as slot:
            assert slot.device is None and slot.source == "cpu" and "CUDA_VISIBLE_DEVICES" not in os.environ


def test_acquire_exports_and_restores_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(slots.FAKE_GPUS_ENV, "2")
    with slots.acquire(tmp_path) as slot:
        assert os.environ["CUDA_VISIBLE_DEVICES"] == slot.device == "0"
        with slots.acquire(tmp_path) as inner:  # a job inside a slot keeps its device
            assert inner.source == "nested" and inner.device == "0"
    assert "CUDA_VISIBLE_DEVICES" not in os.environ and slots.IN_SLOT_ENV not in os.environ


def test_run_in_slot_returns_the_exit_code_and_holds_the_lock(tmp_path):
    script = "import os, sys; sys.exit(7 if os.environ['CUDA_VISIBLE_DEVICES'] == '0' else 1)"
    assert slots.run_in_slot([sys.executable, "-c", script], tmp_path, n_devices=1) == 7
    probe = "import sys; from stanley.plumbing import slots; slots.take(sys.argv[1], n_devices=1, wait=False)"
    # inside the slot, the same slot is busy for anyone else (the child shares the parent's lock)
    busy = slots.run_in_slot(
        [sys.executable, "-c", f"import os; os.environ.pop('{slots.IN_SLOT_ENV}'); {probe}", str(tmp_path)],
        tmp_path, n_devices=1,
    )
    assert busy == 1
    assert slots.run_in_slot([sys.executable, "-c", "pass"], tmp_path, n_devices=1) == 0


def test_cli_errors(tmp_path):
    env = _env()
    no_command = subprocess.run([sys.executable, "-m", "stanley.plumbing.slots", "--gpus", "1"], env=env, capture_output=True, text=True)
    assert no_command.returncode == 2 and "usage" in no_command.stderr
    holder = slots.take(tmp_path, n_devices=1, wait=False)
    try:
        busy = subprocess.run(_cli(tmp_path, "true", gpus=1)[:-2] + ["--no-wait", "--", "true"], env=env,
                              capture_output=True, text=True)
        assert busy.returncode == 2 and "taken" in busy.stderr
    finally:
        slots.release(holder)
    with pytest.raises(ConfigError, match="jobs_per_gpu"):
        slots.take(tmp_path, n_devices=1, jobs_per_gpu=0)
    os.environ[slots.FAKE_GPUS_ENV] = "two"
    try:
        with pytest.raises(ConfigError, match=slots.FAKE_GPUS_ENV):
            slots.take(tmp_path)
    finally:
        del os.environ[slots.FAKE_GPUS_ENV]


@pytest.mark.gpu
def test_real_gpu_job_sees_one_device(tmp_path):
    torch = pytest.importorskip("torch")  # imported here: spawned workers import this module
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    check = "import torch, sys; sys.exit(0 if torch.cuda.device_count() == 1 else 1)"
    assert slots.run_in_slot([sys.executable, "-c", check], tmp_path) == 0
