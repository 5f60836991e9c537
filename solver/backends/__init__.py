"""The backends that step a validated setup: fused kernels (numba, CPU and CUDA), plain torch.

Each propagator dispatches to one of them; they import only the floor below it
(:mod:`wavefab.solver._setup`, :mod:`wavefab.solver.operators`, the grid, boundaries, sources,
probes, errors and threads), never the propagator. Importing this package imports none of them
(numba is slow to import and CUDA runs need only torch).

* :mod:`.scalar_numba`, over the fused kernels of :mod:`.kernels_cpu`: linear scalar media on
  the CPU, with a hand-written adjoint; the same autograd functions drive the CUDA kernels of
  :mod:`.kernels_cuda` (numba.cuda; linear media without a PML; simulator-tested).
* :mod:`.nonlinear_numba`: the nonlinear scalar medium without a PML on the CPU, fused kernels
  and their exact adjoint.
* :mod:`.scalar_torch`: scalar media on any device, and nonlinear media with a PML.
* :mod:`.acoustic_numba`: acoustic media on the CPU with any boundary (the CPML its own pair of
  kernels), with a hand-written adjoint (its kernels are in the module).
* :mod:`.acoustic_torch`: acoustic media on any device; the reference the kernels are tested
  against.
* :mod:`.segments`: the checkpointed march both torch backends share.
"""
