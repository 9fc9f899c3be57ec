# FID reference statistics: once per (data set, feature protocol, image size), from the data
# set's training images (the same images, data.limit included, that its runs train on) through
# clean-fid's resizing and feature network, cached under results/reference/ (docs/maths.md, FID).
import shlex


def reference_inputs(wildcards):
    inputs = {"data": data_stamp(wildcards.dataset)} if wildcards.dataset in DOWNLOADABLE else {}
    if wildcards.protocol == "inception":
        inputs["inception"] = ancient(inception_file(dataset_run(wildcards.dataset)))
    return inputs


def reference_args(wildcards, output):
    spec, fid = dataset_run(wildcards.dataset)["data"], dataset_run(wildcards.dataset)["fid"]
    args = ["--dataset", wildcards.dataset, "--root", spec["root"], "--image-size", wildcards.size,
            "--device", "cuda" if uses_gpu(wildcards.dataset) else "cpu", "--out", output[0]]
    args += ["--split", spec["split"]]
    if spec["limit"]:
        args += ["--limit", str(spec["limit"])]
    args += ["--proxy"] if wildcards.protocol == "proxy" else ["--inception", inception_file(dataset_run(wildcards.dataset))]
    return shlex.join(args)


rule reference_stats:
    input:
        unpack(reference_inputs),
    output:
        REFERENCE,
    wildcard_constraints:
        dataset="|".join(IMAGE_DATASETS) or "(?!x)x",
        protocol="proxy|inception",
        size=r"\d+",
    params:
        args=reference_args,
        slot=slot_prefix,
    resources:
        gpu=lambda w: 1 if uses_gpu(w.dataset) else 0,
    threads: 1
    log:
        RESULTS + "/logs/reference/{dataset}_{protocol}_{size}.log",
    shell:
        "{params.slot}stanley fid-stats {params.args} > {log} 2>&1"
