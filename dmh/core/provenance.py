"""How a result was made: git commit, package versions, hardware. Stored in every record."""
from __future__ import annotations

import platform
import subprocess
import sys

from .paths import REPO_ROOT, git_commit_override


def git_commit() -> str:
    """HEAD (+dirty if dmh/ has changes); `$DMH_GIT_COMMIT` on a copy without .git."""
    if git_commit_override():
        return git_commit_override()
    try:
        out = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "dmh"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(threads: int | None = None, device: str = "cpu") -> dict:
    import numpy
    import torch

    hw = {"cpu": cpu_name(), "machine": platform.machine(), "device": device,
          "torch_threads": threads if threads is not None else torch.get_num_threads()}
    if device.startswith("cuda") and torch.cuda.is_available():
        hw["gpu"] = torch.cuda.get_device_name(0)
    return {"git_commit": git_commit(), "python": sys.version.split()[0],
            "versions": {"torch": torch.__version__, "numpy": numpy.__version__},
            "hardware": hw}
