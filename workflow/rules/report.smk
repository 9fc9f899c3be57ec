# The self-contained HTML report, rendered from results/ through report/templates/.


rule report:
    input:
        rules.figures.input,
        rules.tables.output,
        templates="report/templates/index.html.j2",
    output:
        "report/index.html",
    params:
        scale=config.get("scale", "paper"),
    shell:
        "stanley report --results {RESULTS} --templates report/templates --out {output} --scale {params.scale}"
