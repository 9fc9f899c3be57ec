"""Presentation: tables gathered from runs, the figures, the claims ledger and the HTML report
with its templates and the papers' reference values."""
