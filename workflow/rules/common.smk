# Shared by every rule file: the run matrix, resolved and checked by the library at DAG start.
import yaml
from snakemake.exceptions import WorkflowError

from stanley import config as suite_config
from stanley.errors import ConfigError

RESULTS = config.get("results", "results")
RUN_DIR = RESULTS + "/runs/{dataset}/{sampler}/seed{seed}"

try:
    RUNS = {
        (dataset, sampler, str(seed)): run
        for dataset, sampler, seed, run in suite_config.suite_runs(config)
    }
except ConfigError as error:
    raise WorkflowError(f"invalid config: {error}")


wildcard_constraints:
    dataset="[a-z0-9_]+",
    sampler="[a-z_]+",
    seed=r"\d+",


def run_dirs(dataset=None):
    return [
        RUN_DIR.format(dataset=d, sampler=s, seed=seed)
        for (d, s, seed) in RUNS
        if dataset is None or d == dataset
    ]


def run_config(wildcards):
    key = (wildcards.dataset, wildcards.sampler, wildcards.seed)
    if key not in RUNS:
        raise WorkflowError(f"{'/'.join(key)} is not a run of this config's matrix")
    return RUNS[key]


def uses_gpu(dataset):
    """The config's `gpu` is a bool, or the list of datasets whose jobs each take one GPU."""
    gpu = config.get("gpu", False)
    return dataset in gpu if isinstance(gpu, list) else bool(gpu)
