"""Learning: energy networks, the training loop of Algorithm 1 (solo and batched), Improved CD
and its augmentations, and the toy evaluation a training run reports as it goes."""
