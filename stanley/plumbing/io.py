"""Files appear complete or not at all: every write goes to a temporary name, then renames.

Only a regular file is ever replaced: an output path that names a directory, a device node
or a FIFO is refused before any work (renaming over ``/dev/null`` as root would replace the
machine's). The temporary file is locked while it is written, so the leftovers of a killed
write (``.NAME.XXXXXXXX.tmp``) are told apart from a live write and removed by the next write
in that directory; messages name the output, never the temporary file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from ..errors import ConfigError

TEMP_SUFFIX = ".tmp"


def check_output(path: str | os.PathLike, directory: bool = False) -> Path:
    """Refuse, before any work, an output that exists and is not what will be written there:
    a regular file (``directory=False``) or a directory."""
    path = Path(path)
    try:
        mode = path.stat().st_mode  # follows links: a link to /dev/null is refused too
    except (FileNotFoundError, NotADirectoryError):
        return path  # nothing there to replace (making it may fail later, with its own message)
    except OSError as error:
        raise ConfigError(f"output {path} cannot be inspected: {error.strerror}; choose another path") from None
    if directory and not stat.S_ISDIR(mode):
        raise ConfigError(f"output {path} exists and is not a directory; choose another path or remove it")
    if not directory and not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file (a device, FIFO or socket)"
        raise ConfigError(f"output {path} exists and is {kind}; give a file path there (it would be replaced)")
    return path


def remove_stale_temps(directory: str | os.PathLike, name: str = "*") -> None:
    """Delete the temporary files of killed writes of ``name`` (any name by default) in ``directory``.

    A live write holds a lock on its temporary file, so only an abandoned one is removed.
    """
    stem = "*" if name == "*" else glob.escape(name)
    pattern = os.path.join(glob.escape(str(directory)), f".{stem}.????????{TEMP_SUFFIX}")  # mkstemp's 8 characters
    for stale in glob.glob(pattern):
        try:
            fd = os.open(stale, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue  # renamed or removed meanwhile, or a link: not ours
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if stat.S_ISREG(os.fstat(fd).st_mode):
                os.unlink(stale)
        except OSError:
            pass  # a live write holds it
        finally:
            os.close(fd)


def _is_torch_write_failure(error: RuntimeError) -> bool:
    """torch.save reports a failed write (a full disk, a size limit) as a RuntimeError of its zip writer."""
    text = str(error)
    return "PytorchStreamWriter" in text or "inline_container" in text or "file write failed" in text


def _as_os_error(error: BaseException, path: Path, tmp: Path) -> OSError | None:
    """The error a failed write raised, as an OSError that names ``path`` (never the temporary file)."""
    if isinstance(error, OSError):
        code, reason = error.errno, error.strerror or str(error)
    elif isinstance(error, RuntimeError) and _is_torch_write_failure(error):
        try:
            full = os.statvfs(path.parent).f_bavail == 0
        except OSError:
            full = False
        code = errno.ENOSPC if full else errno.EIO
        reason = os.strerror(code)
    else:
        return None
    if code is None:  # an OSError raised with a message only
        return OSError(errno.EIO, reason.replace(str(tmp), str(path)), str(path))
    return OSError(code, reason, str(path))  # OSError(errno, ...) picks the matching subclass


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed onto it."""
    path = check_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent, path.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    tmp = Path(tmp)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # alive: remove_stale_temps leaves it
        try:
            yield tmp
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
            check_output(path)  # the path may have become a directory or a device meanwhile
            os.replace(tmp, path)
        except (OSError, RuntimeError) as error:
            translated = _as_os_error(error, path, tmp)
            if translated is None:
                raise
            raise translated from None
    finally:
        os.close(fd)
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike, writer: Callable[[Path], Any]) -> Path:
    """``writer(tmp_path)`` writes the content; the result lands at ``path`` in one rename."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text))


def write_json(path: str | os.PathLike, data: Any) -> Path:
    return write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_yaml(path: str | os.PathLike, data: Any) -> Path:
    return write_text(path, yaml.safe_dump(data, sort_keys=False))


def write_figure(path: str | os.PathLike, figure) -> Path:
    """A matplotlib figure, in the format its suffix names (png by default), then closed: a
    process that draws many figures would otherwise keep every one of them in memory."""
    import matplotlib.pyplot as plt  # only the drawing jobs pay for it

    out = write_atomic(path, lambda tmp: figure.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png",
                                                        dpi=110, bbox_inches="tight"))
    plt.close(figure)
    return out


def write_csv(path: str | os.PathLike, frame) -> Path:
    """A pandas DataFrame as CSV."""
    return write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False))
