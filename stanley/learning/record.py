"""What a run has produced so far, and its files: the rows of metrics.csv, eval.csv and fid.csv,
the snapshots of samples.npz and (toys) the weights at each evaluation.

The whole record travels in every checkpoint, so a resumed run ends with the tables of an
uninterrupted one; :meth:`Record.write` writes it through :class:`stanley.plumbing.rundir.RunDir`
when the run ends.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional

import numpy as np
import pandas as pd
import torch

from ..plumbing.checkpoints import save_tensors
from ..plumbing.io import write_atomic, write_csv, write_json, write_yaml
from ..plumbing.rundir import RunDir

METRICS = ["iteration", "energy_diff", "loss", "grad_norm", "movement", "wall_time"]  # the columns every sampler has


def metrics_row(values: Dict[str, torch.Tensor], iteration: int, elapsed: float) -> Dict[str, Any]:
    """One metrics.csv row from an iteration's values (what each sampler reports, reduced)."""
    row: Dict[str, Any] = {"iteration": iteration}
    row["energy_diff"] = float(values["f_data"] - values["f_model"])
    row["loss"] = float(values["loss"])
    row["grad_norm"] = float(values["grad_norm"].mean())
    row["movement"] = float(values["movement"])  # mean |z_K - z_0| per coordinate: do the chains move?
    for key in ("kl_loss", "entropy_loss"):
        if key in values:
            row[key] = float(values[key])
    for key in ("acceptance", "gamma_mean", "divergent"):
        if key in values:
            row[key] = float(values[key].mean())
    if "gamma_min" in values:
        row["gamma_min"] = float(values["gamma_min"].min())
    row["wall_time"] = round(elapsed, 3)
    return row


class Record:
    def __init__(self) -> None:
        self.metrics: List[Dict[str, Any]] = []
        self.evals: List[Dict[str, Any]] = []
        self.fids: List[Dict[str, Any]] = []
        self.snapshots: Dict[int, Dict[str, np.ndarray]] = {}
        self.energies: Dict[int, Dict[str, torch.Tensor]] = {}

    def state_dict(self) -> Dict[str, Any]:
        return {
            "metrics": self.metrics, "evals": self.evals, "fids": self.fids,
            "snapshots": {i: {k: torch.from_numpy(v) for k, v in s.items()} for i, s in self.snapshots.items()},
            "energies": self.energies,  # tensors and plain types only: checkpoints load with weights_only
        }

    def load_state_dict(self, payload: Dict[str, Any]) -> None:
        self.metrics, self.evals, self.fids = payload["metrics"], payload["evals"], payload["fids"]
        self.snapshots = {i: {k: v.numpy() for k, v in s.items()} for i, s in payload["snapshots"].items()}
        self.energies = payload["energies"]

    def keep_weights(self, iteration: int, net: torch.nn.Module) -> None:
        """Toys: the evaluated network at an evaluation (Theorem 1's family, energies.pt)."""
        self.energies[iteration] = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}

    def write(self, files: RunDir, run: Dict[str, Any], provenance: Dict[str, Any], constants: Dict[str, np.ndarray],
              model: Optional[torch.nn.Module], fid_columns: Optional[List[str]]) -> None:
        """Every file atomically, ``metrics.csv`` last: its presence means the run is complete.
        ``constants`` go into samples.npz beside the snapshots; ``model`` (images: the weights
        evaluation used) into model.pt; ``fid_columns`` is None when the run has no FID."""
        write_yaml(files.config, run)
        iterations = sorted(self.snapshots)
        arrays = {"samples": self.snapshots[iterations[-1]]["samples"], "snapshot_iterations": np.array(iterations)}
        for key in self.snapshots[iterations[-1]]:
            arrays[f"snapshot_{key}"] = np.stack([self.snapshots[i][key] for i in iterations])
        arrays.update(constants)
        write_atomic(files.samples, lambda tmp: np.savez_compressed(open(tmp, "wb"), **arrays))
        if self.energies:
            save_tensors(files.energies, copy.deepcopy(self.energies))
        if model is not None:
            save_tensors(files.model, model.state_dict())
        if fid_columns is not None:
            write_csv(files.fid, pd.DataFrame(self.fids, columns=fid_columns))
        write_csv(files.eval, pd.DataFrame(self.evals))
        write_json(files.provenance, provenance)
        write_csv(files.metrics, pd.DataFrame(self.metrics or None, columns=None if self.metrics else METRICS))
