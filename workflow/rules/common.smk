# Shared by every rule file: the run matrix, resolved and checked by the library at DAG start.
import copy

import yaml
from snakemake.exceptions import WorkflowError

from stanley import config as suite_config
from stanley.errors import ConfigError

RESULTS = config.get("results", "results")
RUN_DIR = RESULTS + "/runs/{dataset}/{sampler}/seed{seed}"
REFERENCE = RESULTS + "/reference/{dataset}_{protocol}_{size}.npz"  # FID statistics, one per data set


def image_datasets(suite):
    return [d for d in suite["datasets"] if suite_config.data_kind(d) == "images"]


def with_fid_references(suite):
    """Each image data set's fid.reference defaults to its cached statistics under results/:
    the file name says the data set, the feature protocol and the size, so the suite's
    reference_stats rule makes it (docs/maths.md, FID). A reference given in the config wins."""
    suite = copy.deepcopy(suite)
    for dataset in image_datasets(suite):
        fragment = suite_config.deep_merge(suite.get("defaults") or {}, (suite.get("per_dataset") or {}).get(dataset) or {})
        fid = suite_config.deep_merge(suite_config.RUN_DEFAULTS["fid"], fragment.get("fid") or {})
        size = suite_config.deep_merge(suite_config.RUN_DEFAULTS["data"], fragment.get("data") or {})["image_size"]
        if fid["every"] and not fid["reference"]:
            protocol = "proxy" if fid["proxy"] else "inception"
            path = REFERENCE.format(dataset=dataset, protocol=protocol, size=size)
            suite["per_dataset"] = suite.get("per_dataset") or {}
            own = suite["per_dataset"][dataset] = suite["per_dataset"].get(dataset) or {}
            own["fid"] = {**(own.get("fid") or {}), "reference": path}
    return suite


try:
    suite_config.check_suite(config)
    RUNS = {
        (dataset, sampler, str(seed)): run
        for dataset, sampler, seed, run in suite_config.suite_runs(with_fid_references(config))
    }
    IMAGE_DATASETS = image_datasets(config)
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


# A GPU job runs inside a slot of the pool (stanley/slots.py): it sees only its own device.
SLOT = f"python -m stanley.slots --jobs-per-gpu {config.get('jobs_per_gpu', 1)} -- "


def slot_prefix(wildcards, resources):
    """The command prefix of a job that holds a GPU, for a params entry (resources, not wildcards:
    rules reused with `use rule` keep it whatever their wildcards)."""
    return SLOT if resources.gpu else ""


def samplers_of(dataset):
    return suite_config.samplers_of(config, dataset)


def dataset_run(dataset):
    """The first run config of a data set: its data, FID and model settings, shared by its runs."""
    return next(run for (d, _, _), run in RUNS.items() if d == dataset)


def seed_runs(dataset, samplers=None, seed=None):
    """Run directories of one seed (default the first) of a data set, its samplers in config order."""
    seed = str(min(config["seeds"]) if seed is None else seed)
    return [RUN_DIR.format(dataset=dataset, sampler=s, seed=seed) for s in samplers_of(dataset)
            if samplers is None or s in samplers]
