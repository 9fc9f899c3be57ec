"""When a run does each of its periodic things, decided once from its config.

Each kind has its own period and one end rule: it is due at the multiples of its period and at
the run's last iteration, so a run whose length is not a multiple still ends with a metrics row,
an evaluation, a snapshot, an FID and a checkpoint. Evaluation and snapshots are also due at
iteration 0 (the untrained model); metrics, FID and checkpoints follow a learning step, so not.
Periods are independent: changing ``fid.every`` moves FID rows only, never the snapshots that
Figures 1-3 show. Torch-free, so the schedule of a config can be listed without training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, List

KINDS = ("metrics", "eval", "snapshot", "fid", "checkpoint")
"""metrics.csv rows, eval.csv rows (toys: and the weights in energies.pt), samples.npz snapshots,
fid.csv rows, training checkpoints."""
AT_START = frozenset({"eval", "snapshot"})


@dataclass(frozen=True)
class Schedule:
    iterations: int
    periods: Dict[str, int]
    """Period per kind; 0 means never (FID off)."""

    @classmethod
    def of(cls, run: Dict[str, Any]) -> "Schedule":
        """The schedule of a complete run config (``evaluation.snapshot_every: null`` follows ``evaluation.every``)."""
        training, evaluation = run["training"], run["evaluation"]
        return cls(training["iterations"], {
            "metrics": training["log_every"],
            "eval": evaluation["every"],
            "snapshot": evaluation["snapshot_every"] or evaluation["every"],
            "fid": run["fid"]["every"],
            "checkpoint": training["checkpoint_every"],
        })

    def is_due(self, kind: str, iteration: int) -> bool:
        period = self.periods[kind]
        if not period or not 0 <= iteration <= self.iterations:
            return False
        if iteration == 0:
            return kind in AT_START
        return iteration % period == 0 or iteration == self.iterations

    def due(self, iteration: int) -> FrozenSet[str]:
        """The kinds due at ``iteration``."""
        return frozenset(kind for kind in KINDS if self.is_due(kind, iteration))

    def iterations_of(self, kind: str) -> List[int]:
        """Every iteration of a whole run at which ``kind`` is due (for tests, docs and plans)."""
        period = self.periods[kind]
        if not period:
            return []
        found = set(range(period, self.iterations + 1, period)) | {self.iterations}
        return sorted(found | ({0} if kind in AT_START else set()))
