"""Hostile input: files from disk run no code, outputs destroy nothing, every bad input gets one line.

One test (or a few) per class of probe in the issue "Untrusted files and hostile input". Each
drives the library or the CLI as a hostile user would and checks what must (not) happen: no
marker file appears, a FIFO stays a FIFO, the second writer is refused, the line is short.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pathlib
import re
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import yaml

from conftest import BIN, small_run, stanley
from stanley import cli
from stanley.experiment import config
from stanley.plumbing import io
from stanley.learning import optim, training
from stanley.plumbing.checkpoints import Checkpoints
from stanley.errors import ConfigError

MAX_LINE = 400  # what "one bounded line" means here


def one_line(text: str) -> str:
    """The single line a refusal prints, checked to be one short line without a traceback."""
    assert "Traceback" not in text, text
    lines = text.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) < MAX_LINE, text[:2000]
    return lines[0]


def run_cli(capsys, *argv: str) -> tuple:
    """``stanley ARGV`` in this process: (exit status, stderr); argparse's own refusals exit."""
    try:
        status = cli.main(list(argv))
    except SystemExit as stop:
        status = stop.code
    return status, capsys.readouterr().err


# -- 1. checkpoints are data, never code -------------------------------------------------------


class Payload:
    """Unpickling this creates the marker file: what a hostile checkpoint would do."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


@pytest.mark.parametrize("with_valid_checksum", [False, True])
def test_crafted_pickle_checkpoint_runs_no_code_and_is_set_aside(tmp_path, with_valid_checksum):
    marker = tmp_path / "PWNED"
    store = Checkpoints(tmp_path / "checkpoints", "abc", log=(messages := []).append)
    store.directory.mkdir()
    hostile = {"iteration": 5, "config_hash": "abc", "model": Payload(marker)}
    if with_valid_checksum:  # an attacker who knows the format: the checksum holds, weights_only must stop it
        store.path(5).write_bytes(_framed(hostile))
    else:
        torch.save(hostile, store.path(5))
    assert store.load_latest() is None
    assert not marker.exists(), "loading a checkpoint ran code"
    assert not store.path(5).exists() and store.path(5).with_suffix(".pt.bad").exists()
    assert len(messages) == 1 and "set aside" in messages[0]


def _framed(payload) -> bytes:
    """A checkpoint file around any pickle, with a correct checksum (the format is public)."""
    import hashlib
    import io as stdio

    from stanley.plumbing.checkpoints import MAGIC

    buffer = stdio.BytesIO()
    torch.save(payload, buffer)
    body = buffer.getvalue()
    return MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def test_flipped_bytes_in_a_tensor_record_are_caught(tmp_path):
    store = Checkpoints(tmp_path, "abc", keep=2, log=(messages := []).append)
    weights = torch.arange(1000, dtype=torch.float32)
    store.save(1, {"weights": weights})
    store.save(2, {"weights": weights + 1})
    newest = store.path(2)
    blob = bytearray(newest.read_bytes())
    at = bytes(blob).find((weights + 1).numpy().tobytes()[:64])  # the tensor's raw bytes in the zip record
    assert at > 0
    blob[at + 100:at + 108] = bytes(b ^ 0xFF for b in blob[at + 100:at + 108])  # eight bytes flipped
    newest.write_bytes(bytes(blob))
    payload = store.load_latest()
    assert payload["iteration"] == 1 and torch.equal(payload["weights"], weights)  # the older, intact one
    assert newest.with_suffix(".pt.bad").exists() and "SHA-256" in messages[0]


def test_checkpoint_round_trip_keeps_every_state_type(tmp_path):
    """What training stores (optimizer, generator states, nested tables) passes weights_only exactly."""
    net = torch.nn.Linear(2, 2)
    optimizer = optim.Adam(net.parameters())
    net(torch.ones(1, 2)).sum().backward()
    optimizer.step()
    state = {"model": net.state_dict(), "optimizer": optimizer.state_dict(),
             "generator": torch.Generator().manual_seed(3).get_state(), "metrics": [{"loss": float("nan")}],
             "snapshots": {0: {"samples": torch.zeros(3, 2)}}, "bank": None, "status": "running"}
    store = Checkpoints(tmp_path, "h")
    store.save(7, state)
    loaded = store.load_latest()
    assert loaded["iteration"] == 7 and loaded["optimizer"]["param_groups"] == optimizer.state_dict()["param_groups"]
    assert torch.equal(loaded["generator"], state["generator"]) and np.isnan(loaded["metrics"][0]["loss"])


# -- 3. outputs: only regular files are replaced; temporary files never named, never left -------


def test_fifo_and_directory_outputs_are_refused_before_work(tmp_path, capsys):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # stands in for /dev/null: a node that must not be replaced by a file
    folder = tmp_path / "folder"
    folder.mkdir()
    for out in (fifo, folder):
        status, err = run_cli(capsys, "sample", "--target", "rings", "--sampler", "langevin", "--steps", "2",
                              "--chains", "4", "--out", str(out))
        line = one_line(err)
        assert status == 2 and str(out) in line and ".tmp" not in line
    assert fifo.is_fifo() and folder.is_dir() and not list(folder.iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(ConfigError, match="not a regular file"):
        io.write_text(fifo, "x")
    assert fifo.is_fifo()


def test_a_run_directory_that_is_a_file_is_refused(tmp_path, capsys, write_config):
    blocker = tmp_path / "run"
    blocker.write_text("precious")
    status, err = run_cli(capsys, "train", "--config", str(write_config(small_run())), "--out", str(blocker))
    assert status == 2 and "not a directory" in one_line(err) and blocker.read_text() == "precious"


def test_leftover_temp_files_of_killed_writes_are_removed_live_ones_kept(tmp_path):
    stale = tmp_path / ".metrics.csv.abcd1234.tmp"  # a write killed before its rename
    stale.write_text("half")
    live = tmp_path / ".metrics.csv.live5678.tmp"  # a write in progress: its writer holds the lock
    live.write_text("writing")
    handle = open(live, "rb")
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        io.write_text(tmp_path / "metrics.csv", "a,b\n")
        assert not stale.exists() and live.exists()
    finally:
        handle.close()
    assert (tmp_path / "metrics.csv").read_text() == "a,b\n"


# -- 4. one writer per run directory -----------------------------------------------------------

HOLDER = """
import sys, time
from pathlib import Path
from stanley.plumbing import locks
with locks.run_directory(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(120)
"""


def test_second_writer_is_refused_and_touches_nothing(tmp_path, write_config):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.csv").write_text("the first run's table\n")
    first = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "held"
        before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()}
        second = stanley("train", "--config", str(write_config(small_run())), "--out", str(out), "--no-progress",
                         check=False)
        line = one_line(second.stderr)
        assert second.returncode == 1 and f"pid {first.pid}" in line and "in use" in line
        after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()}
        assert after == before and first.poll() is None
    finally:
        first.kill()
        first.wait()


@pytest.mark.slow
def test_two_trainings_on_one_directory_cannot_both_succeed(tmp_path, write_config):
    out = tmp_path / "run"
    command = [str(BIN / "stanley"), "train", "--threads", "1", "--no-progress", "--out", str(out), "--config"]
    # long enough (thousands of fast toy iterations) that the second starts while the first holds the lock
    first = subprocess.Popen(command + [str(write_config(small_run(iterations=3000, checkpoint_every=500)))],
                             stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / "checkpoints").exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    second = subprocess.run(command + [str(write_config(small_run(iterations=40, lr=0.01), "other.yaml"))],
                            capture_output=True, text=True)
    assert first.wait(timeout=600) == 0
    assert second.returncode == 1 and "in use" in one_line(second.stderr)
    assert config.load_yaml(out / "config.yaml")["training"]["iterations"] == 3000  # the first run's results


# -- 5. validation before any work -------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["--target-opt", "sd=.nan"],
    ["--target-opt", "radius=.inf"],
    ["--init", "point:nan,nan"],
    ["--target-opt", "n_rings=20000"],
    ["--step-size", "nan"],
    ["--seed", str(2**64)],
    ["--chains", "0"],
])
def test_non_finite_or_out_of_range_options_are_refused(tmp_path, capsys, argv):
    out = tmp_path / "s.npz"
    status, err = run_cli(capsys, "sample", "--target", "rings", "--sampler", "langevin", "--steps", "2",
                          "--chains", "4", *argv, "--out", str(out))
    assert status == 2 and re.match(r"stanley( sample)?: error:", one_line(err)) and not out.exists()


def test_threads_below_one_are_refused(tmp_path, capsys, write_config):
    status, err = run_cli(capsys, "train", "--config", str(write_config(small_run())), "--out", str(tmp_path / "o"),
                          "--threads", "-1")
    assert status == 2 and "--threads" in one_line(err)


@pytest.mark.parametrize("fragment, words", [
    ({"data": {"options": {"sd": float("nan")}}}, "sd"),
    ({"data": {"options": {"radius": float("inf")}}}, "radius"),
    ({"training": {"iterations": 10**30}}, "training.iterations"),
    ({"training": {"mcmc_steps": 10**8}}, "training.mcmc_steps"),
    ({"seed": 2**64}, "seed"),
])
def test_nan_and_endless_run_configs_are_refused(fragment, words):
    with pytest.raises(ConfigError, match=words) as error:
        config.complete_run(config.deep_merge(small_run(), fragment))
    one_line(str(error.value))


def test_a_nan_target_option_is_bad_input_not_a_divergence(tmp_path, write_config):
    """It used to train and report "diverged at iteration 1", as if it were a finding."""
    path = write_config(config.deep_merge(small_run(), {"data": {"options": {"sd": float("nan")}}}))
    result = stanley("train", "--config", str(path), "--out", str(tmp_path / "o"), "--no-progress", check=False,
                     timeout=300)
    assert result.returncode == 2 and "sd" in one_line(result.stderr) and not (tmp_path / "o").exists()


@pytest.mark.parametrize("key", ["n_chains", "batch_size"])
def test_a_huge_size_is_refused_with_the_estimate_before_allocation(tmp_path, key):
    run = config.complete_run(config.deep_merge(small_run(), {"training": {key: 10**12}}))
    with pytest.raises(ConfigError, match=r"needs about [0-9.e+]+ GiB of memory") as error:
        training.train(run, tmp_path / "o", progress=False)
    assert len(str(error.value)) < MAX_LINE
    assert not (tmp_path / "o" / "checkpoints").exists()


def test_huge_sampling_is_refused_with_the_estimate(tmp_path, capsys):
    status, err = run_cli(capsys, "sample", "--target", "rings", "--sampler", "langevin", "--steps", "1000",
                          "--chains", str(10**12), "--out", str(tmp_path / "s.npz"))
    assert status == 2 and "needs about" in one_line(err)


def test_the_estimate_admits_the_suites_own_runs():
    """The memory check must not refuse what the workflow's configs ask for (smoke and paper scale)."""
    from stanley.learning import budget, step

    for name in ("smoke.yaml", "config.yaml"):
        suite = config.load_yaml(pathlib.Path(__file__).parents[1] / "workflow" / "config" / name)
        for dataset in set(suite["datasets"]) & {"cifar10", "flowers102", "celeba", "shapes"}:  # as the workflow does
            own = suite["per_dataset"][dataset]
            own["fid"] = {**own["fid"], "reference": f"results/reference/{dataset}.npz"}
        for dataset, sampler, seed, run in config.suite_runs(suite):
            if seed == suite["seeds"][0] and sampler == config.samplers_of(suite, dataset)[0]:
                budget.check_run(run, torch.device("cpu"), step.build_model)


@pytest.mark.parametrize("model, options, shape", [
    ("toynet", {}, (2,)), ("toynet", {"dim": 5, "widths": [7, 3]}, (5,)),
    ("convnet", {"n_f": 8, "image_size": 32}, (3, 32, 32)), ("convnet", {"n_f": 4, "image_size": 64}, (3, 64, 64)),
    ("convnet", {"n_f": 3, "image_size": 8, "channels": 1}, (1, 8, 8)),
])
def test_activations_by_formula_equal_the_meta_device_count(model, options, shape):
    from stanley.learning import budget
    from stanley.learning.models import ConvNet, ToyNet

    with torch.device("meta"):
        net = (ToyNet if model == "toynet" else ConvNet)(**options)
    assert budget._chain_shapes(net, shape) is not None  # the formula path, not the fallback
    assert budget.activations_per_sample(net, shape) == budget._meta_count(net, shape)


def test_activations_of_a_network_the_formula_does_not_know_are_counted_on_meta():
    from stanley.learning import budget

    with torch.device("meta"):
        net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding="same"), torch.nn.Flatten(), torch.nn.Linear(64, 2))
    assert budget._chain_shapes(net, (3, 4, 4)) is None
    assert budget.activations_per_sample(net, (3, 4, 4)) == 4 * 16 + 64 + 2


