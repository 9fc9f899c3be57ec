"""Training checkpoints: written atomically, verified on load, the newest good one wins.

A checkpoint that does not load, or belongs to another config, is moved aside (renamed
``*.bad``) with a message, and the one before it is used.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, Optional

import torch

from .io import write_atomic

PATTERN = "ckpt_*.pt"


class Checkpoints:
    def __init__(self, directory: Path, config_hash: str, keep: int = 2, log=None):
        self.directory = Path(directory)
        self.config_hash = config_hash
        self.keep = keep
        self.log = log or (lambda message: print(message, file=sys.stderr))

    def path(self, iteration: int) -> Path:
        return self.directory / f"ckpt_{iteration:09d}.pt"

    def save(self, iteration: int, payload: Dict[str, Any]) -> Path:
        payload = {**payload, "iteration": iteration, "config_hash": self.config_hash}
        path = write_atomic(self.path(iteration), lambda tmp: torch.save(payload, tmp))
        for old in sorted(self.directory.glob(PATTERN))[: -self.keep]:
            old.unlink(missing_ok=True)
        return path

    def load_latest(self) -> Optional[Dict[str, Any]]:
        """The newest checkpoint that loads and matches this config, or ``None``."""
        for stale in self.directory.glob(".ckpt_*.tmp"):  # a write that was killed before its rename
            stale.unlink(missing_ok=True)
        for path in sorted(self.directory.glob(PATTERN), reverse=True):
            try:
                payload = torch.load(path, map_location="cpu", weights_only=False)
                problem = None
                if not isinstance(payload, dict) or "iteration" not in payload:
                    problem = "it is not a training checkpoint"
                elif payload.get("config_hash") != self.config_hash:
                    problem = (f"it was written for another config (hash {payload.get('config_hash')}, "
                               f"this run is {self.config_hash})")
            except Exception as error:  # any unreadable file: truncated, garbage, wrong format
                problem = f"it does not load ({type(error).__name__}: {str(error)[:120]})"
            if problem is None:
                return payload
            aside = path.with_suffix(".pt.bad")
            path.replace(aside)
            self.log(f"stanley: checkpoint {path} set aside as {aside.name}: {problem}")
        return None
