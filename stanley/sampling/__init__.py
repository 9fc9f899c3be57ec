"""Sampling: the MCMC kernels (:mod:`.samplers` is their registry) and the toy targets they are
checked on. Knows nothing of training: a kernel needs only a log-density and its gradient."""
