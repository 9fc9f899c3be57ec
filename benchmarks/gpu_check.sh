#!/usr/bin/env bash
# The GPU check (README, "The GPU check"): one table in under 8 minutes on a GPU machine that has
# Python, PyTorch and this tree. Packages the machine lacks come from wheels brought in .whl/.
# Exit status: 0 all ran, 1 a step failed or timed out (the table says which), 2 nothing measured.
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
BUDGET="${GPU_CHECK_BUDGET:-470}"  # seconds for everything below, wheel install included

command -v "$PY" >/dev/null 2>&1 || { echo "gpu_check: no $PY here; set PYTHON=/path/to/python"; exit 2; }
timeout 120 "$PY" -c 'import torch' >/dev/null 2>&1 \
  || { echo "gpu_check: $PY cannot import torch; install a CUDA build of PyTorch first"; exit 2; }

started=$SECONDS
if [ -d .whl ] && ! timeout 120 "$PY" benchmarks/gpu_check.py --missing >/dev/null 2>&1; then
  site="${TMPDIR:-/tmp}/stanley-gpu-check-site"
  # --no-deps: the list is complete (benchmarks/gpu_check_requirements.txt), and torch must stay the machine's
  timeout 180 "$PY" -m pip install --quiet --disable-pip-version-check --no-index --no-deps \
      --find-links .whl --target "$site" --upgrade -r benchmarks/gpu_check_requirements.txt >/dev/null 2>&1 \
    || echo "gpu_check: note: pip could not install every wheel from .whl/ (wrong Python version or platform?)" >&2
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
left=$(( BUDGET - (SECONDS - started) ))
# the outer timeout is a backstop: the check keeps to --budget itself, step by step
exec timeout -k 5 "$(( left + 10 ))" "$PY" benchmarks/gpu_check.py --budget "$(( left - 5 ))" "$@"
