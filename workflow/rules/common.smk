# The shared part of the workflow, included first. It types and checks the config at DAG start,
# builds the experiment plan once (stanley/plan.py: every job, its run config and its
# files) and holds the Snakemake glue the rules call: wildcard patterns, lookups over the plan,
# shell quoting, ancient inputs and WorkflowError wrapping.
import os
import re
import shlex

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from stanley.experiment import config as suite_config
from stanley.plan import Plan, TOY_FIGURES
from stanley.diagnostics import suite as diagnostics_suite
from stanley.errors import ConfigError
from stanley.plumbing.rundir import RunDir


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
# --config only=[rings]: the suite cut down to its rings part (stanley.experiment.config.restricted)
if "only" in config:
    try:
        cut = suite_config.restricted(config, config.pop("only"))
    except ConfigError as error:
        raise WorkflowError(f"invalid config: {error}")
    config.clear()
    config.update(cut)
validate_in_one_line(config, "../schemas/config.schema.yaml")
RESULTS = checked_results(config.get("results", "results"))

try:
    PLAN = Plan.from_suite(config, RESULTS)
except ConfigError as error:
    raise WorkflowError(f"invalid config: {error}")
LAYOUT = PLAN.layout


def in_results(path):
    """`path` (wildcards kept) under the config's results folder: logs and benchmarks only (every
    result's path comes from the plan's layout)."""
    return os.path.join(RESULTS, path)


def pattern(path):
    """A layout path with wildcards in it, as the string a rule declares."""
    return str(getattr(path, "path", path))


RUN = RunDir(
    in_results("{run}")
)  # every training run: {run} is its directory under results/
RUN_DIR = pattern(LAYOUT.run("{dataset}", "{sampler}", "{seed}"))
ABLATION_DIR = pattern(LAYOUT.ablation_run("{dataset}", "{variant}", "{seed}"))
INPAINT_DIR = LAYOUT.inpainting("{dataset}", "{sampler}", "{seed}")
FIGURE_CODE = "stanley/presentation/figures.py"
DIAG_CODE = "stanley/diagnostics/figures.py"
PAPER_CURVES = "stanley/presentation/reference/paper_fid_curves.csv"  # the authors' FID logs, drawn dashed
BEYOND_PAPER = "stanley/presentation/reference/beyond_paper.csv"  # the printed values of the short-run and Improved CD papers
ENVIRONMENT = (
    "../../environment.yml"  # every rule's software (conda: relative to rules/)
)


wildcard_constraints:
    dataset="[a-z0-9_]+",
    sampler="[a-z_]+",
    seed=r"\d+",


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


def one_of(names):
    """A wildcard constraint matching exactly these names (none: a pattern that never matches)."""
    return "|".join(map(re.escape, names)) or "(?!x)x"


def run_yaml(wildcards):
    """A run config as the text of its run.yaml (the run_config rule writes it)."""
    return yaml.safe_dump(training_run(wildcards).config, sort_keys=True)


def study_yaml(wildcards):
    """A study's spec as its study.yaml (the figure and the report read it back)."""
    return yaml.safe_dump(PLAN.study_spec(wildcards.study), sort_keys=False)


# A GPU job runs inside a slot of the pool (stanley/plumbing/slots.py): it sees only its own device.
SLOT = f"python -m stanley.plumbing.slots --jobs-per-gpu {int(config.get('jobs_per_gpu', 1))} -- "


def slot_prefix(wildcards, resources):
    """The command prefix of a job that holds a GPU, for a params entry (resources, not wildcards:
    rules reused with `use rule` keep it whatever their wildcards)."""
    return SLOT if resources.gpu else ""


def named(needs):
    """A run's inputs for `unpack`: the Inception weights ancient (a re-downloaded file never
    retrains anything)."""
    return {
        name: ancient(path) if name == "inception" else path
        for name, path in needs.items()
    }


def files_of(runs, names=("metrics", "eval", "fid", "provenance", "config")):
    """The files of these runs a gathering job reads (`stanley tables` reads these)."""
    return [run.files[name] for run in runs for name in names if name in run.files]


