"""How a result was made: git commit, package versions, hardware. Stored in every record."""
from __future__ import annotations

import platform
import subprocess
import sys

from .paths import REPO_ROOT, channels_last, git_commit_override


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


def _cpuinfo(*keys: str) -> str | None:
    """The value of the first /proc/cpuinfo line starting with one of `keys`; None where absent."""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith(keys):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_name() -> str:
    return _cpuinfo("model name") or platform.processor() or platform.machine()


def cpu_flags() -> set[str]:
    """The CPU's feature flags (`flags` on x86, `Features` on Arm); empty where unknown."""
    return set((_cpuinfo("flags", "Features") or "").split())


# x86: AVX-512 BF16 or AMX; Arm: the BF16 extension. Without one, torch's CPU bfloat16
# kernels convert in software (measured here on an AVX2-only EPYC: a DMH training step
# 1,053 ms under bf16 autocast against 136 ms in float32).
NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


def slow_bf16(device: str = "cpu") -> bool:
    """Whether bfloat16 autocast would run without native support: on a CPU whose known flags
    name none of `NATIVE_BF16_FLAGS` (a GPU, or flags that cannot be read: not slow)."""
    flags = cpu_flags()
    return device == "cpu" and bool(flags) and not flags & NATIVE_BF16_FLAGS


def provenance(threads: int | None = None, device: str = "cpu") -> dict:
    import numpy
    import torch

    hw = {"cpu": cpu_name(), "machine": platform.machine(), "device": device,
          "torch_threads": threads if threads is not None else torch.get_num_threads()}
    if device.startswith("cuda") and torch.cuda.is_available():
        hw["gpu"] = torch.cuda.get_device_name(0)
    if channels_last():
        hw["memory_format"] = "channels_last"
    return {"git_commit": git_commit(), "python": sys.version.split()[0],
            "versions": {"torch": torch.__version__, "numpy": numpy.__version__},
            "hardware": hw}
