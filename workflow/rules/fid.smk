# FID reference statistics: once per (data set, feature protocol, image size), from the data
# set's training images (the same images, data.limit included, that its runs train on) through
# clean-fid's resizing and feature network, cached under results/reference/ (docs: FID). The plan lists the files its runs use.


rule reference_stats:
    input:
        unpack(reference_inputs),
    output:
        REFERENCE,
    log:
        in_results("logs/reference/{dataset}_{protocol}_{size}.log"),
    wildcard_constraints:
        dataset=one_of(PLAN.image_datasets()),
        protocol="proxy|inception",
        size=r"\d+",
    conda:
        ENVIRONMENT
    threads: 1
    resources:
        gpu=lambda w: int(PLAN.uses_gpu(w.dataset)),
    params:
        args=reference_args,
        slot=slot_prefix,
    shell:
        "{params.slot}stanley fid-stats {params.args} > {log:q} 2>&1"
