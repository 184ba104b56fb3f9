"""The grid's workers die with the grid: killing the grid's process alone (SIGTERM, or
SIGKILL that no handler sees) leaves no worker training as an orphan."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

GRID = textwrap.dedent("""
    import os, sys, time
    from dmh.experiments.worker_pool import worker_pool

    def hold(path):  # a worker busy with a long job, as a training run is
        open(path + ".tmp", "w").write(str(os.getpid()))
        os.replace(path + ".tmp", path)
        time.sleep(120)

    if __name__ == "__main__":
        pool = worker_pool(2, poll_s=0.1)
        jobs = [pool.submit(hold, os.path.join(sys.argv[1], f"w{i}")) for i in range(2)]
        time.sleep(120)
""")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie no longer runs; whoever adopted it reaps it later


def _wait(cond, timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_workers_exit_when_the_grid_is_killed(tmp_path, sig):
    script = tmp_path / "grid.py"
    script.write_text(GRID)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    grid = subprocess.Popen([sys.executable, str(script), str(tmp_path)], env=env)
    try:
        pid_files = [tmp_path / "w0", tmp_path / "w1"]
        assert _wait(lambda: all(f.exists() for f in pid_files), 60), "the workers never started"
        pids = [int(f.read_text()) for f in pid_files]
        time.sleep(0.5)  # several watch periods: a live parent keeps its workers
        assert all(_alive(p) for p in pids)
        grid.send_signal(sig)
        grid.wait(10)
        assert _wait(lambda: not any(_alive(p) for p in pids), 10), \
            f"workers {[p for p in pids if _alive(p)]} outlived their grid"
    finally:
        grid.kill()
        for f in tmp_path.glob("w?"):
            try:
                os.kill(int(f.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_the_grid_trains_in_the_watched_pool(monkeypatch, tmp_path):
    """`train_pool` with several workers takes its processes from `worker_pool`."""
    from concurrent.futures import ThreadPoolExecutor

    from dmh.core.config import TrainConfig
    from dmh.experiments import runner
    from dmh.run.store import Store
    asked = []
    monkeypatch.setattr(runner, "worker_pool", lambda n: asked.append(n) or ThreadPoolExecutor(n))
    monkeypatch.setattr(runner, "_train_group", lambda group, store, device: [
        type("Rec", (), {"metrics": {"map_all": 0.5}, "train_s": 1.0})() for _ in group])
    said = []
    cfgs = [TrainConfig(dataset="d", seed=s) for s in range(3)]
    runner.train_pool(cfgs, Store(tmp_path), workers=2, log=said.append)
    assert asked == [2] and sum(s.startswith("done ") for s in said) == 3
