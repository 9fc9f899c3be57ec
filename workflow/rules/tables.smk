# Per-run tables gathered into one long table per kind.


rule tables:
    input:
        expand("{run}/metrics.csv", run=run_dirs()),
    output:
        metrics=RESULTS + "/tables/metrics.csv",
        eval=RESULTS + "/tables/eval.csv",
        provenance=RESULTS + "/tables/provenance.csv",
    params:
        runs=run_dirs(),
    shell:
        "stanley tables --runs {params.runs} --out {RESULTS}/tables"