LEVELS = ["&a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"] + [f"&a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
BOMB = "[" + ", ".join(LEVELS) + "]"  # 9^9 values once its aliases are expanded, in under 500 characters


@pytest.mark.parametrize("content, words", [
    (f"training: {{iterations: {BOMB}}}\n".encode(), "aliases"),  # a checked key: its message printed it all
    (("[" * 900 + "]" * 900).encode(), "deep"),
    (("a:\n" + "".join("  " * i + "b:\n" for i in range(1, 300))).encode(), "deep"),
    (bytes(range(256)) * 4, "UTF-8"),
    ("training: {iterations: 10}\n".encode("utf-16"), "UTF-8"),
    (b"", "empty"),
    (b"datsets: [rings]\nsamplers: [langevin]\nseeds: [0]\n", "did you mean 'datasets'"),
    (b"datasets: [ringz]\nsamplers: [langevin]\nseeds: [0]\nsamplers_per_dataset: {rings: [langevin]}\n",
     "suite key datasets"),
])
def test_hostile_config_files_get_one_bounded_line(tmp_path, content, words):
    path = tmp_path / "c.yaml"
    path.write_bytes(content)
    result = subprocess.run([str(BIN / "stanley"), "train", "--config", str(path), "--out", str(tmp_path / "o"),
                             "--dataset", "rings", "--sampler", "langevin", "--seed", "0"],
                            capture_output=True, text=True, timeout=60)  # the anchor bomb used to hang
    assert result.returncode == 2 and words in one_line(result.stderr)


def test_bad_fid_reference_files_stop_a_run_at_start(tmp_path):
    run = config.complete_run({
        "device": "cpu", "data": {"name": "shapes", "limit": 16}, "model": {"name": "convnet", "options": {"n_f": 4}},
        "sampler": {"name": "langevin", "options": {"noise_scale": 0.01}},
        "training": {"iterations": 2, "mcmc_steps": 2, "batch_size": 4, "n_chains": 4},
        "fid": {"every": 1, "proxy": True, "reference": str(tmp_path / "ref.npz")},
    })
    files = {
        "object array": lambda p: np.savez(p, mu=np.array([{"x": 1}], dtype=object), sigma=np.eye(64)),
        "wrong shape": lambda p: np.savez(p, mu=np.zeros(10), sigma=np.eye(10), protocol="proxy"),
        "not a zip": lambda handle: handle.write(b"\x93NUMPY garbage"),
        "non-finite": lambda p: np.savez(p, mu=np.full(64, np.nan), sigma=np.eye(64), protocol="proxy"),
    }
    for what, write in files.items():
        with open(tmp_path / "ref.npz", "wb") as handle:
            write(handle)
        with pytest.raises(ConfigError, match="reference statistics") as error:
            training.Trainer(run, tmp_path / "o", progress=False)
        assert "\n" not in str(error.value) and len(str(error.value)) < MAX_LINE, what
        assert not (tmp_path / "o" / "checkpoints").exists()


# -- 6. expected runtime faults: one line, exit 1 ----------------------------------------------

FULL_DISK = """
import resource, signal, sys, torch
from stanley.plumbing.io import write_atomic
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # the disk is full after 4 KiB
try:
    write_atomic(sys.argv[1], lambda tmp: torch.save(torch.zeros(100_000), tmp))
except OSError as error:
    print(type(error).__name__, error.filename)
"""


def test_torch_save_on_a_full_disk_is_an_os_error_naming_the_output(tmp_path):
    target = tmp_path / "energies.pt"
    result = subprocess.run([sys.executable, "-c", FULL_DISK, str(target)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["OSError", str(target)] and not list(tmp_path.iterdir())


def test_a_full_disk_in_the_cli_is_one_line_exit_1(tmp_path):
    import resource
    import signal

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    out = tmp_path / "s.npz"
    result = subprocess.run([str(BIN / "stanley"), "sample", "--target", "rings", "--sampler", "langevin",
                             "--steps", "50", "--chains", "2000", "--out", str(out)],
                            capture_output=True, text=True, preexec_fn=limit)
    line = one_line(result.stderr)
    assert result.returncode == 1 and str(out) in line and ".tmp" not in line and not out.exists()


def test_a_binary_figure_input_is_one_line(tmp_path, capsys):
    table = tmp_path / "table.csv"
    table.write_bytes(bytes(range(256)) * 8)
    status, err = run_cli(capsys, "figure", "fig1", "--inputs", str(table), "--out", str(tmp_path / "f.png"))
    assert status in (1, 2) and one_line(err).startswith("stanley: error:")


def test_exit_codes_are_documented_in_the_help():
    text = cli.build_parser().format_help()
    assert "exit status" in text and " 1 " in text and " 2 " in text and "bad input" in text


def test_an_anchor_bomb_on_the_command_line_is_refused(tmp_path):
    assert len(BOMB) < 500 and yaml.safe_load(BOMB)[1][0] == [1] * 9
    result = subprocess.run([str(BIN / "stanley"), "sample", "--target", "rings", "--target-opt", f"weights={BOMB}",
                             "--sampler", "langevin", "--steps", "2", "--out", str(tmp_path / "s.npz")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "aliases" in one_line(result.stderr)


def test_a_truncated_image_is_named(tmp_path):
    from PIL import Image

    from stanley.images import data

    for name in ("a.jpg", "b.jpg"):
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(tmp_path / name)
    cut = tmp_path / "b.jpg"
    cut.write_bytes(cut.read_bytes()[:300])
    with pytest.raises(ConfigError, match="b.jpg cannot be decoded") as error:
        data.load("imagefolder", tmp_path, 32)
    one_line(str(error.value))


def test_weights_files_are_checksummed_and_run_no_code(tmp_path):
    """model.pt and energies.pt are read back by inpainting and diagnostics: data only, one line if not."""
    from stanley.plumbing.checkpoints import load_tensors

    from stanley.plumbing.checkpoints import checksum_of, save_tensors

    marker = tmp_path / "PWNED"
    torch.save({"weight": Payload(marker)}, tmp_path / "model.pt")
    with pytest.raises(ConfigError, match="has no checksum") as error:  # a file dropped in by hand
        load_tensors(tmp_path / "model.pt")
    assert not marker.exists()
    one_line(str(error.value))
    # even with a matching checksum beside it, the pickle's objects are refused, not built
    body = (tmp_path / "model.pt").read_bytes()
    checksum_of(tmp_path / "model.pt").write_text(hashlib.sha256(body).hexdigest())
    with pytest.raises(ConfigError, match="not a weights file") as error:
        load_tensors(tmp_path / "model.pt")
    assert not marker.exists()
    one_line(str(error.value))
    # and a weights file written by training, one byte flipped, is caught before it is read
    save_tensors(tmp_path / "energies.pt", {"w": torch.arange(1000.0)})
    assert torch.equal(load_tensors(tmp_path / "energies.pt")["w"], torch.arange(1000.0))
    data = bytearray((tmp_path / "energies.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "energies.pt").write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="does not match its checksum") as error:
        load_tensors(tmp_path / "energies.pt")
    one_line(str(error.value))
