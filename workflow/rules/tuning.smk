# The tuning stage (stanley/tuning.py): per (data set, sampler), one short pilot per point of the
# declared grid, scored at its end; `stanley tune` picks each sampler's point by the declared rule,
# and every run of that data set and sampler (matrix, study, ablation) trains with it.
# `tuning: {enabled: false}` (or no tuning block) trains the configured values as given.
from stanley import tuning as tuning_lib

try:
    TUNING = tuning_lib.check(config)
    PILOTS = tuning_lib.pilots(with_fid_references(config))
    TUNING_BUDGET = tuning_lib.budget(with_fid_references(config), PILOTS) if TUNING else {}
except ConfigError as error:
    raise WorkflowError(f"invalid config: {error}")

PILOT_DIR = RESULTS + "/tuning/{dataset}/{sampler}/{point}"
TUNING_DIR = RESULTS + "/tuning/{dataset}"


def tuning_input(dataset, sampler):
    """The choice file a run of (dataset, sampler) trains with, as a named input ({} when off)."""
    if not TUNING or not any(d == dataset and s == sampler for d, s, _ in PILOTS):
        return {}
    return {"tuned": TUNING_DIR.format(dataset=dataset) + "/choice.yaml"}


def pilot_keys(dataset):
    return [key for key in PILOTS if key[0] == dataset]


def pilot_run(wildcards):
    key = (wildcards.dataset, wildcards.sampler, wildcards.point)
    if key not in PILOTS:
        raise WorkflowError(f"{'/'.join(key)} is not a pilot of this config's tuning grid")
    return PILOTS[key]


use rule train as train_pilot with:
    input:
        unpack(lambda w: run_inputs(w.dataset, pilot_run(w))),
    output:
        metrics=PILOT_DIR + "/metrics.csv",
        eval=PILOT_DIR + "/eval.csv",
        samples=PILOT_DIR + "/samples.npz",
        provenance=PILOT_DIR + "/provenance.json",
    params:
        run=lambda w: yaml.safe_dump(pilot_run(w), sort_keys=True),
        dir=PILOT_DIR,
        tuned="",
    wildcard_constraints:
        point="[a-z_]+=x[0-9.e+-]+(,[a-z_]+=x[0-9.e+-]+)*",
    log:
        RESULTS + "/logs/tuning/{dataset}/{sampler}/{point}.log",


rule tune:
    input:
        lambda w: [PILOT_DIR.format(dataset=d, sampler=s, point=p) + "/metrics.csv"
                   for d, s, p in pilot_keys(w.dataset)],
    output:
        choice=TUNING_DIR + "/choice.yaml",
        table=TUNING_DIR + "/pilots.csv",
    params:
        pilots=lambda w: [PILOT_DIR.format(dataset=d, sampler=s, point=p) for d, s, p in pilot_keys(w.dataset)],
        points=lambda w: [p for _, _, p in pilot_keys(w.dataset)],
        fraction=lambda w: TUNING_BUDGET[w.dataset],
        tolerance=TUNING.get("tolerance", 0.02),
    log:
        RESULTS + "/logs/tuning/{dataset}/tune.log",
    shell:
        "stanley tune --pilots {params.pilots} --points {params.points:q} --fraction {params.fraction} "
        "--tolerance {params.tolerance} "
        "--out {RESULTS}/tuning/{wildcards.dataset} > {log} 2>&1"


rule tuning:
    input:
        expand(TUNING_DIR + "/pilots.csv", dataset=sorted({d for d, _, _ in PILOTS})),
