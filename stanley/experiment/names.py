"""How every name the suite uses reaches a reader: the display spelling of each sampler, data set
and metric, the order samplers are listed in, and each sampler's colour.

One owner, so a reader never sees "stanley" beside "STANLEY": figures, tables, the claims
ledger, the report and the diagnostics all go through :func:`display`. It lives with the
experiment's other names (:mod:`.options`, :mod:`.readings`) because every layer that shows a
name needs it, the diagnostics' figures included; plain data, no plotting library.
"""

from __future__ import annotations

from typing import List, Sequence

from . import readings

ORDER = (*readings.NAMES, "langevin", "mala", "stanley_mh", "hmc", "gd")
"""Every sampler, STANLEY and Langevin first as in the paper."""
LABELS = {
    **readings.LABELS, "langevin": "Langevin", "mala": "MH (MALA)",
    "stanley_mh": "STANLEY + MH", "hmc": "HMC", "gd": "GD (no noise)",
    "cifar10": "CIFAR-10", "flowers102": "Flowers 102", "celeba": "CelebA",
    "kl": "KL(target || model)", "tv": "total variation", "sliced_w2": "sliced W2", "fid": "FID",
}
"""The one display spelling of every sampler, data set and metric name."""
IMAGE_ORDER = ("langevin", "stanley", "mala", "hmc", "gd")
"""The order of the paper's Figure 3 (1: Langevin, 2: STANLEY, 3: MH, 4: HMC, 5: GD)."""
PAPER_NAMES = {"mh": "mala"}
"""The authors' logs call our mala "mh"."""
AXES = {"training.mcmc_steps": "K (sampler steps per iteration)", "data.noise": "data noise sigma"}
"""How a study's swept run-config key is named on an axis or a column."""

COLOURBLIND = ("#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161", "#fbafe4", "#949494",
               "#ece133", "#56b4e9")  # seaborn's "colorblind" palette, spelt out so no plotting library loads
_COLOURS = {"stanley": 0, "stanley_code": 3, "stanley_toy": 5, "langevin": 1, "mala": 2, "stanley_mh": 9,
            "hmc": 4, "gd": 7}
PALETTE = {name: COLOURBLIND[_COLOURS.get(name, 6)] for name in ORDER}
"""Colour-blind safe and pairwise distinct: STANLEY + MH a lighter blue beside STANLEY, the other
readings of STANLEY red and brown, GD grey (a name added to ORDER alone gets pink)."""


def display(name: object) -> str:
    """The display name of a sampler or data set; a variant keeps its suffix ("stanley[norm=pixel]"
    -> "STANLEY (paper text)[norm=pixel]"); unknown names pass through."""
    name = str(name)
    if name in LABELS:
        return LABELS[name]
    for key in sorted(LABELS, key=len, reverse=True):
        if name.startswith(key) and name[len(key)] in "[ ":
            suffix = name[len(key):]  # a variant ("[norm=pixel]") or a gloss (" (paper text)") the label may hold
            return LABELS[key] if LABELS[key].endswith(suffix) else LABELS[key] + suffix
    return name


def sampler_order(names: Sequence[str]) -> List[str]:
    """STANLEY and Langevin first, as in the paper; unknown names after, alphabetically."""
    known = [n for n in ORDER if n in names]
    return known + sorted(set(names) - set(known))


def image_order(names: Sequence[str]) -> List[str]:
    """The paper's Figure 3 order, then any other sampler as :func:`sampler_order` puts it."""
    known = [n for n in IMAGE_ORDER if n in names]
    return known + [n for n in sampler_order(names) if n not in known]
