# Every training run of the plan (matrix, tuning pilot, study and ablation variant) lives in one
# directory, {run} below results/; the plan (stanley/plan.py) says which runs exist,
# their configs and what each needs. One rule per kind of run declares every file that kind
# writes (RunDir.training_files): a toy run's energy networks, an image run's weights and, with
# FID on, its FID table, so the rules that read them list them as inputs. Checkpoints live inside
# the run directory but are not declared outputs: a killed job rerun resumes from them (docs:
# checkpoints and resume). metrics.csv is written last and marks the run complete.
# The run config goes to run.yaml in a job of its own, so that a training job's command stays
# one line (-p) and a changed config reruns the run (the file changes, then the run).


rule run_config:
    output:
        pattern(RUN.request),
    log:
        in_results("logs/run_config/{run}.log"),
    wildcard_constraints:
        run=one_of(map(PLAN.relative, PLAN.training_runs())),
    localrule: True
    params:
        text=run_yaml,
    run:
        write_config(output[0], params.text, log[0])


rule train:  # an image run with FID on
    input:
        unpack(train_inputs),
    output:
        **run_files("images_fid"),
    log:
        in_results("logs/train/{run}.log"),
    benchmark:
        in_results("benchmarks/train/{run}.tsv")
    wildcard_constraints:
        run=one_of(single_runs("images_fid")),
    conda:
        ENVIRONMENT
    threads: 1
    resources:
        gpu=run_gpu,
    params:
        dir=parent("metrics"),
        slot=slot_prefix,
        tuned=tuned_flag,
    shell:
        "{params.slot}stanley train --config {input.config:q} --out {params.dir:q} "
        "--threads {threads}{params.tuned} > {log:q} 2>&1"


use rule train as train_nofid with:  # an image run with FID off
    output:
        **run_files("images"),
    wildcard_constraints:
        run=one_of(single_runs("images")),


use rule train as train_toy with:  # a toy run on its own (batch_toy_runs: false)
    output:
        **run_files("toy"),
    wildcard_constraints:
        run=one_of(single_runs("toy")),


# Toy runs: one job per (dataset, sampler) trains every seed as one batch (stanley train-batch),
# each seed into its own run directory with the files `train` writes; a killed batch resumes every
# run. Asking for one seed's file still works: it runs the batch that writes it. Image runs keep
# one job per GPU slot (`train`).
rule train_toy_batch:
    input:
        unpack(lambda w: batch_inputs(matrix_batch(w))),
    output:
        seed_outputs(RUN_DIR, PLAN.seeds, dataset=True, sampler=True),
    log:
        in_results("logs/train/{dataset}/{sampler}/batch.log"),
    benchmark:
        in_results("benchmarks/train/{dataset}/{sampler}/batch.tsv")
    wildcard_constraints:
        dataset=one_of(sorted({d for d, _ in TOY_BATCHES})),
    conda:
        ENVIRONMENT
    threads: 1
    params:
        args=lambda w: batch_args(matrix_batch(w)),
        tuned=tuned_flag,
    shell:
        "stanley train-batch {params.args} --threads {threads}{params.tuned} --no-progress > {log:q} 2>&1"
