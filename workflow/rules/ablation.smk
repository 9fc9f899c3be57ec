# The ambiguity ablation (docs: the paper's ambiguities): STANLEY's ambiguous steps, one switch at
# a time, against the matrix's own paper-reading runs. Variant runs are runs of the plan: the
# rules of train.smk train them, or, on a toy target, the batch below.


rule train_ablation_batch:  # a toy variant's seeds as one batch, as train_toy_batch (train.smk)
    input:
        unpack(lambda w: batch_inputs(ablation_batch(w))),
    output:
        seed_outputs(ABLATION_DIR, ABLATION_SEEDS, variant=True),
    log:
        in_results("logs/ablation/{variant}/batch.log"),
    benchmark:
        in_results("benchmarks/ablation/{variant}/batch.tsv")
    wildcard_constraints:
        variant=one_of(ABLATION_BATCHES),
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
        files_of(map(PLAN.training_run, PLAN.ablation_dirs())),
    output:
        **PLAN.table_files(LAYOUT.ablation_tables, list(PLAN.ablation_runs.values())),
    log:
        in_results("logs/tables/ablation.log"),
    conda:
        ENVIRONMENT
    params:
        runs=PLAN.ablation_dirs(),
        out=parent("eval"),
    shell:
        "stanley tables --runs {params.runs:q} --out {params.out:q} > {log:q} 2>&1"


rule ablation_figure:
    input:
        **figure_rule_inputs("ablation"),
    output:
        report(
            pattern(LAYOUT.figure("ablation")),
            caption="../report/ablation.rst",
            category="Ambiguity ablation",
        ),
    log:
        in_results("logs/figures/ablation.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure ablation --inputs {input.data:q} --out {output:q} > {log:q} 2>&1"
