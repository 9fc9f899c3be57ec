# The ambiguity ablation (docs: the paper's ambiguities): STANLEY's ambiguous steps, one switch at
# a time, on each data set of the config's `ablation`, against the matrix's own paper-reading runs.
# Variants train exactly as `train` does: image runs one job each, toy runs in batches of seeds.


use rule run_config as run_config_ablation with:
    output:
        f"{ABLATION_DIR}/run.yaml",
    log:
        in_results("logs/run_config/ablation/{dataset}/{variant}/seed{seed}.log"),
    wildcard_constraints:
        variant="[a-z_]+=[a-z0-9.]+",
    params:
        text=lambda w: run_yaml(ablation_run(w)),


use rule train as train_ablation with:
    input:
        unpack(ablation_inputs),
    output:
        metrics=f"{ABLATION_DIR}/metrics.csv",
        eval=f"{ABLATION_DIR}/eval.csv",
        samples=f"{ABLATION_DIR}/samples.npz",
        provenance=f"{ABLATION_DIR}/provenance.json",
    log:
        in_results("logs/ablation/{dataset}/{variant}/seed{seed}.log"),
    benchmark:
        in_results("benchmarks/ablation/{dataset}/{variant}/seed{seed}.tsv")
    wildcard_constraints:
        variant="[a-z_]+=[a-z0-9.]+",
    resources:
        gpu=lambda w: 1 if uses_gpu(w.dataset) else 0,


ruleorder: train_ablation_batch > train_ablation


rule train_ablation_batch:  # a toy variant's seeds as one batch, as train_toy_batch (train.smk)
    input:
        unpack(ablation_batch_inputs),
    output:
        seed_outputs(ABLATION_DIR, ABLATION_SEEDS, dataset=True, variant=True),
    log:
        in_results("logs/ablation/{dataset}/{variant}/batch.log"),
    benchmark:
        in_results("benchmarks/ablation/{dataset}/{variant}/batch.tsv")
    wildcard_constraints:
        dataset=one_of(BATCHED_ABLATION),
        variant="[a-z_]+=[a-z0-9.]+",
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
        lambda w: expand("{run}/metrics.csv", run=ablation_dirs(w.dataset)),
    output:
        eval=f"{ABLATION_TABLES}/eval.csv",
        metrics=f"{ABLATION_TABLES}/metrics.csv",
    log:
        in_results("logs/tables/ablation/{dataset}.log"),
    wildcard_constraints:
        dataset=one_of(ABLATION_SPEC),
    conda:
        ENVIRONMENT
    params:
        runs=lambda w: ablation_dirs(w.dataset),
        out=parent("eval"),
    shell:
        "stanley tables --runs {params.runs:q} --out {params.out:q} > {log:q} 2>&1"


rule ablation_figure:
    input:
        tables=f"{ABLATION_TABLES}/metrics.csv",
        code=FIGURE_CODE,
    output:
        report(
            in_results("figures/ablation_{dataset}.png"),
            caption="../report/ablation.rst",
            category="Ambiguity ablation",
        ),
    log:
        in_results("logs/figures/ablation_{dataset}.log"),
    wildcard_constraints:
        dataset=one_of(ABLATION_SPEC),
    conda:
        ENVIRONMENT
    params:
        tables=lambda w, input: os.path.dirname(input.tables),
    shell:
        "stanley figure ablation --inputs {params.tables:q} --out {output:q} > {log:q} 2>&1"
