# The ambiguity ablation (docs: the paper's ambiguities): STANLEY's ambiguous steps, one switch at
# a time, on each data set of the config's `ablation`, against the matrix's own paper-reading runs.
# Variant runs are runs of the plan: the rules of train.smk train them (image variants one job
# each), or, on a toy target, the batch below.


rule train_ablation_batch:  # a toy variant's seeds as one batch, as train_toy_batch (train.smk)
    input:
        unpack(lambda w: batch_inputs(ablation_batch(w))),
    output:
        seed_outputs(ABLATION_DIR, ABLATION_SEEDS, dataset=True, variant=True),
    log:
        in_results("logs/ablation/{dataset}/{variant}/batch.log"),
    benchmark:
        in_results("benchmarks/ablation/{dataset}/{variant}/batch.tsv")
    wildcard_constraints:
        dataset=one_of({d for d, _ in ABLATION_BATCHES}),
        variant=one_of({v for _, v in ABLATION_BATCHES}),
    conda:
        ENVIRONMENT
    threads: 1
    params:
        args=lambda w: batch_args(ablation_batch(w)),
        tuned=tuned_flag,
    shell:
        "stanley train-batch {params.args} --threads {threads}{params.tuned} --no-progress > {log:q} 2>&1"


rule ablation_tables:
    input:
        lambda w: files_of(map(PLAN.training_run, PLAN.ablation_dirs(w.dataset))),
    output:
        metrics=pattern(LAYOUT.ablation_tables("{dataset}").table("metrics")),
        provenance=pattern(LAYOUT.ablation_tables("{dataset}").table("provenance")),
        eval=pattern(LAYOUT.ablation_tables("{dataset}").table("eval")),
    log:
        in_results("logs/tables/ablation/{dataset}.log"),
    wildcard_constraints:
        dataset=one_of(ablations_with_fid(False)),
    conda:
        ENVIRONMENT
    params:
        runs=lambda w: PLAN.ablation_dirs(w.dataset),
        out=parent("metrics"),
    shell:
        "stanley tables --runs {params.runs:q} --out {params.out:q} > {log:q} 2>&1"


use rule ablation_tables as ablation_tables_fid with:  # an image ablation with FID: fid.csv too
    output:
        metrics=pattern(LAYOUT.ablation_tables("{dataset}").table("metrics")),
        provenance=pattern(LAYOUT.ablation_tables("{dataset}").table("provenance")),
        eval=pattern(LAYOUT.ablation_tables("{dataset}").table("eval")),
        fid=pattern(LAYOUT.ablation_tables("{dataset}").table("fid")),
    wildcard_constraints:
        dataset=one_of(ablations_with_fid(True)),


rule ablation_figure:
    input:
        unpack(lambda w: figure_rule_inputs(f"ablation_{w.dataset}")),
    output:
        report(
            pattern(LAYOUT.figure("ablation_{dataset}")),
            caption="../report/ablation.rst",
            category="Ambiguity ablation",
        ),
    log:
        in_results("logs/figures/ablation_{dataset}.log"),
    wildcard_constraints:
        dataset=one_of(PLAN.ablation),
    conda:
        ENVIRONMENT
    params:
        tables=lambda w: pattern(LAYOUT.ablation_tables(w.dataset)),
    shell:
        "stanley figure ablation --inputs {params.tables:q} --out {output:q} > {log:q} 2>&1"
