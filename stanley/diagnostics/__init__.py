"""Numerical checks of Theorem 1 (drift, small set, uniformity in theta), of Corollary 1's
geometric rate, and of mixing (ESS, R-hat), on toy targets with exact densities.

Modules, one idea each: :mod:`.probes` (the points where the drift is measured),
:mod:`.drift` (Pi V / V by Monte Carlo), :mod:`.minorisation` (the small-set constant),
:mod:`.uniformity` (the theta-free V on a training run's energies), :mod:`.rate`
(distance to the target per step), :mod:`.geometric` (fitting rho), :mod:`.ess` (bulk/tail
ESS and rank-normalised split R-hat), :mod:`.mixing` (chains for them), :mod:`.verdicts`
(the table), :mod:`.figures` and :mod:`.suite` (the config block), :mod:`.cli`. The report's section on
them is the presentation's (:mod:`stanley.presentation.theorem`): the diagnostics import nothing
from the presentation layer.

Importing this package does not import torch: the report and the summaries need only pandas.
"""
