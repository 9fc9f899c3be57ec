"""A throwaway single-node SLURM for tests (docs/architecture.md, section 5), private to one test.

Everything lives in one folder: its own munge key and socket, its own slurm.conf on free
ports, its own state, spool, pid and log files, so a second copy (another test session on
the same machine) and any system SLURM are left alone. The daemons run in the foreground as
children of the test (their pids are the ``Popen`` pids) and ``stop`` ends exactly those
after cancelling the jobs still queued. Client commands (sbatch, squeue, scancel, and
Snakemake's SLURM executor) find this cluster through ``SLURM_CONF`` in ``env()``; jobs
inherit it with the rest of the submitting environment (sbatch --export=ALL).

Needs root (SlurmUser=root, daemons that write their own spool) and the Debian packages
``slurm-wlm`` and ``munge``; ``ensure_installed`` says which are missing (tests install nothing:
.ci/run installs the Debian packages on a CI machine).
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional

SBIN = "/usr/sbin:/sbin:/usr/bin:/bin"
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scancel", "sinfo", "srun", "scontrol")
APT_PACKAGES = ("slurm-wlm", "munge")
ACTIVE = ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING", "STOPPED")


class Unavailable(RuntimeError):
    """SLURM cannot be run here; the message says why (a test skips with it)."""


def which(name: str) -> Optional[str]:
    return shutil.which(name, path=os.environ.get("PATH", "") + os.pathsep + SBIN)


def missing_programs() -> List[str]:
    return [name for name in DAEMONS + CLIENTS if which(name) is None]


def ensure_installed() -> None:
    """Unavailable, with what to install, where root or a program is missing."""
    if os.geteuid() != 0:
        raise Unavailable("needs root: a private SLURM runs its daemons as root (SlurmUser=root)")
    missing = missing_programs()
    if missing:
        raise Unavailable(f"{', '.join(missing)} missing: install the Debian packages {' '.join(APT_PACKAGES)} "
                          "(.ci/run does)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_line() -> str:
    """This machine's NodeName line as slurmd measures it (CPUs, sockets, RealMemory)."""
    result = subprocess.run([which("slurmd"), "-C"], capture_output=True, text=True, timeout=60)
    line = next((l for l in result.stdout.splitlines() if l.startswith("NodeName=")), None)
    if result.returncode != 0 or line is None:
        raise Unavailable(f"`slurmd -C` did not describe this node: {result.stderr.strip()[-300:]}")
    return line


