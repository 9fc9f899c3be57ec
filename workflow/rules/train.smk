# One training job per (dataset, sampler, seed). Checkpoints live inside the run directory but
# are not declared outputs: a killed job rerun resumes from them (docs: checkpoints and resume).
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
