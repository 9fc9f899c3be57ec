# Studies beyond the STANLEY paper (stanley/experiment/studies.py): the short-run paper's K and
# data-noise sweeps and Improved CD's component ablation, each a set of run variants on one data
# set. Variant runs are runs of the plan (the rules of train.smk train them; one identical to a
# run trained already shares its directory); their tables, figure and report section are their own.


rule study_spec:
    output:
        pattern(LAYOUT.study_tables("{study}").study_spec),
    log:
        in_results("logs/tables/studies/{study}_spec.log"),
    wildcard_constraints:
        study=one_of(PLAN.studies),
    localrule: True
    params:
        text=study_yaml,
    run:
        write_config(output[0], params.text, log[0])


rule study_tables:
    input:
        lambda w: files_of(study_runs(w.study)),
    output:
        metrics=pattern(LAYOUT.study_tables("{study}").table("metrics")),
        provenance=pattern(LAYOUT.study_tables("{study}").table("provenance")),
        eval=pattern(LAYOUT.study_tables("{study}").table("eval")),
        fid=pattern(LAYOUT.study_tables("{study}").table("fid")),
    log:
        in_results("logs/tables/studies/{study}.log"),
    wildcard_constraints:
        study=one_of(studies_with_fid(True)),
    conda:
        ENVIRONMENT
    params:
        runs=lambda w: PLAN.study_dirs(w.study),
        variants=lambda w: [key[1] for key in PLAN.study_keys(w.study)],
        out=parent("metrics"),
    shell:
        "stanley tables --runs {params.runs:q} --variants {params.variants:q} --out {params.out:q} "
        "> {log:q} 2>&1"


use rule study_tables as study_tables_nofid with:  # a study without FID: no fid.csv
    output:
        metrics=pattern(LAYOUT.study_tables("{study}").table("metrics")),
        provenance=pattern(LAYOUT.study_tables("{study}").table("provenance")),
        eval=pattern(LAYOUT.study_tables("{study}").table("eval")),
    wildcard_constraints:
        study=one_of(studies_with_fid(False)),


rule study_figure:
    input:
        unpack(lambda w: figure_rule_inputs(f"study_{w.study}")),
        paper=BEYOND_PAPER,
    output:
        report(
            pattern(LAYOUT.figure("study_{study}")),
            caption="../report/study.rst",
            category="Beyond the paper",
        ),
    log:
        in_results("logs/figures/study_{study}.log"),
    wildcard_constraints:
        study=one_of(PLAN.studies),
    conda:
        ENVIRONMENT
    params:
        tables=lambda w: pattern(LAYOUT.study_tables(w.study)),
    shell:
        "stanley figure study --inputs {params.tables:q} {input.paper:q} --out {output:q} > {log:q} 2>&1"
