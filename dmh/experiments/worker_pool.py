"""The grid's process pool, whose workers die with the grid. A worker runs a training job
for an hour; killed alone (`kill <grid pid>`, a session's end, an OOM kill), the grid
would leave it training as an orphan that holds a core and writes records nobody asked
for. Each worker watches its parent and exits as soon as the parent is gone."""
from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

POLL_S = 0.5  # how long an orphan may outlive its grid


def _exit_when_orphaned(parent_pid: int, poll_s: float) -> None:
    """Exit this process when `parent_pid` is no longer its parent (the parent died and the
    worker was re-parented). Checkpoints and records are written atomically, so exiting
    between any two instructions leaves the last checkpoint to resume from."""
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        os._exit(143)  # as SIGTERM would; Python's cleanup could wait on the dead parent

    threading.Thread(target=watch, name="exit-when-orphaned", daemon=True).start()


def worker_pool(workers: int, poll_s: float = POLL_S) -> ProcessPoolExecutor:
    """`workers` spawned processes (torch and OpenMP are not fork-safe) that exit with this one."""
    return ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                               initializer=_exit_when_orphaned, initargs=(os.getpid(), poll_s))
