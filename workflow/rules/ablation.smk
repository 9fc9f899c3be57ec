# The ambiguity ablation (DESIGN.md section 3): STANLEY's ambiguous steps, one switch at a time,
# against the matrix's own paper-reading runs. Variants train exactly as `train` does.
from stanley import ablation as ablation_lib

try:
    ABLATION = ablation_lib.variants(config)
    ABLATION_SPEC = ablation_lib.check(config)
except ConfigError as error:
    raise WorkflowError(f"invalid config: {error}")

ABLATION_DIR = RESULTS + "/ablation/{variant}/seed{seed}"


def ablation_dirs():
    """Every variant run, and the paper-reading runs they are compared with."""
    if not ABLATION_SPEC:
        return []
    paper = [
        RUN_DIR.format(dataset=ABLATION_SPEC["dataset"], sampler=ABLATION_SPEC["sampler"], seed=seed)
        for seed in ABLATION_SPEC["seeds"]
    ]
    return paper + [ABLATION_DIR.format(variant=v, seed=s) for v, runs in ABLATION.items() for s in runs]


use rule train as train_ablation with:
    output:
        metrics=ABLATION_DIR + "/metrics.csv",
        eval=ABLATION_DIR + "/eval.csv",
        samples=ABLATION_DIR + "/samples.npz",
        provenance=ABLATION_DIR + "/provenance.json",
    params:
        run=lambda w: yaml.safe_dump(ABLATION[w.variant][int(w.seed)], sort_keys=True),
        dir=ABLATION_DIR,
    wildcard_constraints:
        variant="[a-z_]+=[a-z0-9.]+",
    resources:
        gpu=lambda w: 1 if uses_gpu(ABLATION_SPEC["dataset"]) else 0,
    log:
        RESULTS + "/logs/ablation/{variant}/seed{seed}.log",


if ABLATION_SPEC and ABLATION_SPEC["dataset"] not in IMAGE_DATASETS:

    ruleorder: train_ablation_batch > train_ablation

    rule train_ablation_batch:  # a toy variant's seeds as one batch, as train_toy_batch (train.smk)
        output:
            seed_outputs(ABLATION_DIR, ABLATION_SPEC["seeds"], variant=True),
        params:
            command=lambda w: batch_command([(ABLATION[w.variant][int(seed)], ABLATION_DIR.format(variant=w.variant, seed=seed))
                                             for seed in ABLATION_SPEC["seeds"]]),
        wildcard_constraints:
            variant="[a-z_]+=[a-z0-9.]+",
        threads: 1
        log:
            RESULTS + "/logs/ablation/{variant}/batch.log",
        shell:
            "{params.command} --threads {threads} --no-progress > {log} 2>&1"


rule ablation_tables:
    input:
        expand("{run}/metrics.csv", run=ablation_dirs()),
    output:
        eval=RESULTS + "/tables/ablation/eval.csv",
        metrics=RESULTS + "/tables/ablation/metrics.csv",
    params:
        runs=ablation_dirs(),
    shell:
        "stanley tables --runs {params.runs} --out {RESULTS}/tables/ablation"
