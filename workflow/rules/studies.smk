# Studies beyond the STANLEY paper (stanley/experiment/studies.py): the short-run paper's K and data-noise
# sweeps and Improved CD's component ablation, each a set of run variants on one data set.
# Variant runs train exactly as `train` does; their tables, figure and report section are their own.


use rule run_config as run_config_study with:
    output:
        f"{STUDY_DIR}/run.yaml",
    log:
        in_results("logs/run_config/studies/{study}/{variant}/{sampler}/seed{seed}.log"),
    wildcard_constraints:
        study="[a-z0-9_]+",
        variant="[A-Za-z0-9_.+-]+",
    params:
        text=lambda w: run_yaml(study_run(w)),


use rule train as train_study with:
    input:
        unpack(
            lambda w: {
                "config": f"{STUDY_DIR}/run.yaml".format(**w),
                **run_inputs(STUDIES[w.study]["dataset"], study_run(w)),
                **tuning_input(STUDIES[w.study]["dataset"], w.sampler),
            }
        ),
    output:
        metrics=f"{STUDY_DIR}/metrics.csv",
        eval=f"{STUDY_DIR}/eval.csv",
        samples=f"{STUDY_DIR}/samples.npz",
        provenance=f"{STUDY_DIR}/provenance.json",
    log:
        in_results("logs/studies/{study}/{variant}/{sampler}/seed{seed}.log"),
    benchmark:
        in_results("benchmarks/studies/{study}/{variant}/{sampler}/seed{seed}.tsv")
    wildcard_constraints:
        study="[a-z0-9_]+",
        variant="[A-Za-z0-9_.+-]+",
    resources:
        gpu=lambda w: 1 if uses_gpu(STUDIES[w.study]["dataset"]) else 0,


use rule run_config as study_spec with:
    output:
        f"{STUDY_TABLES}/study.yaml",
    log:
        in_results("logs/tables/studies/{study}_spec.log"),
    wildcard_constraints:
        study="[a-z0-9_]+",
    params:
        text=study_spec,


rule study_tables:
    input:
        lambda w: expand("{run}/metrics.csv", run=study_dirs(w.study)),
    output:
        metrics=f"{STUDY_TABLES}/metrics.csv",
        provenance=f"{STUDY_TABLES}/provenance.csv",
    log:
        in_results("logs/tables/studies/{study}.log"),
    wildcard_constraints:
        study="[a-z0-9_]+",
    conda:
        ENVIRONMENT
    params:
        runs=lambda w: study_dirs(w.study),
        variants=lambda w: [key[1] for key in study_keys(w.study)],
        out=parent("metrics"),
    shell:
        "stanley tables --runs {params.runs:q} --variants {params.variants:q} --out {params.out:q} "
        "> {log:q} 2>&1"


rule study_figure:
    input:
        tables=f"{STUDY_TABLES}/metrics.csv",
        spec=f"{STUDY_TABLES}/study.yaml",
        paper=BEYOND_PAPER,
        code=FIGURE_CODE,
    output:
        report(
            in_results("figures/study_{study}.png"),
            caption="../report/study.rst",
            category="Beyond the paper",
        ),
    log:
        in_results("logs/figures/study_{study}.log"),
    wildcard_constraints:
        study="[a-z0-9_]+",
    conda:
        ENVIRONMENT
    params:
        tables=lambda w, input: os.path.dirname(input.tables),
    shell:
        "stanley figure study --inputs {params.tables:q} {input.paper:q} --out {output:q} > {log:q} 2>&1"
