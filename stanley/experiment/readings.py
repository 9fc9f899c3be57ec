"""The readings of STANLEY, each a named sampler the matrix can run beside the others.

The paper leaves STANLEY's step ambiguous (the size of g in gamma, the noise, the drift) and the
authors' released scripts each settle it differently. A reading is a STANLEY kernel with those
switches pinned, under a name of its own, so that its runs sit in their own rows of every figure
and table, never mistaken for another reading. Kept free of torch: the workflow and the report
read the names and labels without loading the kernels.
"""

from __future__ import annotations

from typing import Any, Dict

KERNEL = "stanley"
"""The kernel every reading builds (stanley.sampling.samplers): the unadjusted STANLEY step."""

PINNED: Dict[str, Dict[str, Any]] = {
    # the paper's text (eqs. 4-5): per-coordinate |g|, drift and noise both scaled by gamma;
    # nothing pinned, so the ablation can still turn each switch of this one
    "stanley": {},
    # the authors' image trainer (BelhalK/baiduresearch, Code/PaddlePaddle/Done/STANLEY/main.py):
    # gamma from each pixel's gradient norm over channels, the drift left unscaled, the noise
    # multiplied by gamma itself; its th and eps come from the command line, so ours stay shared
    "stanley_code": {"norm": "pixel", "drift": "unscaled", "noise_power": 1.0, "noise_sd": "langevin"},
    # the authors' toy script (Code/g)EBM/ebm-anatomy-toy/train_toy.py, mcmcmethod anilangevin):
    # gamma from each sample's gradient norm, drift gamma * g (s = 2 in our form), noise of sd
    # sqrt(gamma) with no eps at all, and its config's threshold 0.001
    "stanley_toy": {"norm": "sample", "drift": "scaled", "noise_power": 0.5, "noise_sd": "unit",
                    "threshold": 0.001},
}
"""Each reading's pinned options: a suite's shared option pool never overrides them."""

READS = {"stanley": "paper text", "stanley_code": "authors' image code", "stanley_toy": "authors' toy script"}
"""What each reading follows, in a few words (the claims ledger's reading column)."""
LABELS = {name: f"STANLEY ({words})" for name, words in READS.items()}
"""How figures and tables name each reading."""

SOURCES = {
    "stanley": "the paper's text, eqs. 4-5 and Algorithm 1",
    "stanley_code": "BelhalK/baiduresearch, Code/PaddlePaddle/Done/STANLEY/main.py (anilangevin)",
    "stanley_toy": "BelhalK/baiduresearch, Code/g)EBM/ebm-anatomy-toy/train_toy.py (anilangevin)",
}

NAMES = tuple(PINNED)
