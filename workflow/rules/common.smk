# The shared part of the workflow, included first. It types and checks the config at DAG start,
# resolves the run matrix through the library and holds each function the rules call.
import copy
import os
import re
import shlex

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from stanley.experiment import config as suite_config
from stanley.images import fid as fid_lib
from stanley.experiment import ablation as ablation_lib
from stanley.experiment import studies as studies_lib
from stanley.experiment import tuning as tuning_lib
from stanley.diagnostics import suite as diagnostics_suite
from stanley.errors import ConfigError


def yaml_typed(value):
    """A --config value as YAML would type it: Snakemake reads `seeds=[0]` as ['0'], so each
    string inside becomes the number, boolean or null it spells (other strings stay strings).
    """
    if isinstance(value, dict):
        return {key: yaml_typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [yaml_typed(item) for item in value]
    if isinstance(value, str):
        try:
            typed = yaml.safe_load(value)
        except yaml.YAMLError:
            return value
        return (
            typed if typed is None or isinstance(typed, (bool, int, float)) else value
        )
    return value


def apply_typed_overrides(config, overrides):
    """Re-apply the command line's --config entries, typed; nested mappings merge as Snakemake's do."""
    for key, value in overrides.items():
        typed = yaml_typed(value)
        both_maps = isinstance(typed, dict) and isinstance(config.get(key), dict)
        config[key] = (
            suite_config.deep_merge(config[key], typed) if both_maps else typed
        )


# what a results folder may not hold: control characters, Snakemake's wildcard braces and the
# characters a shell treats specially (every path is quoted in the rules; this is the second guard)
UNSAFE_PATH = re.compile(r"[\x00-\x1f\x7f{}$`;&|<>*?!\"'\\]")


def checked_results(value):
    """The `results` key: a relative or absolute folder name, safe to show to a shell."""
    if not isinstance(value, str) or not value.strip() or UNSAFE_PATH.search(value):
        raise WorkflowError(
            f"invalid config: results must be a folder path without control characters, quotes, braces "
            f"or any of $`;&|<>*?!\\ (spaces are fine), got {value!r:.80}"
        )
    return os.path.normpath(value)


def validate_in_one_line(config, schema):
    """The schema's check, its first complaint in one bounded line (not the schema dump)."""
    try:
        validate(config, schema)
    except WorkflowError as error:
        cause = error.__context__  # jsonschema's ValidationError
        if not hasattr(cause, "absolute_path"):
            raise
        where = ".".join(map(str, cause.absolute_path)) or "the top level"
        raise WorkflowError(f"invalid config: {where}: {cause.message:.300}") from None


apply_typed_overrides(config, workflow.config_settings.config)
validate_in_one_line(config, "../schemas/config.schema.yaml")
RESULTS = checked_results(config.get("results", "results"))


def in_results(path):
    """`path` (wildcards kept) under the config's results folder."""
    return os.path.join(RESULTS, path)


RUN_DIR = in_results("runs/{dataset}/{sampler}/seed{seed}")
REFERENCE = in_results("reference/{dataset}_{protocol}_{size}.npz")  # FID statistics
FIGURE_CODE = "stanley/presentation/figures.py"
DIAG_CODE = "stanley/diagnostics/figures.py"
PAPER_CURVES = "stanley/presentation/reference/paper_fid_curves.csv"  # the authors' FID logs, drawn dashed
BEYOND_PAPER = "stanley/presentation/reference/beyond_paper.csv"  # the printed values of the short-run and Improved CD papers
ENVIRONMENT = (
    "../../environment.yml"  # every rule's software (conda: relative to rules/)
)


def write_config(path, text, log):
    """A run config or study spec written whole (the rules that call this run no shell)."""
    from stanley.plumbing.io import write_text

    write_text(path, text)
    write_text(log, f"wrote {path}\n")


def parent(path):
    """The folder of a rule's output file: for a params entry (a folder, not a declared file)."""
    return lambda wildcards, output: os.path.dirname(
        output[path] if isinstance(path, str) else output[0]
    )


# --------------------------------------------------------------------------- the run matrix


def image_datasets(suite):
    return [d for d in suite["datasets"] if suite_config.data_kind(d) == "images"]


def with_fid_references(suite):
    """Each image data set's fid.reference defaults to its cached statistics under results/:
    the file name says the data set, the feature protocol and the size, so that the
    reference_stats job makes it (docs: FID). A reference given in the config wins."""
    suite = copy.deepcopy(suite)
    for dataset in image_datasets(suite):
        fragment = suite_config.deep_merge(
            suite.get("defaults") or {},
            (suite.get("per_dataset") or {}).get(dataset) or {},
        )
        fid = suite_config.deep_merge(
            suite_config.RUN_DEFAULTS["fid"], fragment.get("fid") or {}
        )
        size = suite_config.deep_merge(
            suite_config.RUN_DEFAULTS["data"], fragment.get("data") or {}
        )["image_size"]
        if fid["every"] and not fid["reference"]:
            protocol = "proxy" if fid["proxy"] else "inception"
            path = REFERENCE.format(dataset=dataset, protocol=protocol, size=size)
            suite["per_dataset"] = suite.get("per_dataset") or {}
            own = suite["per_dataset"][dataset] = (
                suite["per_dataset"].get(dataset) or {}
            )
            own["fid"] = {**(own.get("fid") or {}), "reference": path}
    return suite


try:
    suite_config.check_suite(config)
    RUNS = {
        (dataset, sampler, str(seed)): run
        for dataset, sampler, seed, run in suite_config.suite_runs(
            with_fid_references(config)
        )
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
        raise WorkflowError(f"{'|'.join(key)} is not a run of this config's matrix")
    return RUNS[key]


def run_yaml(run):
    """A run config as the text of its run.yaml (the run_config rule writes it)."""
    return yaml.safe_dump(run, sort_keys=True)


def uses_gpu(dataset):
    """The config's `gpu` is a bool, or the list of datasets whose jobs each take one GPU."""
    gpu = config.get("gpu", False)
    return dataset in gpu if isinstance(gpu, list) else bool(gpu)


# A GPU job runs inside a slot of the pool (stanley/plumbing/slots.py): it sees only its own device.
SLOT = f"python -m stanley.plumbing.slots --jobs-per-gpu {int(config.get('jobs_per_gpu', 1))} -- "


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
    return [
        RUN_DIR.format(dataset=dataset, sampler=s, seed=seed)
        for s in samplers_of(dataset)
        if samplers is None or s in samplers
    ]


# --------------------------------------------------------------------------- data and FID
# Real image data sets and the Inception weights are fetched where the internet is reachable and
# checked where it is not (`stanley download`: a no-op on complete files).

DOWNLOADABLE = [d for d in IMAGE_DATASETS if d != "shapes"]  # shapes is drawn in memory
DATA_CHECKED = in_results("data/{dataset}.checked")


def data_stamp(dataset):
    return DATA_CHECKED.format(dataset=dataset)


def inception_file(run):
    """The weights file a run's FID loads: fid.inception, else $STANLEY_INCEPTION, else the cache."""
    return str(fid_lib.inception_path(run["fid"]["inception"]))


INCEPTION_FILES = sorted(
    {
        inception_file(run)
        for (d, _, _), run in RUNS.items()
        if d in IMAGE_DATASETS and run["fid"]["every"] and not run["fid"]["proxy"]
    }
)


def one_of(names):
    """A wildcard constraint matching exactly these names (none: a pattern that never matches)."""
    return "|".join(map(re.escape, names)) or "(?!x)x"


def reference_inputs(wildcards):
    inputs = (
        {"data": data_stamp(wildcards.dataset)}
        if wildcards.dataset in DOWNLOADABLE
        else {}
    )
    if wildcards.protocol == "inception":
        inputs["inception"] = ancient(inception_file(dataset_run(wildcards.dataset)))
    return inputs


def reference_args(wildcards, output):
    run = dataset_run(wildcards.dataset)
    spec = run["data"]
    args = ["--dataset", wildcards.dataset, "--root", spec["root"], "--image-size", wildcards.size,
            "--device", "cuda" if uses_gpu(wildcards.dataset) else "cpu", "--out", output[0],
            "--split", spec["split"]]  # fmt: skip
    if spec["limit"]:
        args += ["--limit", str(spec["limit"])]
    if not spec["verify"]:
        args += ["--no-verify"]
    if wildcards.protocol == "proxy":
        args += ["--proxy"]
    else:
        args += ["--inception", inception_file(run)]
    return shlex.join(args)


# --------------------------------------------------------------------------- training


def run_inputs(dataset, run):
    """An image run needs its data set checked, its FID reference statistics and, for the real
    FID, the Inception weights (ancient: a re-downloaded file never retrains anything).
    """
    if dataset not in IMAGE_DATASETS:
        return {}
    inputs = {"data": data_stamp(dataset)} if dataset in DOWNLOADABLE else {}
    if run["fid"]["every"]:
        inputs["reference"] = run["fid"]["reference"]
        if not run["fid"]["proxy"]:
            inputs["inception"] = ancient(inception_file(run))
    return inputs


def train_inputs(wildcards):
    """A matrix run's inputs, and the tuning stage's choice when tuning is on."""
    dataset = wildcards.dataset
    inputs = {"config": f"{RUN_DIR}/run.yaml".format(**wildcards)}
    if dataset in IMAGE_DATASETS:
        inputs.update(run_inputs(dataset, run_config(wildcards)))
    return {**inputs, **tuning_input(dataset, wildcards.sampler)}


def tuned_flag(wildcards, input):
    """` --tuned CHOICE` for a run whose step the tuning stage chose ('' when tuning is off)."""
    return f" --tuned {shlex.quote(input.tuned)}" if "tuned" in input.keys() else ""


# --------------------------------------------------------------------------- tuning
# Per (data set, sampler), one short pilot per point of the declared grid, scored at its end;
# `stanley tune` picks each sampler's point by the declared rule (stanley/experiment/tuning.py), and every
# run of that data set and sampler (matrix, study, ablation) trains with it. `tuning: {enabled:
# false}` (or no tuning block) trains the configured values as given.

try:
    TUNING = tuning_lib.check(config)
    PILOTS = tuning_lib.pilots(with_fid_references(config))
    TUNING_BUDGET = (
        tuning_lib.budget(with_fid_references(config), PILOTS) if TUNING else {}
    )
except ConfigError as error:
    raise WorkflowError(f"invalid config: {error}")

PILOT_DIR = in_results("tuning/{dataset}/{sampler}/{point}")
TUNING_DIR = in_results("tuning/{dataset}")


def tuning_input(dataset, sampler):
    """The choice file a run of (dataset, sampler) trains with, as a named input ({} when off)."""
    if not TUNING or not any(d == dataset and s == sampler for d, s, _ in PILOTS):
        return {}
    return {"tuned": os.path.join(TUNING_DIR.format(dataset=dataset), "choice.yaml")}


def pilot_keys(dataset):
    return [key for key in PILOTS if key[0] == dataset]


def pilot_run(wildcards):
    key = (wildcards.dataset, wildcards.sampler, wildcards.point)
    if key not in PILOTS:
        raise WorkflowError(
            f"{'|'.join(key)} is not a pilot of this config's tuning grid"
        )
    return PILOTS[key]


def pilot_dirs(dataset):
    return [
        PILOT_DIR.format(dataset=d, sampler=s, point=p)
        for d, s, p in pilot_keys(dataset)
    ]


def tune_args(wildcards, output):
    """`stanley tune`'s arguments, quoted: the pilots, their grid points and the budget."""
    keys = pilot_keys(wildcards.dataset)
    args = ["--pilots", *pilot_dirs(wildcards.dataset), "--points", *[p for _, _, p in keys],
            "--fraction", str(TUNING_BUDGET[wildcards.dataset]),
            "--tolerance", str(TUNING.get("tolerance", 0.02)),
            "--out", os.path.dirname(output.choice)]  # fmt: skip
    return shlex.join(args)


# --------------------------------------------------------------------------- figures
# Figures 2-5: the paper's image figures, each from the data set(s) the config's `figures` names
# (the paper's by default; the smoke config draws them all from the stand-in shapes set).
IMAGE_FIGURES = {
    "fig2": ["flowers102"],
    "fig3": ["cifar10"],
    "fig4": ["flowers102", "cifar10"],
    "fig5": ["celeba"],
    **(config.get("figures") or {}),
}
GRID_SAMPLERS = {
    "fig2": ["langevin", "stanley"],
    "fig3": None,
}  # Figure 3: every sampler


def fid_on(dataset):
    return all(run["fid"]["every"] for (d, _, _), run in RUNS.items() if d == dataset)


def image_figure_drawn(name):
    datasets = IMAGE_FIGURES[name]
    return bool(datasets) and all(
        d in IMAGE_DATASETS and (name in GRID_SAMPLERS or fid_on(d)) for d in datasets
    )


def grid_runs(name):
    return [
        run for d in IMAGE_FIGURES[name] for run in seed_runs(d, GRID_SAMPLERS[name])
    ]


def curve_runs(name):
    return [run for d in IMAGE_FIGURES[name] for run in run_dirs(d)]


def fig6_inputs(wildcards):
    """STANLEY against Langevin, as in the paper (the first seed); else whatever two were run."""
    seed = min(config["seeds"])
    shown = [s for s in ("stanley", "langevin") if s in inpainting_samplers()]
    shown = shown or inpainting_samplers()[:2]
    return [
        f"{INPAINT_DIR}/inpainting.npz".format(
            dataset=INPAINTING["dataset"], sampler=s, seed=seed
        )
        for s in shown
    ]


def image_figures():
    drawn = [
        in_results(f"figures/{name}.png")
        for name in IMAGE_FIGURES
        if image_figure_drawn(name)
    ]
    return drawn + ([in_results("figures/fig6.png")] if inpainting_samplers() else [])


# --------------------------------------------------------------------------- inpainting
# Image inpainting (the paper's Figure 6): each trained model of the inpainting data set fills
# a masked centre square of its test images with its own sampler.
INPAINTING = {"dataset": "celeba", "n": 100, **(config.get("inpainting") or {})}
INPAINT_DIR = in_results("inpainting/{dataset}/{sampler}/seed{seed}")


def inpainting_samplers():
    dataset = INPAINTING["dataset"]
    if dataset not in IMAGE_DATASETS:
        return []
    chosen = INPAINTING.get("samplers")
    unknown = sorted(set(chosen or []) - set(samplers_of(dataset)))
    if unknown:
        raise WorkflowError(
            f"invalid config: inpainting.samplers names {unknown}, not samplers of {dataset}: "
            f"{samplers_of(dataset)}"
        )
    return [s for s in samplers_of(dataset) if chosen is None or s in chosen]


def inpainting_dirs(seeds=None):
    return [
        INPAINT_DIR.format(dataset=INPAINTING["dataset"], sampler=s, seed=seed)
        for s in inpainting_samplers()
        for seed in (seeds or config["seeds"])
    ]


def inpaint_options(wildcards):
    options = ["--n", str(INPAINTING["n"])]
    for key in ("mask", "steps"):
        if INPAINTING.get(key):
            options += [f"--{key}", str(INPAINTING[key])]
    return shlex.join(options)


# --------------------------------------------------------------------------- diagnostics
# Theorem 1 diagnostics on the toy targets, and uniformity in theta on the rings training runs.
# The library turns the `diagnostics` config block into each command line
# (stanley.diagnostics.suite.argv), so the workflow and `suite.run` issue the same commands.
DIAG_DIR = in_results("diagnostics")

try:
    DIAGNOSTICS = diagnostics_suite.check(config.get("diagnostics"))
except ConfigError as error:
    raise WorkflowError(f"invalid diagnostics config: {error}")

DIAG_TARGETS = list(DIAGNOSTICS["targets"])


def diagnostics_runs():
    """{sampler: run dir} of the training runs the uniformity check reads (those in the matrix)."""
    u = DIAGNOSTICS["uniformity"]
    if (
        u is None
        or u["dataset"] not in config["datasets"]
        or u["seed"] not in config["seeds"]
    ):
        return {}
    return {
        s: RUN_DIR.format(dataset=u["dataset"], sampler=s, seed=u["seed"])
        for s in u["samplers"]
        if s in config["samplers"]
    }


def diagnostics_tables(kind):
    return expand(f"{DIAG_DIR}/{{kind}}/{{target}}.csv", kind=kind, target=DIAG_TARGETS)


def uniformity_tables():
    return expand(
        f"{DIAG_DIR}/uniformity/{{sampler}}.csv", sampler=list(diagnostics_runs())
    )


def diagnostics_plot_inputs(wildcards):
    if wildcards.diag_plot == "uniformity":
        return uniformity_tables()
    return diagnostics_tables(wildcards.diag_plot)


def diagnose_args(wildcards, output):
    argv = diagnostics_suite.argv(
        DIAGNOSTICS, wildcards.diag_kind, wildcards.diag_target, output[0], threads=1
    )
    return shlex.join(argv)


def uniformity_args(wildcards, output):
    argv = diagnostics_suite.uniformity_argv(
        DIAGNOSTICS,
        diagnostics_runs()[wildcards.diag_sampler],
        output[0],
        label=wildcards.diag_sampler,
        threads=1,
    )
    return shlex.join(argv)


# --------------------------------------------------------------------------- the ambiguity ablation
# STANLEY's ambiguous steps (docs: the paper's ambiguities), one switch at a time, on each data set
# the config names, against the matrix's own paper-reading runs of that data set.
try:
    ABLATION_SPEC = ablation_lib.check(config)  # {dataset: {sampler, seeds, switches}}
    ABLATION = ablation_lib.variants(with_fid_references(config))
except ConfigError as error:
    raise WorkflowError(f"invalid config: {error}")

ABLATION_DIR = in_results("ablation/{dataset}/{variant}/seed{seed}")
ABLATION_TABLES = in_results("tables/ablation/{dataset}")


def ablation_dirs(dataset):
    """Every variant run of a data set, and the matrix's runs they are shown beside: the paper's
    reading (the reference) and the other readings of STANLEY (all their switches together).
    """
    spec = ABLATION_SPEC[dataset]
    paper = [
        RUN_DIR.format(dataset=dataset, sampler=sampler, seed=seed)
        for sampler in [spec["sampler"], *spec["readings"]]
        for seed in spec["seeds"]
    ]
    variants = [
        ABLATION_DIR.format(dataset=dataset, variant=v, seed=s)
        for v, runs in ABLATION[dataset].items()
        for s in runs
    ]
    return paper + variants


def ablation_run(wildcards):
    runs = ABLATION.get(wildcards.dataset, {}).get(wildcards.variant, {})
    if int(wildcards.seed) not in runs:
        key = f"{wildcards.dataset}|{wildcards.variant}|{wildcards.seed}"
        raise WorkflowError(f"{key} is not a run of this config's ablation")
    return runs[int(wildcards.seed)]


def ablation_inputs(wildcards):
    """A variant run's inputs: its config, an image set's data and FID files, the tuning choice."""
    dataset = wildcards.dataset
    return {
        "config": f"{ABLATION_DIR}/run.yaml".format(**wildcards),
        **run_inputs(dataset, ablation_run(wildcards)),
        **tuning_input(dataset, ABLATION_SPEC[dataset]["sampler"]),
    }


# --------------------------------------------------------------------------- studies
# Studies beyond the STANLEY paper (stanley/experiment/studies.py): each a set of run variants on one data set.
try:
    STUDIES = studies_lib.check(config)
    STUDY_RUNS = {
        (study, variant, sampler, str(seed)): run
        for (study, variant, sampler, seed), run in studies_lib.runs(
            with_fid_references(config)
        ).items()
    }
except ConfigError as error:
    raise WorkflowError(f"invalid config: {error}")

STUDY_DIR = in_results("studies/{study}/{variant}/{sampler}/seed{seed}")
STUDY_TABLES = in_results("tables/studies/{study}")


def study_run_directories():
    """Where each study run lives. A run whose config equals one trained already (a matrix run,
    or another study's variant) reuses that directory: nothing is trained twice."""
    trained = {
        suite_config.config_hash(run): RUN_DIR.format(dataset=d, sampler=s, seed=seed)
        for (d, s, seed), run in RUNS.items()
    }
    where = {}
    for (study, variant, sampler, seed), run in STUDY_RUNS.items():
        own = STUDY_DIR.format(study=study, variant=variant, sampler=sampler, seed=seed)
        where[(study, variant, sampler, seed)] = trained.setdefault(
            suite_config.config_hash(run), own
        )
    return where


STUDY_RUN_DIRS = study_run_directories()


def study_keys(study):
    return [key for key in STUDY_RUNS if key[0] == study]


def study_dirs(study):
    return [STUDY_RUN_DIRS[key] for key in study_keys(study)]


def study_run(wildcards):
    key = (wildcards.study, wildcards.variant, wildcards.sampler, wildcards.seed)
    if key not in STUDY_RUNS:
        raise WorkflowError(f"{'|'.join(key)} is not a run of this config's studies")
    return STUDY_RUNS[key]


def study_spec(wildcards):
    spec = {"name": wildcards.study, "order": list(STUDIES).index(wildcards.study)}
    return yaml.safe_dump({**spec, **STUDIES[wildcards.study]}, sort_keys=False)


# --------------------------------------------------------------------------- toy batches
# A toy (dataset, sampler), or a toy ablation variant, trains all its seeds in one process as one
# computation (stanley train-batch); image runs stay one job per GPU slot.
BATCHED = config.get(
    "batch_toy_runs", True
)  # false: one job per toy run, as for images
TOY_DATASETS = [d for d in config["datasets"] if d not in IMAGE_DATASETS and BATCHED]
RUN_FILES = (
    "metrics.csv",
    "eval.csv",
    "samples.npz",
    "provenance.json",
)  # what `train` declares
# the batches declare one list of seeds (the first toy ablation's); a toy ablation with other
# seeds trains one job per run
TOY_ABLATION = [d for d in ABLATION_SPEC if d not in IMAGE_DATASETS and BATCHED]
ABLATION_SEEDS = ABLATION_SPEC[TOY_ABLATION[0]]["seeds"] if TOY_ABLATION else []
BATCHED_ABLATION = [
    d for d in TOY_ABLATION if ABLATION_SPEC[d]["seeds"] == ABLATION_SEEDS
]


def seed_outputs(directory, seeds, **wildcards):
    """The files `train` declares, for every seed of a batch; the named wildcards stay wildcards."""
    for name in wildcards:
        directory = directory.replace(f"{{{name}}}", f"{{{{{name}}}}}")
    return [
        os.path.join(directory.format(seed=seed), name)
        for seed in seeds
        for name in RUN_FILES
    ]


def batch_args(directories):
    """`--config DIR/run.yaml --out DIR` for each run of a batch, shell-quoted."""
    args = [
        a
        for d in directories
        for a in ("--config", os.path.join(d, "run.yaml"), "--out", d)
    ]
    return shlex.join(args)


def matrix_batch_dirs(wildcards):
    return [
        RUN_DIR.format(dataset=wildcards.dataset, sampler=wildcards.sampler, seed=seed)
        for seed in config["seeds"]
    ]


def matrix_batch_inputs(wildcards):
    configs = [os.path.join(d, "run.yaml") for d in matrix_batch_dirs(wildcards)]
    return {"configs": configs, **tuning_input(wildcards.dataset, wildcards.sampler)}


def ablation_batch_dirs(wildcards):
    return [
        ABLATION_DIR.format(
            dataset=wildcards.dataset, variant=wildcards.variant, seed=s
        )
        for s in ABLATION_SEEDS
    ]


def ablation_batch_inputs(wildcards):
    configs = [os.path.join(d, "run.yaml") for d in ablation_batch_dirs(wildcards)]
    sampler = ABLATION_SPEC[wildcards.dataset]["sampler"]
    return {"configs": configs, **tuning_input(wildcards.dataset, sampler)}
