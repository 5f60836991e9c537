"""What can be made, and whether a design can: processes, rules in cells, DRC, physical scale.

:mod:`.processes` (named rule presets), :mod:`.rules` (a physical rule in cells at a pitch),
:mod:`.fabrication` (what the optimizer must respect: :class:`Fabrication`), :mod:`.drc` (the
design-rule check and repair) and :mod:`.scaling` (what a design is physically at a pitch).
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["drc", "fabrication", "processes", "rules", "scaling"],
    submod_attrs={
        "drc": ["DrcReport", "Violation"],
        "fabrication": ["Fabrication", "build_fabrication"],
        "processes": ["C_AIR", "PRESETS", "Process", "get_process", "load_processes"],
        "rules": ["FabricationWarning", "RuleAtPitch", "process_rule_cells", "rule_at_pitch",
                  "rule_cells"],
        "scaling": ["CELLS_PER_WAVELENGTH", "pitch_for_frequency", "scale_report"],
    },
)
