"""The design core: problem → parametrization → optimize → fab → export, and the project.

Headless and importable; both the CLI and the GUI call it. The stages are subpackages, each
with a face that names its public API; the verbs the CLI offers are modules of their own::

    from wavefab.designkit import load_config
    from wavefab.designkit.run import run                  # train, write a results folder
    from wavefab.designkit.verify import verify            # re-simulate an exported file
    from wavefab.designkit import load_design, export_design, ExportSettings

Subpackages: :mod:`.problems` (what is optimized), :mod:`.parametrization` (latent →
material), :mod:`.optimize` (the training loop), :mod:`.fab` (processes, rules, DRC, scale),
:mod:`.export` (files out and back), :mod:`.project` (what the designer edits). Top-level
modules: the verbs (:mod:`.run`, :mod:`.verify`, :mod:`.scale`, :mod:`.demo`, :mod:`.check`),
the schema and the results folder (:mod:`.config`, :mod:`.results`) and shared leaves
(:mod:`.geometry`, :mod:`.units`, :mod:`.errors`, :mod:`.files`, :mod:`.plots`).

Everything is imported on first use: ``import wavefab.designkit`` loads neither torch nor
matplotlib.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["check", "config", "demo", "errors", "export", "fab", "files", "geometry",
                "optimize", "parametrization", "plots", "problems", "project", "results", "run",
                "scale", "sweep", "units", "verify"],
    submod_attrs={
        "config": ["ConfigError", "RunConfig", "load_config"],
        "errors": ["DesignError", "DesignValueError"],
        "export": ["ExportSettings", "export_design", "import_raster"],
        "problems": ["Problem"],
        "results": ["Design", "load_design"],
    },
)
