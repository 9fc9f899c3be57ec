"""Where a number came from: config hash, code version, packages, hardware, time."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from typing import TYPE_CHECKING, Any, Dict

from ..experiment.config import config_hash

if TYPE_CHECKING:  # the report reads git_commit and now without loading torch
    import torch

PACKAGES = ("stanley", "torch", "torchvision", "numpy", "scipy", "pandas", "pillow", "clean-fid", "matplotlib", "seaborn",
            "snakemake")
"""Every package that shapes a number (torch to clean-fid; pillow decodes and resizes images) or a
figure (matplotlib, seaborn), and the one that ran the jobs (snakemake)."""


def git_commit(cwd: str | None = None) -> str:
    """The commit of the working tree (``+dirty`` when it has changes), or ``unknown``."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10,
                              check=True).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def package_versions() -> Dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def device_name(device: torch.device) -> str:
    import torch

    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"cpu: {platform.processor() or platform.machine()} ({os.cpu_count()} cores, {torch.get_num_threads()} threads)"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def collect(run: Dict[str, Any], device: torch.device, wall_time: float, started: str, status: str) -> Dict[str, Any]:
    """The provenance record written beside every run's tables."""
    return {
        "config_hash": config_hash(run),
        "git_commit": git_commit(),
        "packages": package_versions(),
        "device": device_name(device),
        "host": socket.gethostname(),
        "scheduler": "slurm" if os.environ.get("SLURM_JOB_ID") else None,
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "started": started,
        "finished": now(),
        "wall_time_s": round(wall_time, 3),
        "gpu_hours": round(wall_time / 3600, 6) if device.type == "cuda" else 0.0,
        "status": status,
    }
