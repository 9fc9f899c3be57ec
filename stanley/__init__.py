"""STANLEY reproducibility suite: samplers, toy targets, energy networks and the training
loop of the paper's Algorithm 1, with the evaluation, figures and report around them."""

__version__ = "0.1.0"