class SlurmCluster:
    """One controller and one compute node (this machine) with partition ``debug``."""

    partition = "debug"

    def __init__(self, root: Path):
        self.root = Path(root)
        self.host = socket.gethostname().split(".")[0]
        self.conf = self.root / "slurm.conf"
        self.munge_socket = self.root / "munge" / "munge.socket"
        self.procs: Dict[str, subprocess.Popen] = {}
        self.logs: Dict[str, Path] = {}

    # -- environment of client commands and jobs -------------------------------------------
    def env(self, base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        env = dict(os.environ if base is None else base)
        env["SLURM_CONF"] = str(self.conf)
        env["PATH"] = os.pathsep.join([str(self.root / "bin"), env.get("PATH", ""), SBIN])
        return env

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), capture_output=True, text=True, env=self.env(), timeout=timeout)

    @property
    def pids(self) -> Dict[str, int]:
        return {name: proc.pid for name, proc in self.procs.items()}

    # -- set-up ----------------------------------------------------------------------------
    def write_config(self) -> None:
        munge = self.root / "munge"
        for d in (munge, self.root / "state", self.root / "spool", self.root / "log", self.root / "run"):
            d.mkdir(parents=True, exist_ok=True)
            d.chmod(0o700)
        # snakemake-executor-plugin-slurm-jobstep (0.6.1) drops every SLURM_* variable but the
        # job's identity, SLURM_CONF included, before its nested `srun`; on a real cluster srun
        # then reads /etc/slurm/slurm.conf, here it must be told: an `srun` first on PATH (jobs
        # inherit PATH) that puts SLURM_CONF back.
        bin_dir = self.root / "bin"
        bin_dir.mkdir(exist_ok=True)
        srun = bin_dir / "srun"
        srun.write_text(f'#!/bin/sh\nSLURM_CONF={shlex.quote(str(self.conf))} exec {shlex.quote(which("srun"))} "$@"\n')
        srun.chmod(0o755)
        key = munge / "munge.key"
        key.write_bytes(secrets.token_bytes(1024))
        key.chmod(0o400)
        node = node_line().split()
        # what slurmd measured, minus the parts that are not node config (UpTime)
        node = " ".join(f for f in node if not f.startswith(("UpTime=", "NodeName=")))
        ctld_port, slurmd_port = free_port(), free_port()
        r = self.root
        self.conf.write_text(f"""\
# A private single-node SLURM for one test run (tests/slurm_cluster.py)
ClusterName=stanleytest
SlurmctldHost={self.host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SwitchType=switch/none
ReturnToService=2
MinJobAge=600
KillWait=5
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool/%n
SlurmctldPidFile={r}/run/slurmctld.pid
SlurmdPidFile={r}/run/slurmd.pid
SlurmctldLogFile={r}/log/slurmctld.log
SlurmdLogFile={r}/log/slurmd.log
NodeName={self.host} NodeAddr=127.0.0.1 {node} State=UNKNOWN
PartitionName={self.partition} Nodes={self.host} Default=YES MaxTime=INFINITE State=UP
""")
        self.logs = {"munged": munge / "munged.log", "slurmctld": r / "log/slurmctld.log",
                     "slurmd": r / "log/slurmd.log"}

    def _spawn(self, name: str, args: List[str]) -> None:
        out = open(self.root / "log" / f"{name}.out", "w")
        self.procs[name] = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=self.env(),
                                            start_new_session=True)
        out.close()

    def _dead(self) -> Optional[str]:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                return f"{name} exited ({proc.returncode}): {self.tail(name)}"
        return None

    def tail(self, name: str, n: int = 1500) -> str:
        text = ""
        for path in (self.logs.get(name), self.root / "log" / f"{name}.out"):
            if path is not None and path.is_file():
                text += path.read_text(errors="replace")[-n:]
        return text.strip()

    def _wait(self, what: str, ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = self._dead()
            if dead:
                raise Unavailable(dead)
            if ready():
                return
            time.sleep(0.5)
        raise Unavailable(f"{what} not ready within {timeout:.0f} s")

    def start(self, timeout: float = 60) -> None:
        """Start munged, slurmctld and slurmd; return when the node is idle (Unavailable if not)."""
        try:
            self._start(timeout)
        except (OSError, subprocess.SubprocessError) as error:
            raise Unavailable(f"starting the daemons failed: {error}")

    def _start(self, timeout: float) -> None:
        self.write_config()
        m = self.root / "munge"
        self._spawn("munged", [which("munged"), "--foreground", "--force", f"--socket={self.munge_socket}",
                               f"--key-file={m / 'munge.key'}", f"--pid-file={m / 'munged.pid'}",
                               f"--log-file={m / 'munged.log'}", f"--seed-file={m / 'munged.seed'}"])
        self._wait("munged", lambda: self.munge_socket.exists(), timeout)
        self._spawn("slurmctld", [which("slurmctld"), "-D", "-c", "-i", "-f", str(self.conf)])
        self._wait("slurmctld", lambda: self.run("scontrol", "ping", timeout=10).stdout.count("UP") > 0, timeout)
        self._spawn("slurmd", [which("slurmd"), "-D", "-f", str(self.conf)])
        self._wait(f"node {self.host} idle in sinfo", self.node_idle, timeout)

    def node_idle(self) -> bool:
        result = self.run("sinfo", "-h", "-N", "-o", "%N %t", timeout=10)
        return result.returncode == 0 and any(
            line.split()[1:] == ["idle"] for line in result.stdout.splitlines() if line.startswith(self.host))

    # -- queries ---------------------------------------------------------------------------
    def jobs(self) -> List[Dict[str, str]]:
        """Every job the controller still knows (MinJobAge keeps finished ones 10 min)."""
        result = self.run("squeue", "-h", "-t", "all", "-o", "%i|%j|%T|%k")
        return [dict(zip(("id", "name", "state", "comment"), line.split("|", 3)))
                for line in result.stdout.splitlines() if line.strip()]

    # -- tear-down -------------------------------------------------------------------------
    def stop(self) -> None:
        """scancel what is left, then end the daemons this object started, by pid."""
        if "slurmctld" in self.procs and self.procs["slurmctld"].poll() is None:
            try:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    left = [j["id"] for j in self.jobs() if j["state"] in ACTIVE]
                    if not left:
                        break
                    self.run("scancel", *left, timeout=20)
                    time.sleep(1)
            except (OSError, subprocess.SubprocessError):
                pass
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
