# One training job per (dataset, sampler, seed) for image runs; toy runs batch their seeds (below).
# Checkpoints live inside the run directory but are not declared outputs: a killed job rerun
# resumes from them (docs: checkpoints and resume).
# An image run also writes model.pt and (FID on) fid.csv beside the declared outputs; metrics.csv,
# written last, marks the run complete, so rules that read those files take it as their input.
# The run config goes to run.yaml in a job of its own, so that a training job's command stays
# one line (-p) and a changed config reruns the run (the file changes, then the run).


rule run_config:
    output:
        f"{RUN_DIR}/run.yaml",
    log:
        in_results("logs/run_config/{dataset}/{sampler}/seed{seed}.log"),
    localrule: True
    params:
        text=lambda w: run_yaml(run_config(w)),
    run:
        write_config(output[0], params.text, log[0])


rule train:
    input:
        unpack(train_inputs),
    output:
        metrics=f"{RUN_DIR}/metrics.csv",
        eval=f"{RUN_DIR}/eval.csv",
        samples=f"{RUN_DIR}/samples.npz",
        provenance=f"{RUN_DIR}/provenance.json",
    log:
        in_results("logs/train/{dataset}/{sampler}/seed{seed}.log"),
    benchmark:
        in_results("benchmarks/train/{dataset}/{sampler}/seed{seed}.tsv")
    conda:
        ENVIRONMENT
    threads: 1
    resources:
        gpu=lambda w: 1 if uses_gpu(w.dataset) else 0,
    params:
        dir=parent("metrics"),
        slot=slot_prefix,
        tuned=tuned_flag,
    shell:
        "{params.slot}stanley train --config {input.config:q} --out {params.dir:q} "
        "--threads {threads}{params.tuned} > {log:q} 2>&1"


# Toy runs: one job per (dataset, sampler) trains every seed as one batch (stanley train-batch),
# each seed into its own run directory with the files `train` writes; a killed batch resumes every
# run. Asking for one seed's file still works: it runs the batch that writes it. Image runs keep
# one job per GPU slot (`train`).
ruleorder: train_toy_batch > train


rule train_toy_batch:
    input:
        unpack(matrix_batch_inputs),
    output:
        seed_outputs(RUN_DIR, config["seeds"], dataset=True, sampler=True),
    log:
        in_results("logs/train/{dataset}/{sampler}/batch.log"),
    benchmark:
        in_results("benchmarks/train/{dataset}/{sampler}/batch.tsv")
    wildcard_constraints:
        dataset=one_of(TOY_DATASETS),
    conda:
        ENVIRONMENT
    threads: 1
    params:
        args=lambda w: batch_args(matrix_batch_dirs(w)),
        tuned=tuned_flag,
    shell:
        "stanley train-batch {params.args} --threads {threads}{params.tuned} --no-progress > {log:q} 2>&1"
