# The claims ledger: a verdict for each of the paper's claims, from the gathered tables.


rule claims:
    input:
        rules.tables.output,
        DIAG_DIR + "/verdicts.csv",
        ledger="stanley/claims.yaml",
    output:
        RESULTS + "/tables/claims.csv",
    params:
        scale=config.get("scale", "paper"),
    shell:
        "stanley claims --results {RESULTS} --scale {params.scale} --out {output} > /dev/null"


rule ablation_figure:
    input:
        table=RESULTS + "/tables/ablation/eval.csv",
        code=FIGURE_CODE,
    output:
        RESULTS + "/figures/ablation.png",
    shell:
        "stanley figure ablation --inputs {input.table} --out {output}"