# --------------------------------------------------------------------------- data and FID
# Real image data sets and the Inception weights are fetched where the internet is reachable and
# checked where it is not (`stanley download`: a no-op on complete files).
DATA_CHECKED = pattern(LAYOUT.data_checked("{dataset}"))
REFERENCE = pattern(LAYOUT.reference_stats("{dataset}", "{protocol}", "{size}"))


def reference_run(wildcards):
    """A run that uses these reference statistics: its data settings make them."""
    path = REFERENCE.format(**wildcards)
    run = PLAN.references().get(path)
    if run is None:
        raise WorkflowError(f"{path} is not a reference file of this config's plan")
    return run


def reference_inputs(wildcards):
    needs = reference_run(wildcards).needs
    return named({k: v for k, v in needs.items() if k in ("data", "inception")})


def reference_args(wildcards, output):
    run = reference_run(wildcards)
    spec = run.config["data"]
    args = ["--dataset", wildcards.dataset, "--root", spec["root"], "--image-size", wildcards.size,
            "--device", "cuda" if run.gpu else "cpu", "--out", output[0],
            "--split", spec["split"]]  # fmt: skip
    if spec["limit"]:
        args += ["--limit", str(spec["limit"])]
    if not spec["verify"]:
        args += ["--no-verify"]
    if wildcards.protocol == "proxy":
        args += ["--proxy"]
    else:
        args += ["--inception", run.needs["inception"]]
    return shlex.join(args)


# --------------------------------------------------------------------------- training
# Every training run of the plan (matrix, tuning pilot, study and ablation variant) is one
# directory, {run} below results/; the rule that trains it declares the files its kind writes.


def single_runs(file_set):
    """The {run} wildcards the one-run-per-job rule of this file set trains."""
    return [PLAN.relative(run.path) for run in PLAN.single_runs(file_set)]


def run_files(file_set):
    """The files `stanley train` writes in {run} for a kind of run (RunDir.training_files)."""
    files = RUN.training_files(file_set != "toy", file_set == "images_fid")
    return {name: str(path) for name, path in files.items()}


def training_run(wildcards):
    return PLAN.training_run(in_results(wildcards.run))


def train_inputs(wildcards):
    """The run config, and what an image run needs (data, FID reference, Inception weights) and
    the tuning stage's choice when tuning is on."""
    return named(training_run(wildcards).needs)


def run_gpu(wildcards):
    return int(training_run(wildcards).gpu)


def tuned_flag(wildcards, input):
    """` --tuned CHOICE` for a run whose step the tuning stage chose ('' when tuning is off)."""
    return f" --tuned {shlex.quote(input.tuned)}" if "tuned" in input.keys() else ""


# Toy batches: a toy (dataset, sampler), or a toy ablation variant, trains all its seeds in one
# process as one computation (stanley train-batch); image runs stay one job per GPU slot.
TOY_BATCHES = PLAN.toy_batches()
ABLATION_BATCHES = PLAN.ablation_batches()
ABLATION_SEEDS = PLAN.ablation_seeds()


def seed_outputs(directory, seeds, **wildcards):
    """The files a toy run writes, for every seed of a batch; the named wildcards stay wildcards."""
    for name in wildcards:
        directory = directory.replace(f"{{{name}}}", f"{{{{{name}}}}}")
    return [
        str(path)
        for seed in seeds
        for path in RunDir(directory.format(seed=seed))
        .training_files(images=False, fid=False)
        .values()
    ]


def batch_args(runs):
    """`--config DIR/run.yaml --out DIR` for each run of a batch, shell-quoted."""
    args = [
        a for run in runs for a in ("--config", run.needs["config"], "--out", run.path)
    ]
    return shlex.join(args)


def batch_inputs(runs):
    """Each run's config, and the tuning choice they share."""
    return {
        "configs": [run.needs["config"] for run in runs],
        **{k: v for k, v in runs[0].needs.items() if k == "tuned"},
    }


def matrix_batch(wildcards):
    return TOY_BATCHES[(wildcards.dataset, wildcards.sampler)]


def ablation_batch(wildcards):
    return ABLATION_BATCHES[(wildcards.dataset, wildcards.variant)]


