# Studies beyond the STANLEY paper (stanley/studies.py): the short-run paper's K and data-noise
# sweeps and Improved CD's component ablation, each a set of run variants on one data set.
# Variant runs train exactly as `train` does; their tables, figure and report section are their own.
from stanley import studies as studies_lib

try:
    STUDIES = studies_lib.check(config)
    STUDY_RUNS = {
        (study, variant, sampler, str(seed)): run
        for (study, variant, sampler, seed), run in studies_lib.runs(with_fid_references(config)).items()
    }
except ConfigError as error:
    raise WorkflowError(f"invalid config: {error}")

STUDY_DIR = RESULTS + "/studies/{study}/{variant}/{sampler}/seed{seed}"
STUDY_TABLES = RESULTS + "/tables/studies/{study}"
BEYOND_PAPER = "report/reference/beyond_paper.csv"  # the printed values of seeds 002 and 003


def _run_directories():
    """Where each study run lives. A run whose config equals one trained already (a matrix run,
    or another study's variant) reuses that directory: nothing is trained twice."""
    trained = {suite_config.config_hash(run): RUN_DIR.format(dataset=d, sampler=s, seed=seed)
               for (d, s, seed), run in RUNS.items()}
    where = {}
    for (study, variant, sampler, seed), run in STUDY_RUNS.items():
        own = STUDY_DIR.format(study=study, variant=variant, sampler=sampler, seed=seed)
        where[(study, variant, sampler, seed)] = trained.setdefault(suite_config.config_hash(run), own)
    return where


STUDY_RUN_DIRS = _run_directories()


def study_keys(study):
    return [key for key in STUDY_RUNS if key[0] == study]


def study_dirs(study):
    return [STUDY_RUN_DIRS[key] for key in study_keys(study)]


def study_run(wildcards):
    key = (wildcards.study, wildcards.variant, wildcards.sampler, wildcards.seed)
    if key not in STUDY_RUNS:
        raise WorkflowError(f"{'/'.join(key)} is not a run of this config's studies")
    return STUDY_RUNS[key]


use rule train as train_study with:
    input:
        unpack(lambda w: {**run_inputs(STUDIES[w.study]["dataset"], study_run(w)),
                          **tuning_input(STUDIES[w.study]["dataset"], w.sampler)}),
    output:
        metrics=STUDY_DIR + "/metrics.csv",
        eval=STUDY_DIR + "/eval.csv",
        samples=STUDY_DIR + "/samples.npz",
        provenance=STUDY_DIR + "/provenance.json",
    params:
        run=lambda w: yaml.safe_dump(study_run(w), sort_keys=True),
        dir=STUDY_DIR,
        slot=slot_prefix,
    wildcard_constraints:
        study="[a-z0-9_]+",
        variant="[A-Za-z0-9_.+-]+",
    resources:
        gpu=lambda w: 1 if uses_gpu(STUDIES[w.study]["dataset"]) else 0,
    log:
        RESULTS + "/logs/studies/{study}/{variant}/{sampler}/seed{seed}.log",


rule study_tables:
    input:
        lambda w: expand("{run}/metrics.csv", run=study_dirs(w.study)),
    output:
        metrics=STUDY_TABLES + "/metrics.csv",
        provenance=STUDY_TABLES + "/provenance.csv",
        spec=STUDY_TABLES + "/study.yaml",
    params:
        runs=lambda w: study_dirs(w.study),
        variants=lambda w: [key[1] for key in study_keys(w.study)],
        spec=lambda w: yaml.safe_dump({"name": w.study, "order": list(STUDIES).index(w.study), **STUDIES[w.study]},
                                      sort_keys=False),
        out=STUDY_TABLES,
    wildcard_constraints:
        study="[a-z0-9_]+",
    shell:
        "stanley tables --runs {params.runs} --variants {params.variants:q} --out {params.out} > /dev/null && "
        "printf '%s' {params.spec:q} > {output.spec}"


rule study_figure:
    input:
        spec=STUDY_TABLES + "/study.yaml",
        paper=BEYOND_PAPER,
        code=FIGURE_CODE,
    output:
        RESULTS + "/figures/study_{study}.png",
    params:
        tables=STUDY_TABLES,
    wildcard_constraints:
        study="[a-z0-9_]+",
    shell:
        "stanley figure study --inputs {params.tables} {input.paper} --out {output}"
