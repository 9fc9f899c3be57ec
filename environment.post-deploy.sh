#!/usr/bin/env bash
# Run by `snakemake --sdm conda` inside the environment it built from environment.yml, from the
# working directory (this repository's root, where the workflow runs): the suite itself, without
# touching the packages environment.yml chose.
set -euo pipefail
python -m pip install --no-deps -e .
