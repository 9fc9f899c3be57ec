# The self-contained HTML report, rendered from results/ through report/templates/.


rule report:
    input:
        rules.figures.input,
        rules.tables.output,
        expand("{dir}/inpainting.csv", dir=inpainting_dirs()),
        rules.diagnostics.input,
        rules.claims.output,
        rules.ablation_figure.output if ABLATION_SPEC else [],
        expand(RESULTS + "/figures/study_{study}.png", study=STUDIES),
        rules.tuning.input,
        tuning="report/templates/tuning.html.j2",
        diagnostics="report/templates/diagnostics.html.j2",
        studies="report/templates/studies.html.j2",
        templates="report/templates/index.html.j2",
        images="report/templates/images.html.j2",
        paper=PAPER_CURVES,
        beyond=BEYOND_PAPER,
    output:
        "report/index.html",
    params:
        scale=config.get("scale", "paper"),
    shell:
        "stanley report --results {RESULTS} --templates report/templates --out {output} --scale {params.scale}"
