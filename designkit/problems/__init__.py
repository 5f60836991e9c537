"""Design problems: geometry, sources, probes, loss and metrics behind one interface.

:class:`Problem` is the interface (:mod:`.base`), :mod:`.setup` what it simulates, and
:data:`PROBLEMS` (:mod:`.registry`) every problem a configuration can name, each with its
:class:`ProblemKind` (:mod:`.kind`): the vowel classifier (:mod:`.vowels`, its recordings in
:mod:`.vowel_data` and :mod:`.synthetic_vowels`), the focusing lens (:mod:`.lens`) and the
drawn problem (:mod:`.custom`). :mod:`.refine` puts any setup on a finer grid.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["base", "custom", "kind", "lens", "refine", "registry", "setup",
                "synthetic_vowels", "vowel_data", "vowels"],
    submod_attrs={
        "base": ["Problem"],
        "custom": ["CustomConfig", "CustomProbeConfig", "CustomProblem", "RegionShapeConfig"],
        "kind": ["Drawing", "ProblemKind", "Sketch"],
        "lens": ["LensConfig", "LensProblem"],
        "refine": ["RefinedSetup", "refine_setup"],
        "registry": ["PROBLEMS", "problem_kind"],
        "setup": ["Batch", "BatchSettings", "Fold", "Setup"],
        "synthetic_vowels": ["synthetic_vowels"],
        "vowel_data": ["VowelSet", "load_vowel_folder"],
        "vowels": ["DataConfig", "VowelGeometry", "VowelGeometryConfig", "VowelProblem"],
    },
)
