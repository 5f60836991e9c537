"""The backends that step a validated setup: fused CPU kernels (numba) and plain torch.

Each propagator dispatches to one of them; they import only the floor below it
(:mod:`wavefab.solver._setup`, :mod:`wavefab.solver.operators`, the grid, boundaries, sources,
probes, errors and threads), never the propagator. Importing this package imports none of them
(numba is slow to import and CUDA runs need only torch).

* :mod:`.scalar_numba`, over the fused kernels of :mod:`.kernels_cpu`: linear scalar media on
  the CPU, with a hand-written adjoint.
* :mod:`.scalar_torch`: scalar media on any device, and nonlinear media.
* :mod:`.acoustic_numba`: acoustic media without a PML on the CPU, with a hand-written adjoint
  (its kernels are in the module).
* :mod:`.acoustic_torch`: acoustic media on any device, and with a PML.
* :mod:`.segments`: the checkpointed march both torch backends share.
"""
