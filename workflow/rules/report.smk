# The self-contained HTML report, rendered from results/ through the package's templates (stanley/templates/).


rule report:
    input:
        rules.figures.input,
        rules.tables.output,
        expand("{dir}/inpainting.csv", dir=inpainting_dirs()),
        rules.diagnostics.input,
        rules.claims.output,
        rules.ablation_figure.output if ABLATION_SPEC else [],
        expand(RESULTS + "/figures/study_{study}.png", study=STUDIES),
        diagnostics="stanley/templates/diagnostics.html.j2",
        studies="stanley/templates/studies.html.j2",
        templates="stanley/templates/index.html.j2",
        images="stanley/templates/images.html.j2",
        paper=PAPER_CURVES,
        beyond=BEYOND_PAPER,
    output:
        RESULTS + "/report/index.html",
    params:
        scale=config.get("scale", "paper"),
    shell:
        "stanley report --results {RESULTS} --out {output} --scale {params.scale}"
