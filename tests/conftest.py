"""Shared fixtures: small run configs and a way to call the installed ``stanley`` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


LONGEST_FIRST = ("test_smoke_dag.py", "test_slurm.py", "test_reliability.py")
"""The files that take longest (the smoke DAG, the DAG on SLURM, kills at many points): collected
first, so that `make test` (--dist loadfile --no-loadscope-reorder) starts them first and the
two workers finish together instead of one waiting on the smoke DAG at the end."""


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: every file keeps its own order


POOL = {"step_size": 2.0, "noise_scale": 0.0070710678, "threshold": 0.01, "leapfrog": 5}


def small_run(sampler: str = "stanley", **training) -> dict:
    """A rings run small enough for a unit test (seconds on one CPU thread)."""
    from stanley.sampling.samplers import options_for

    return {
        "device": "cpu",
        "sampler": {"name": sampler, "options": options_for(sampler, POOL)},
        "training": {"iterations": 60, "mcmc_steps": 40, "lr": 1.0e-3, "log_every": 10,
                     "checkpoint_every": 20, **training},
        "evaluation": {"every": 30, "grid_size": 64, "n_samples": 300, "projections": 64},
    }


@pytest.fixture(autouse=True)
def one_thread():
    """Small tensors: one thread is faster than two fighting over a shared 2-core machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def write_config(tmp_path):
    def write(config: dict, name: str = "run.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(config))
        return path
    return write


def tables_without_wall_time(out: Path) -> dict:
    """A run's tables as data frames, less the one column that may differ between equal runs."""
    import pandas as pd

    return {name: pd.read_csv(out / name).drop(columns=["wall_time"], errors="ignore")
            for name in ("metrics.csv", "eval.csv")}


def assert_same_run(first: Path, second: Path) -> None:
    """Two run directories hold identical tables and samples (wall time aside)."""
    import numpy as np
    import pandas as pd

    expected = tables_without_wall_time(first)
    for name, table in tables_without_wall_time(second).items():
        pd.testing.assert_frame_equal(table, expected[name], check_exact=True)
    a, b = np.load(first / "samples.npz"), np.load(second / "samples.npz")
    assert a.files == b.files
    for key in a.files:
        np.testing.assert_array_equal(a[key], b[key])


def stanley(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run the installed ``stanley`` command of this environment."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([str(BIN / "stanley"), *args], capture_output=True, text=True, env=env, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"stanley {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result