# --------------------------------------------------------------------------- tuning
# Per (data set, sampler), one short pilot per point of the declared grid, scored at its end;
# `stanley tune` picks each sampler's point by the declared rule (stanley/experiment/tuning.py),
# and every run of that data set and sampler (matrix, study, ablation) trains with it.
TUNING_CHOICE = pattern(LAYOUT.tuning_dir("{dataset}").choice)
TUNING_TABLE = pattern(LAYOUT.tuning_dir("{dataset}").pilots)


def tune_args(wildcards, output):
    """`stanley tune`'s arguments, quoted: the pilots, their grid points and the budget."""
    keys = PLAN.pilot_keys(wildcards.dataset)
    args = ["--pilots", *[run.path for run in PLAN.pilot_runs(wildcards.dataset)],
            "--points", *[p for _, _, p in keys],
            "--fraction", str(PLAN.tuning_budget[wildcards.dataset]),
            "--tolerance", str(PLAN.tuning.get("tolerance", 0.02)),
            "--out", os.path.dirname(output.choice)]  # fmt: skip
    return shlex.join(args)


# --------------------------------------------------------------------------- figures
# Which data sets each figure is drawn from is the plan's (stanley/plan.py).


def figure_rule_inputs(name):
    return {"data": PLAN.figure_inputs(name), "code": FIGURE_CODE}


def image_figures():
    names = [n for n in PLAN.figures() if n in PLAN.image_figures or n == "fig6"]
    return [str(LAYOUT.figure(name)) for name in names]


# --------------------------------------------------------------------------- inpainting
# Image inpainting (the paper's Figure 6): each trained model of the inpainting data set fills
# a masked centre square of its test images with its own sampler.


def inpaint_options(wildcards):
    return shlex.join(PLAN.inpainting_options())


try:
    INPAINTING_SAMPLERS = PLAN.inpainting_samplers()
except ConfigError as error:
    raise WorkflowError(f"invalid config: {error}")


# --------------------------------------------------------------------------- diagnostics
# Theorem 1 diagnostics on the toy targets, and uniformity in theta on the rings training runs.
# The library turns the `diagnostics` config block into each command line
# (stanley.diagnostics.suite.argv), so the workflow and `suite.run` issue the same commands.
DIAGNOSTICS = PLAN.diagnostics
DIAG_TABLE = pattern(LAYOUT.diagnostics_table("{diag_kind}", "{diag_target}"))
UNIFORMITY_TABLE = pattern(LAYOUT.uniformity_table("{diag_sampler}"))


def diagnostics_plot_inputs(wildcards):
    if wildcards.diag_plot == "uniformity":
        return PLAN.uniformity_tables()
    return PLAN.diagnostics_tables(wildcards.diag_plot)


def diagnose_args(wildcards, output):
    argv = diagnostics_suite.argv(
        DIAGNOSTICS, wildcards.diag_kind, wildcards.diag_target, output[0], threads=1
    )
    return shlex.join(argv)


def uniformity_args(wildcards, output):
    argv = diagnostics_suite.uniformity_argv(
        DIAGNOSTICS,
        PLAN.uniformity_runs()[wildcards.diag_sampler].path,
        output[0],
        label=wildcards.diag_sampler,
        threads=1,
    )
    return shlex.join(argv)


# --------------------------------------------------------------------------- studies
# Studies beyond the STANLEY paper (stanley/experiment/studies.py): each a set of run variants on
# one data set; a run identical to one trained already shares its directory (the plan decides).
STUDY_TABLES = pattern(LAYOUT.study_tables("{study}"))


def study_runs(study):
    return [PLAN.study_runs[key] for key in PLAN.study_keys(study)]


def ablations_with_fid(fid):
    """The ablated data sets whose tables do (or do not) include an FID table."""
    return [d for d in PLAN.ablation if ("fid" in PLAN.ablation_tables(d)) == fid]


def studies_with_fid(fid):
    """The studies whose tables do (or do not) include an FID table."""
    return [s for s in PLAN.studies if PLAN.any_fid(study_runs(s)) == fid]
