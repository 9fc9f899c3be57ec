# Image inpainting (the paper's Figure 6): each trained model of the inpainting data set fills
# a masked centre square of its test images with its own sampler; the masked-region MSE per
# sampler goes to the report, STANLEY's and Langevin's completions to Figure 6 (figures.smk).


rule inpaint:
    input:
        lambda w: PLAN.inpainting_run_inputs(w.dataset, w.sampler, w.seed),  # config, weights
    output:
        npz=pattern(INPAINT_DIR.inpainting_arrays),
        table=pattern(INPAINT_DIR.inpainting_table),
    log:
        in_results("logs/inpainting/{dataset}/{sampler}/seed{seed}.log"),
    wildcard_constraints:
        dataset=re.escape(PLAN.inpainting["dataset"]),
        sampler=one_of(INPAINTING_SAMPLERS),
    conda:
        ENVIRONMENT
    threads: 1
    resources:
        gpu=lambda w: int(PLAN.uses_gpu(w.dataset)),
    params:
        run=lambda w, input: os.path.dirname(input[0]),
        out=parent("npz"),
        options=inpaint_options,
        slot=slot_prefix,
    shell:
        "{params.slot}stanley inpaint --run {params.run:q} --out-dir {params.out:q} {params.options} "
        "--threads {threads} > {log:q} 2>&1"
