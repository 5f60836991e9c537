"""Where a sweep's points run: a local process pool, or Dask.

Dask means a running cluster (``--scheduler``), a LocalCluster, or a SLURM/PBS/LSF cluster that
dask-jobqueue builds from the sweep file's ``cluster:`` section.

Every engine comes down to a :class:`concurrent.futures.Executor`, which is all
:func:`wavefab.designkit.sweep.sweep` needs: Dask's ``Client.get_executor()`` is one.

A ``cluster:`` section::

    cluster:
      kind: slurm            # slurm, pbs or lsf
      cores: 2               # per job; also the threads a point gets
      memory: 8GB            # per job
      walltime: "02:00:00"
      queue: normal          # optional
      account: myproject     # optional
      jobs: 4                # a fixed number of jobs, or:
      adapt: {minimum: 0, maximum: 10}

The workers wavefab starts (a LocalCluster, or the jobs of a ``cluster:`` section) run without
Dask's statistical profiler: it samples the running task's stack every 10 ms, which takes the
GIL from the point's solver, and measured here it cost a 2-worker LocalCluster about 8% of a
core per worker and made its points 10–15% slower than the local pool's. The dashboard's other
pages are unaffected; a running cluster given by ``--scheduler`` keeps its own settings.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .spec import (
    CLUSTER_EXTRA,
    CLUSTER_KINDS,
    SweepError,
    check_cluster,
    need_cluster_extra,
    walltime_seconds,
)

__all__ = ["CLUSTER_EXTRA", "DaskSession", "check_cluster", "jobqueue_cluster", "local_pool",
           "start_dask"]

#: Dask settings for the workers a sweep starts (see the module's docstring)
WORKER_CONFIG = {"distributed.worker.profile.enabled": False}

def _init_worker(threads: int) -> None:
    from .worker import limit_threads

    limit_threads(threads)
    _exit_with_parent()


def _exit_with_parent() -> None:
    """End this worker when the driver dies (``kill -9``).

    So no orphan keeps writing a point's folder while a resumed sweep continues it.
    """
    import os
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="wavefab-parent-watch", daemon=True).start()


def local_pool(workers: int, threads_per_worker: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` fresh processes, each limited to ``threads_per_worker`` threads.

    Processes are spawned, not forked: the driver has torch's thread pools loaded, and a forked
    child of a threaded process may deadlock.
    """
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(threads_per_worker,))


def jobqueue_cluster(section: dict[str, Any]) -> Any:
    """The dask-jobqueue cluster a ``cluster:`` section describes (no job is submitted yet).

    Each job runs one Dask worker process with ``cores`` threads: a point uses them all.
    """
    try:
        import dask_jobqueue
    except ImportError:
        need_cluster_extra("a cluster: section")
    cls = getattr(dask_jobqueue, CLUSTER_KINDS[section["kind"]])
    kwargs: dict[str, Any] = {"cores": section["cores"], "memory": str(section["memory"]),
                              "processes": section.get("processes", 1)}
    for key in ("walltime", "queue", "account", "job_extra_directives", "local_directory",
                "interface"):
        if section.get(key) is not None:
            kwargs[key] = section[key]
    if "walltime" in kwargs:
        seconds = walltime_seconds(kwargs["walltime"], "cluster.walltime")
        if section["kind"] == "lsf":  # LSF takes HH:MM; round up to whole minutes
            hours, minutes = divmod(-(-seconds // 60), 60)
            kwargs["walltime"] = f"{hours:02d}:{minutes:02d}"
        else:
            hours, rest = divmod(seconds, 3600)
            kwargs["walltime"] = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    if "account" in kwargs and section["kind"] == "lsf":
        kwargs["project"] = kwargs.pop("account")  # LSF calls the account a project
    # one point per worker at a time: the worker's threads belong to the point's solver
    kwargs["worker_extra_args"] = ["--nthreads", "1"]
    kwargs["job_script_prologue"] = [
        f"export DASK_{key.upper().replace('.', '__').replace('-', '_')}={value}"
        for key, value in WORKER_CONFIG.items()]
    return cls(**kwargs)


@dataclass
class DaskSession:
    """A Dask client and what was started for it (closed by :meth:`close`)."""

    client: Any
    executor: Executor
    dashboard: str | None
    threads: int
    owned: list[Any] = field(default_factory=list)
    #: points the cluster can run at once (its worker processes)
    slots: int = 1

    def close(self) -> None:
        """Close the client and any cluster started for it."""
        self.client.close()
        for thing in self.owned:
            thing.close()


def _check_reachable(address: str) -> None:
    """Refuse a ``tcp://HOST:PORT`` nobody listens on at once (Dask would retry for 20 s)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls"):
        return  # inproc://, ucx://: let Dask judge
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise SweepError(f"--scheduler {address}: not a scheduler address; give "
                         "tcp://HOST:PORT (as the scheduler prints it)")
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        raise SweepError(f"--scheduler {address}: cannot connect ({exc.strerror or exc}); "
                         "is the scheduler running there?") from None


def start_dask(*, scheduler: str | None, workers: int, threads_per_worker: int,
               cluster: dict[str, Any] | None) -> DaskSession:
    """Connect to ``scheduler``, or build the ``cluster:`` section's cluster, or a LocalCluster.

    A point whose worker died comes back as an exception, and the sweep tries it again from
    its checkpoint (``retries:``), on whichever worker Dask gives it, as for the local pool.
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        need_cluster_extra("--executor dask")
    owned: list[Any] = []
    threads, slots = threads_per_worker, workers
    if scheduler:
        _check_reachable(scheduler)
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise SweepError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        # a running cluster runs as many points as it has worker processes now
        slots = max(len(client.scheduler_info().get("workers", {})), 1)
    elif cluster is not None:
        made = jobqueue_cluster(cluster)
        owned.append(made)
        processes = int(cluster.get("processes", 1))
        if "adapt" in cluster:
            made.adapt(**cluster["adapt"])
            slots = max(int(cluster["adapt"].get("maximum", 1)), 1) * processes
        else:
            made.scale(jobs=cluster.get("jobs", 1))
            slots = int(cluster.get("jobs", 1)) * processes
        client = Client(made)
        threads = max(int(cluster["cores"]) // processes, 1)
    else:
        import dask

        # worker processes with one task slot each; the point's threads are its own
        with dask.config.set(WORKER_CONFIG):  # the nannies pass it on to their workers
            made = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                env={"OMP_NUM_THREADS": str(threads_per_worker),
                                     "WAVEFAB_THREADS": str(threads_per_worker)})
        owned.append(made)
        client = Client(made)
    executor = client.get_executor(pure=False)
    return DaskSession(client, executor, getattr(client, "dashboard_link", None), threads, owned,
                       slots)
