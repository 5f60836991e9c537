"""Sweeps: many configurations of one base, run on a local pool, Dask or any executor.

::

    from wavefab.designkit.sweep import load_sweep, sweep

    for event in sweep(load_sweep("assets/examples/sweep_lens_rules.yaml"), "results/rules",
                       workers=2):
        print(event)

:mod:`.spec` reads the sweep file and builds its points; :mod:`.engine` runs them, through
:mod:`.driver` (``sweep.json`` and the points in flight) and :mod:`.events`; :mod:`.worker` is
what a worker process runs; :mod:`.executors` builds the local pool and the Dask clusters;
:mod:`.search` drives the Optuna study that :mod:`.study` keeps; :mod:`.summary` writes the
summary and its plots; :mod:`.folder` reads a sweep folder back (the designer's table), and
:mod:`.authoring` writes a sweep file over a configuration (the designer's "Save as sweep").
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["authoring", "driver", "engine", "events", "executors", "folder", "search",
                "spec", "study", "summary", "worker"],
    submod_attrs={
        "authoring": ["SweepDraft", "draft_sweep", "parse_values", "setting_values",
                      "write_sweep_file"],
        "engine": ["PointEnd", "PointStart", "SweepEnd", "SweepEvent", "SweepStart",
                   "read_sweep", "sweep"],
        "executors": ["CLUSTER_EXTRA", "jobqueue_cluster", "local_pool", "start_dask"],
        "folder": ["SweepFolder", "is_sweep_folder", "read_sweep_folder"],
        "spec": ["Point", "SweepError", "SweepSpec", "load_sweep", "parse_sweep"],
        "summary": ["ranked_rows", "summary_rows", "write_summary"],
        "worker": ["PointTask", "run_point"],
    },
)
