"""Run plumbing: the run directory and results layout, atomic files, checkpoints, locks, safe
YAML, the GPU slot pool and provenance. No maths here: everything a crash or a kill must not
corrupt."""
