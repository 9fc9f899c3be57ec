"""A GPU slot pool: each job takes one free (device, slot) and sees only that device.

A workflow engine's GPU resource only counts jobs; it never says which device a job gets.
A slot is a lock file per (device, k < jobs_per_gpu) in a lock folder on this machine; a job
takes the first one it can ``flock`` without blocking and holds it for its whole life. The
kernel drops the lock when the last process holding it exits, SIGKILL included, so a crash
never leaves a slot taken, and a lock file left behind by a dead job blocks nobody.

Under a scheduler (SLURM and the like) that has set ``CUDA_VISIBLE_DEVICES`` to one device,
it is kept and nothing is locked; if it lists several (a local executor inside one
allocation), they are shared out with locks private to that allocation. Without a scheduler,
a ``CUDA_VISIBLE_DEVICES`` set by hand limits the pool to the devices it lists.

Command line (what a workflow rule prefixes to a GPU job; the job replaces this process, so
it holds the slot itself)::

    python -m stanley.plumbing.slots [--lock-dir DIR] [--jobs-per-gpu N] [--gpus N] [--no-wait] -- CMD ARGS...
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Mapping, Optional, Sequence

from ..errors import ConfigError
from .locks import try_lock

FAKE_GPUS_ENV = "STANLEY_FAKE_GPUS"  # pretend this many devices exist (tests, dry runs)
LOCK_DIR_ENV = "STANLEY_SLOT_DIR"
IN_SLOT_ENV = "STANLEY_SLOT"  # set for a job inside a slot: nested calls keep its device
SCHEDULER_ENV = ("SLURM_JOB_ID", "PBS_JOBID", "LSB_JOBID", "JOB_ID")  # JOB_ID: SGE / UGE


class SlotsBusy(RuntimeError):
    """Every slot is taken and the caller chose not to wait (or waited past its timeout)."""


@dataclass
class Slot:
    """What a job got: a device id (None: the CPU, or the scheduler's choice) and its env."""

    device: Optional[str]
    index: int  # k among the device's jobs_per_gpu slots
    lock_path: Optional[Path]
    env: Dict[str, str] = field(default_factory=dict)  # the variables to set for the job
    fd: Optional[int] = None  # the locked file, held open for the job's life
    source: str = "pool"  # pool | scheduler | nested | cpu

    def apply(self, environ: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        """A copy of ``environ`` (default ``os.environ``) with this slot's variables set."""
        out = dict(os.environ if environ is None else environ)
        out.update(self.env)
        return out


def default_lock_dir() -> Path:
    """$STANLEY_SLOT_DIR, else a per-user folder in /tmp: every job on the machine must see the
    same folder (a per-job $TMPDIR would split the pool), and locks are per machine anyway."""
    given = os.environ.get(LOCK_DIR_ENV)
    base = Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())
    return Path(given) if given else base / f"stanley-gpu-slots-{os.getuid()}"


def _scheduler(environ: Mapping[str, str]) -> Optional[str]:
    return next((key for key in SCHEDULER_ENV if environ.get(key)), None)


def device_ids(n_devices: Optional[int] = None, environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """The ids the pool hands out: ``n_devices`` or $STANLEY_FAKE_GPUS or torch's count,
    restricted to a hand-set ``CUDA_VISIBLE_DEVICES`` when there is one."""
    environ = os.environ if environ is None else environ
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    listed = [d.strip() for d in visible.split(",") if d.strip()] if visible is not None else None
    if n_devices is None and environ.get(FAKE_GPUS_ENV):
        try:
            n_devices = int(environ[FAKE_GPUS_ENV])
        except ValueError:
            raise ConfigError(f"{FAKE_GPUS_ENV} must be an integer, got {environ[FAKE_GPUS_ENV]!r}") from None
    if n_devices is None:
        import torch  # only here: the fake and explicit paths stay fast to start

        n_devices = torch.cuda.device_count()  # already limited by CUDA_VISIBLE_DEVICES
    if n_devices < 0:
        raise ConfigError(f"the number of GPUs must be >= 0, got {n_devices}")
    if listed is not None:
        return listed[:n_devices]
    return [str(i) for i in range(n_devices)]


def _lock_name(device: str, index: int) -> str:
    return f"gpu-{re.sub(r'[^A-Za-z0-9_.-]', '_', device)}.slot{index}.lock"


def _take(
    lock_dir: Path, devices: Sequence[str], jobs_per_gpu: int, wait: bool, poll: float, timeout: Optional[float]
) -> Slot:
    lock_dir.mkdir(parents=True, exist_ok=True)
    # every device's first slot before any device's second: spread jobs over devices
    order = [(device, k) for k in range(jobs_per_gpu) for device in devices]
    start = time.monotonic()
    while True:
        for device, k in order:
            path = lock_dir / _lock_name(device, k)
            fd = try_lock(path)
            if fd is not None:
                env = {"CUDA_VISIBLE_DEVICES": device, IN_SLOT_ENV: f"{device}:{k}"}
                return Slot(device, k, path, env, fd)
        if not wait or (timeout is not None and time.monotonic() - start >= timeout):
            raise SlotsBusy(f"all {len(order)} GPU slots in {lock_dir} are taken")
        time.sleep(poll)


def take(
    lock_dir: os.PathLike | str | None = None,
    n_devices: Optional[int] = None,
    jobs_per_gpu: int = 1,
    wait: bool = True,
    poll: float = 0.5,
    timeout: Optional[float] = None,
) -> Slot:
    """Take a slot without a ``with`` block; :func:`release` gives it back (or process exit)."""
    if isinstance(jobs_per_gpu, bool) or not isinstance(jobs_per_gpu, int) or jobs_per_gpu < 1:
        raise ConfigError(f"jobs_per_gpu must be an integer >= 1, got {jobs_per_gpu!r}")
    environ = os.environ
    if environ.get(IN_SLOT_ENV):
        return Slot(environ.get("CUDA_VISIBLE_DEVICES"), 0, None, {}, None, "nested")
    lock_dir = Path(lock_dir) if lock_dir is not None else default_lock_dir()
    job = _scheduler(environ)
    if job and "CUDA_VISIBLE_DEVICES" in environ:
        listed = [d.strip() for d in environ["CUDA_VISIBLE_DEVICES"].split(",") if d.strip()]
        if len(listed) <= 1:  # the scheduler chose this job's device
            return Slot(environ["CUDA_VISIBLE_DEVICES"], 0, None, {}, None, "scheduler")
        # several devices in one allocation (e.g. a local executor inside it): share them out,
        # with locks private to the allocation, as other jobs on the node number theirs alike
        lock_dir = lock_dir / f"{job.lower()}-{environ[job]}"
    devices = device_ids(n_devices)
    if not devices:
        warnings.warn("no GPU found: the job runs on the CPU", RuntimeWarning, stacklevel=3)
        return Slot(None, 0, None, {}, None, "cpu")
    return _take(lock_dir, devices, jobs_per_gpu, wait, poll, timeout)


def release(slot: Slot) -> None:
    if slot.fd is not None:
        os.close(slot.fd)  # closing the last descriptor drops the flock
        slot.fd = None


@contextlib.contextmanager
def acquire(
    lock_dir: os.PathLike | str | None = None,
    n_devices: Optional[int] = None,
    jobs_per_gpu: int = 1,
    wait: bool = True,
    poll: float = 0.5,
    timeout: Optional[float] = None,
    export: bool = True,
) -> Iterator[Slot]:
    """Hold a slot for the ``with`` block; with ``export`` its variables are set in
    ``os.environ`` meanwhile (set before torch first touches CUDA, or they do nothing)."""
    slot = take(lock_dir, n_devices, jobs_per_gpu, wait, poll, timeout)
    saved = {key: os.environ.get(key) for key in slot.env}
    try:
        if export:
            os.environ.update(slot.env)
        yield slot
    finally:
        if export:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        release(slot)


def run_in_slot(
    cmd: Sequence[str],
    lock_dir: os.PathLike | str | None = None,
    n_devices: Optional[int] = None,
    jobs_per_gpu: int = 1,
    wait: bool = True,
    poll: float = 0.5,
    timeout: Optional[float] = None,
    exec_: bool = False,
) -> int:
    """Run ``cmd`` in a slot and return its exit status.

    The child inherits the locked descriptor, so the slot stays taken while either process
    lives. ``exec_=True`` replaces this process with ``cmd`` instead (it never returns): then
    killing the job, by any signal, is what frees the slot.
    """
    if not cmd:
        raise ConfigError("no command given to run in a GPU slot; usage: python -m stanley.plumbing.slots -- CMD ARGS")
    slot = take(lock_dir, n_devices, jobs_per_gpu, wait, poll, timeout)
    env = slot.apply()
    if exec_:
        if slot.fd is not None:
            os.set_inheritable(slot.fd, True)
        try:
            os.execvpe(cmd[0], list(cmd), env)
        except OSError as error:
            release(slot)
            raise ConfigError(f"cannot run {cmd[0]!r} in a GPU slot: {error}") from error
    try:
        pass_fds = (slot.fd,) if slot.fd is not None else ()
        return subprocess.call(list(cmd), env=env, pass_fds=pass_fds)
    except OSError as error:
        raise ConfigError(f"cannot run {cmd[0]!r} in a GPU slot: {error}") from error
    finally:
        release(slot)


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        print("usage: python -m stanley.plumbing.slots [options] -- CMD ARGS...", file=sys.stderr)
        return 2
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="python -m stanley.plumbing.slots", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lock-dir", default=None, help=f"lock folder (default ${LOCK_DIR_ENV} or {default_lock_dir()})")
    parser.add_argument("--jobs-per-gpu", type=int, default=1)
    parser.add_argument("--gpus", type=int, default=None, help=f"device count (default ${FAKE_GPUS_ENV} or torch's)")
    parser.add_argument("--no-wait", action="store_true", help="fail at once when every slot is taken")
    parser.add_argument("--timeout", type=float, default=None, help="give up after this many seconds of waiting")
    args = parser.parse_args(argv[:split])
    try:
        run_in_slot(
            argv[split + 1:], args.lock_dir, args.gpus, args.jobs_per_gpu, wait=not args.no_wait,
            timeout=args.timeout, exec_=True,
        )
    except (ConfigError, SlotsBusy) as error:
        print(f"stanley.plumbing.slots: {error}", file=sys.stderr)
        return 2
    return 0  # not reached: exec replaced this process (or the CPU path exec'd too)


if __name__ == "__main__":
    sys.exit(main())
