"""Training: the loop, its settings and events, the objective, checkpoints and the made design.

:func:`optimize` (:mod:`.loop`) trains any problem and yields :mod:`.events`;
:class:`TrainingConfig` (:mod:`.settings`) is the ``training:`` section; :class:`Objective`
(:mod:`.objective`) the value a step minimizes; :mod:`.checkpoint` makes runs resumable;
:mod:`.finalize` turns a trained latent into the made design and its figures.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["checkpoint", "events", "finalize", "loop", "objective", "settings"],
    submod_attrs={
        "checkpoint": ["load_checkpoint", "save_checkpoint"],
        "events": ["BatchEnd", "EpochEnd", "Event", "FoldEnd", "RunEnd", "RunStart"],
        "finalize": ["choose_made_design", "made_design", "made_design_metrics",
                     "repair_candidates"],
        "loop": ["fingerprint", "optimize"],
        "objective": ["Objective"],
        "settings": ["TrainingConfig"],
    },
)
