"""The sweep folder's Optuna study: ``optuna.journal`` (journal file storage)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .spec import SweepSpec, need_cluster_extra

__all__ = ["JOURNAL", "STUDY", "import_optuna", "open_study"]

#: The study's file in the sweep folder, and its name there.
JOURNAL, STUDY = "optuna.journal", "wavefab-sweep"


def import_optuna() -> Any:
    """The optuna module, or one line naming the extra that brings it."""
    try:
        import optuna
    except ImportError:
        need_cluster_extra("optuna:")
    return optuna


def open_study(out: Path, spec: SweepSpec) -> Any:
    """The sweep folder's study (created on first use)."""
    optuna = import_optuna()
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out.mkdir(parents=True, exist_ok=True)
    storage = JournalStorage(JournalFileBackend(str(out / JOURNAL)))
    try:
        earlier = len(storage.get_all_trials(storage.get_study_id_from_name(STUDY)))
    except KeyError:
        earlier = 0
    # a sampler seeded as before would propose the first trials again after a resume: the
    # seed moves on with the trials already in the study (still the same for the same history)
    seed = spec.optuna.get("seed", 0) + earlier
    samplers = {"tpe": lambda: optuna.samplers.TPESampler(seed=seed),
                "cmaes": lambda: optuna.samplers.CmaEsSampler(seed=seed),
                "random": lambda: optuna.samplers.RandomSampler(seed=seed)}
    return optuna.create_study(study_name=STUDY, storage=storage,
                               load_if_exists=True, direction=spec.direction,
                               sampler=samplers[spec.optuna.get("sampler", "tpe")]())
