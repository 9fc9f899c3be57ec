"""Exclusive locks on files: one process at a time, released by the kernel when it dies.

``flock`` on a lock file, held open for the holder's life: SIGKILL included, a crash never
leaves a lock taken, and a lock file left behind blocks nobody. The file holds a line saying
who holds it (pid, host, start time), for the message a second process gets.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import time
from pathlib import Path
from typing import Iterator, Optional

from ..errors import Fault
from .rundir import RunDir



def try_lock(path: Path) -> Optional[int]:
    """The locked file's descriptor, or None when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)  # never truncate through a link
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        os.close(fd)
        if error.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return None
        raise
    # who holds it, for a human and for the message a second process gets; the lock is the truth
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n".encode())
    return fd


def holder(path: Path) -> str:
    """Who holds the lock at ``path``, as its holder wrote it (one short line)."""
    try:
        text = path.read_bytes()[:200].decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return " ".join(text.split()) or "another process (it has not said who yet)"


@contextlib.contextmanager
def run_directory(directory: Path) -> Iterator[Path]:
    """Hold the run directory's lock for the body; a second writer gets :class:`Fault` naming the holder."""
    path = RunDir(directory).lock
    fd = try_lock(path)
    if fd is None:
        raise Fault(f"run directory {directory} is in use by {holder(path)}; wait for that run to end, "
                    "or choose another --out")
    try:
        yield path
    finally:
        os.close(fd)  # the lock file stays: removing it would race with a newcomer's lock
