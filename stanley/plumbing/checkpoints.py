"""Training checkpoints: written atomically, verified on load, the newest good one wins.

A checkpoint is untrusted input (run directories are shared and copied between people), so
it is read without executing code: a SHA-256 of the payload heads the file and is checked
before anything is decoded, and the payload is decoded with ``torch.load(weights_only=True)``,
which admits tensors and plain containers only (no pickle of arbitrary objects). A checkpoint
that fails either check, does not load, or belongs to another config, is moved aside (renamed
``*.bad``) with a message, and the one before it is used.
"""

from __future__ import annotations

import hashlib
import io
import sys
from pathlib import Path
from typing import Any, Dict, Optional

import torch

from .io import remove_stale_temps, write_atomic
from .rundir import CHECKPOINT_GLOB, checkpoint_name, checksum_of  # checksum_of re-exported: the file name has one owner

MAGIC = b"STANLEY-CHECKPOINT sha256="  # then 64 hex digits, a newline, and torch.save's bytes
_HEADER = len(MAGIC) + 64 + 1


class CorruptCheckpoint(ValueError):
    """The file is not a checkpoint written by :meth:`Checkpoints.save`, or its bytes changed since."""


def encode(payload: Dict[str, Any]) -> bytes:
    """``payload`` as torch.save's bytes, headed by their SHA-256."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    body = buffer.getvalue()
    return MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def decode(blob: bytes) -> Any:
    """The payload of :func:`encode`'s bytes; raises :class:`CorruptCheckpoint` before decoding
    anything when the header or the checksum is wrong."""
    if not blob.startswith(MAGIC) or len(blob) < _HEADER or blob[_HEADER - 1:_HEADER] != b"\n":
        raise CorruptCheckpoint("it has no checksum header (not written by this version of stanley, or truncated)")
    expected, body = blob[len(MAGIC):_HEADER - 1].decode("ascii", "replace"), blob[_HEADER:]
    if hashlib.sha256(body).hexdigest() != expected:
        raise CorruptCheckpoint("its SHA-256 does not match its content (corrupted or edited)")
    return torch.load(io.BytesIO(body), map_location="cpu", weights_only=True)


def save_tensors(path: Path, payload: Any) -> Path:
    """A run's ``model.pt`` or ``energies.pt``: written atomically, then its checksum beside it
    (a kill in between leaves no checksum: the file is refused and its job reruns)."""
    from .io import write_atomic, write_text

    buffer = io.BytesIO()
    torch.save(payload, buffer)
    body = buffer.getvalue()
    write_atomic(path, lambda tmp: Path(tmp).write_bytes(body))
    write_text(checksum_of(path), hashlib.sha256(body).hexdigest() + "\n")
    return Path(path)


def load_tensors(path: Path, device: str | torch.device = "cpu") -> Any:
    """A run's ``model.pt`` or ``energies.pt``: its checksum checked first, then tensors and plain
    containers only (weights_only); a file that is not one (truncated, edited, foreign, a pickle of
    objects) is one line of bad input."""
    from ..errors import ConfigError

    path, digest = Path(path), checksum_of(path)
    rerun = "rerun the training job that writes it"
    if not digest.is_file():
        raise ConfigError(f"{path} has no checksum ({digest.name}): not written by stanley train; {rerun}")
    body = path.read_bytes()
    if hashlib.sha256(body).hexdigest() != digest.read_text().strip():
        raise ConfigError(f"{path} does not match its checksum {digest.name} (corrupted or edited); {rerun}")
    try:
        return torch.load(io.BytesIO(body), map_location=device, weights_only=True)
    except Exception as error:  # unpickling refused, truncated zip, not a torch file
        raise ConfigError(f"{path} is not a weights file written by stanley train ({type(error).__name__}: "
                          f"{' '.join(str(error).split())[:100]}); {rerun}") from None


class Checkpoints:
    def __init__(self, directory: Path, config_hash: str, keep: int = 2, log=None):
        self.directory = Path(directory)
        self.config_hash = config_hash
        self.keep = keep
        self.log = log or (lambda message: print(message, file=sys.stderr))

    def path(self, iteration: int) -> Path:
        return self.directory / checkpoint_name(iteration)

    def save(self, iteration: int, payload: Dict[str, Any]) -> Path:
        blob = encode({**payload, "iteration": iteration, "config_hash": self.config_hash})
        path = write_atomic(self.path(iteration), lambda tmp: tmp.write_bytes(blob))
        for old in sorted(self.directory.glob(CHECKPOINT_GLOB))[: -self.keep]:
            old.unlink(missing_ok=True)
        return path

    def load_latest(self) -> Optional[Dict[str, Any]]:
        """The newest checkpoint that loads and matches this config, or ``None``."""
        if self.directory.is_dir():
            remove_stale_temps(self.directory)  # writes that were killed before their rename
        for path in sorted(self.directory.glob(CHECKPOINT_GLOB), reverse=True):
            try:
                payload = decode(path.read_bytes())
                problem = None
                if not isinstance(payload, dict) or "iteration" not in payload:
                    problem = "it is not a training checkpoint"
                elif payload.get("config_hash") != self.config_hash:
                    problem = (f"it was written for another config (hash {str(payload.get('config_hash'))[:40]}, "
                               f"this run is {self.config_hash})")
            except CorruptCheckpoint as error:
                problem = str(error)
            except Exception as error:  # any unreadable file: truncated, garbage, wrong format, unsafe types
                problem = f"it does not load ({type(error).__name__}: {' '.join(str(error).split())[:120]})"
            if problem is None:
                return payload
            aside = path.with_suffix(".pt.bad")
            path.replace(aside)
            self.log(f"stanley: checkpoint {path} set aside as {aside.name}: {problem}")
        return None
