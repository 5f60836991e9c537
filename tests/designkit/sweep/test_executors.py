"""The Dask session a sweep starts: its workers, their settings, and its slots."""

from __future__ import annotations

import pytest

from wavefab.designkit.sweep import start_dask

pytest.importorskip("dask.distributed")


def _worker_settings() -> dict:
    import os

    import dask

    return {"profile": dask.config.get("distributed.worker.profile.enabled"),
            "threads": os.environ.get("WAVEFAB_THREADS")}


def test_a_local_cluster_has_quiet_single_slot_workers():
    """Workers without the 10 ms stack sampler, one task slot each, the point's threads set."""
    import dask

    session = start_dask(scheduler=None, workers=2, threads_per_worker=1, cluster=None)
    try:
        assert session.slots == 2 and session.threads == 1
        info = session.client.scheduler_info()["workers"]
        assert len(info) == 2 and all(w["nthreads"] == 1 for w in info.values())
        settings = session.client.run(_worker_settings)
        assert list(settings.values()) == [{"profile": False, "threads": "1"}] * 2
        assert session.dashboard and session.dashboard.startswith("http://127.0.0.1:")
        # the driver's own settings are left as they were
        assert dask.config.get("distributed.worker.profile.enabled") is True
    finally:
        session.close()


@pytest.mark.parametrize("address, says", [
    ("tcp://127.0.0.1:9", "cannot connect"),
    ("127.0.0.1:9", "cannot connect"),
    ("tcp://127.0.0.1", "not a scheduler address"),
    ("tcp://127.0.0.1:notaport", "not a scheduler address"),
])
def test_an_unreachable_scheduler_is_one_clear_error_at_once(address: str, says: str):
    import time

    from wavefab.designkit.sweep.spec import SweepError

    start = time.perf_counter()
    with pytest.raises(SweepError, match=f"--scheduler {address}: {says}"):
        start_dask(scheduler=address, workers=1, threads_per_worker=1, cluster=None)
    assert time.perf_counter() - start < 10, "it waited for Dask's connect timeout"
