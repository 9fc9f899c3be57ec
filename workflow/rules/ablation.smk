# The ambiguity ablation (docs: the paper's ambiguities): STANLEY's ambiguous steps, one switch at
# a time, against the matrix's own paper-reading runs. Variants train exactly as `train` does.


use rule run_config as run_config_ablation with:
    output:
        f"{ABLATION_DIR}/run.yaml",
    log:
        in_results("logs/run_config/ablation/{variant}/seed{seed}.log"),
    wildcard_constraints:
        variant="[a-z_]+=[a-z0-9.]+",
    params:
        text=lambda w: run_yaml(ablation_run(w)),


use rule train as train_ablation with:
    input:
        unpack(
            lambda w: {
                "config": f"{ABLATION_DIR}/run.yaml".format(**w),
                **run_inputs(ABLATION_SPEC["dataset"], ablation_run(w)),
                **tuning_input(ABLATION_SPEC["dataset"], ABLATION_SPEC["sampler"]),
            }
        ),
    output:
        metrics=f"{ABLATION_DIR}/metrics.csv",
        eval=f"{ABLATION_DIR}/eval.csv",
        samples=f"{ABLATION_DIR}/samples.npz",
        provenance=f"{ABLATION_DIR}/provenance.json",
    log:
        in_results("logs/ablation/{variant}/seed{seed}.log"),
    benchmark:
        in_results("benchmarks/ablation/{variant}/seed{seed}.tsv")
    wildcard_constraints:
        variant="[a-z_]+=[a-z0-9.]+",
    resources:
        gpu=lambda w: 1 if uses_gpu(ABLATION_SPEC["dataset"]) else 0,


ruleorder: train_ablation_batch > train_ablation


rule train_ablation_batch:  # a toy variant's seeds as one batch, as train_toy_batch (train.smk)
    input:
        unpack(ablation_batch_inputs),
    output:
        seed_outputs(ABLATION_DIR, ABLATION_SEEDS, variant=True),
    log:
        in_results("logs/ablation/{variant}/batch.log"),
    benchmark:
        in_results("benchmarks/ablation/{variant}/batch.tsv")
    wildcard_constraints:
        variant=one_of(TOY_ABLATION_VARIANTS),
    conda:
        ENVIRONMENT
    threads: 1
    params:
        args=lambda w: batch_args(ablation_batch_dirs(w)),
        tuned=tuned_flag,
    shell:
        "stanley train-batch {params.args} --threads {threads}{params.tuned} --no-progress > {log:q} 2>&1"


rule ablation_tables:
    input:
        expand("{run}/metrics.csv", run=ablation_dirs()),
    output:
        eval=in_results("tables/ablation/eval.csv"),
        metrics=in_results("tables/ablation/metrics.csv"),
    log:
        in_results("logs/tables/ablation.log"),
    conda:
        ENVIRONMENT
    params:
        runs=ablation_dirs(),
        out=parent("eval"),
    shell:
        "stanley tables --runs {params.runs:q} --out {params.out:q} > {log:q} 2>&1"


rule ablation_figure:
    input:
        table=in_results("tables/ablation/eval.csv"),
        code=FIGURE_CODE,
    output:
        report(
            in_results("figures/ablation.png"),
            caption="../report/ablation.rst",
            category="Ambiguity ablation",
        ),
    log:
        in_results("logs/figures/ablation.log"),
    conda:
        ENVIRONMENT
    shell:
        "stanley figure ablation --inputs {input.table:q} --out {output:q} > {log:q} 2>&1"
