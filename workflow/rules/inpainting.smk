# Image inpainting (the paper's Figure 6): each trained model of the inpainting data set fills
# a masked centre square of its test images with its own sampler; the masked-region MSE per
# sampler goes to the report, STANLEY's and Langevin's completions to Figure 6 (figures.smk).


rule inpaint:
    input:
        f"{RUN_DIR}/metrics.csv",  # the finished run: model.pt and config.yaml beside it
    output:
        npz=f"{INPAINT_DIR}/inpainting.npz",
        table=f"{INPAINT_DIR}/inpainting.csv",
    log:
        in_results("logs/inpainting/{dataset}/{sampler}/seed{seed}.log"),
    wildcard_constraints:
        dataset=re.escape(INPAINTING["dataset"]),
    conda:
        ENVIRONMENT
    threads: 1
    resources:
        gpu=lambda w: 1 if uses_gpu(w.dataset) else 0,
    params:
        run=lambda w, input: os.path.dirname(input[0]),
        out=parent("npz"),
        options=inpaint_options,
        slot=slot_prefix,
    shell:
        "{params.slot}stanley inpaint --run {params.run:q} --out-dir {params.out:q} {params.options} "
        "--threads {threads} > {log:q} 2>&1"
