"""Kill anywhere, lose nothing; malformed configs always get one clear line."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BIN, assert_same_run, small_run, stanley
from stanley.experiment import config
from stanley.errors import ConfigError


@pytest.mark.slow
def test_sigkill_at_many_points_resumes_to_identical_tables(tmp_path, write_config):
    # 200 iterations: room for six kills (each after 3-6 new ones, plus what runs during the
    # random delay) even where an iteration takes a millisecond or two
    iterations = 200
    path = write_config(small_run(iterations=iterations, checkpoint_every=3, log_every=3))
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    command = [str(BIN / "stanley"), "train", "--config", str(path), "--threads", "1", "--no-progress", "--out"]
    subprocess.run(command + [str(whole)], check=True, capture_output=True)

    def newest() -> int:
        found = [int(p.stem.split("_")[1]) for p in (killed / "checkpoints").glob("ckpt_*.pt")] if killed.exists() else []
        return max(found, default=0)

    # each kill waits for progress (one or two new checkpoints), then strikes after a random
    # delay: at any point of an iteration, an evaluation, or a checkpoint write
    rng = random.Random(0)
    kills, stages = 0, []
    while True:
        process = subprocess.Popen(command + [str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if kills >= 6:
            process.wait(timeout=300)
            break
        goal, deadline = newest() + 3 * rng.randint(1, 2), time.time() + 120
        while newest() < goal and process.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.15))
        if process.poll() is not None:
            break  # it finished on its own
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        stages.append(newest())
    assert process.returncode == 0
    assert kills == 6 and 0 < stages[0] < stages[-1] < iterations, f"the kills did not land inside training: {stages}"
    assert_same_run(whole, killed)
    assert not list(killed.rglob("*.tmp")), "temporary files of killed writes were left behind"
    print(f"\n{kills} SIGKILLs (newest checkpoint at each kill: iteration {stages}); tables identical")


WRITER = """
import sys, torch
from stanley.plumbing.io import write_atomic
payload = {"x": torch.arange(3_000_000, dtype=torch.float64), "tag": int(sys.argv[2])}
while True:
    write_atomic(sys.argv[1], lambda tmp: torch.save(payload, tmp))
"""


@pytest.mark.slow
def test_sigkill_inside_atomic_writes_never_leaves_a_torn_file(tmp_path):
    """The writer behind checkpoints and tables, killed at random instants mid-write."""
    import torch

    target = tmp_path / "ckpt.pt"
    rng = random.Random(1)
    for attempt in range(5):
        before = target.stat().st_mtime_ns if target.exists() else None
        process = subprocess.Popen([sys.executable, "-c", WRITER, str(target), str(attempt)])
        deadline = time.time() + 120
        while (target.stat().st_mtime_ns if target.exists() else None) == before and time.time() < deadline:
            time.sleep(0.005)  # the writer is up and has finished one write
        time.sleep(rng.uniform(0.0, 0.3))  # then strike at a random instant, usually mid-write
        process.send_signal(signal.SIGKILL)
        process.wait()
        loaded = torch.load(target)  # complete, never half-written
        assert loaded["x"].numel() == 3_000_000 and loaded["x"][-1] == 2_999_999


# -- malformed configs ------------------------------------------------------------------

VALID = config.complete_run(small_run())
LEAVES = sorted(config.flatten(VALID))
JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9), st.floats(allow_nan=True),
                 st.text(max_size=8), st.lists(st.integers(), max_size=3),
                 st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


def set_path(run: dict, path: str, value) -> dict:
    node = run
    *parents, leaf = path.split(".")
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[leaf] = value
    return run


@st.composite
def malformed(draw):
    run = config.deep_merge({}, VALID)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["value", "typo", "extra", "section"]))
        path = draw(st.sampled_from(LEAVES))
        if kind == "value":
            set_path(run, path, draw(JUNK))
        elif kind == "typo":
            *parents, leaf = path.split(".")
            node = run
            for part in parents:
                node = node[part] if isinstance(node.get(part), dict) else {}
            if leaf in node:
                node[leaf[:-1] + "x" + leaf[-1:]] = node.pop(leaf)
        elif kind == "extra":
            set_path(run, draw(st.sampled_from(["training", "evaluation", "data", "fid"])) + "."
                     + draw(st.text("abcdefgh_", min_size=1, max_size=8)), draw(JUNK))
        else:
            run[draw(st.sampled_from(["training", "sampler", "data", "evaluation", "model"]))] = draw(JUNK)
    return run


CHECKED = {"valid": 0, "clear error": 0}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(malformed())
def test_malformed_configs_get_one_clear_line(run):
    try:
        config.complete_run(run)
        CHECKED["valid"] += 1  # a mutation can land on a valid value
    except ConfigError as error:
        message = str(error)
        assert message and "\n" not in message and len(message) < 400
        CHECKED["clear error"] += 1


def test_fuzz_counts_reported():
    """Runs after the fuzz test in file order: most mutations must have been rejected."""
    if CHECKED["clear error"]:
        print(f"\nmalformed configs: {CHECKED['clear error']} clear errors, {CHECKED['valid']} still valid")
        assert CHECKED["clear error"] > CHECKED["valid"]


def test_cli_rejects_a_malformed_config_without_a_traceback(write_config, tmp_path):
    run = config.deep_merge(VALID, {"training": {"batch_size": "hundred"}, "sampler": {"options": {"norm": 3}}})
    result = stanley("train", "--config", str(write_config(run)), "--out", str(tmp_path / "o"), check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
