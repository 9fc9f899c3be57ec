# Per-run tables gathered into one long table per kind (fid.csv: the runs with FID on).
FID_RUNS = any(run["fid"]["every"] for run in RUNS.values())


rule tables:
    input:
        expand("{run}/metrics.csv", run=run_dirs()),
    output:
        metrics=RESULTS + "/tables/metrics.csv",
        eval=RESULTS + "/tables/eval.csv",
        provenance=RESULTS + "/tables/provenance.csv",
        **({"fid": RESULTS + "/tables/fid.csv"} if FID_RUNS else {}),
    params:
        runs=run_dirs(),
    shell:
        "stanley tables --runs {params.runs} --out {RESULTS}/tables"
