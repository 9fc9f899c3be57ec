"""The experiment as data: the suite config and its checks, sampler options and STANLEY's
readings, studies, the ambiguity ablation and the tuning stage. Torch-free where it can be, so
that planning a DAG never pays for importing torch."""
