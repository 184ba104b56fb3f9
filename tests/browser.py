"""Headless Chromium for the book's browser test (`import browser` from tests/)."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from dmh.book import BookError


def chromium_exe() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(page: Path, *args: str, timeout: int = 60) -> str:
    """Run headless Chromium on a local page (offline: no sync, no component updates) and
    return its stdout (the DOM with `--dump-dom`)."""
    exe = chromium_exe()
    if exe is None:
        raise BookError("chromium not found: apt-get install -y chromium (scripts/setup.sh does it as root)")
    with tempfile.TemporaryDirectory(prefix="dmh-chromium-") as profile_dir:
        cmd = ["timeout", str(timeout), exe, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", f"--user-data-dir={profile_dir}",
               "--virtual-time-budget=3000", *args, Path(page).resolve().as_uri()]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 10)
    if r.returncode != 0:
        raise BookError(f"chromium failed on {page} (exit {r.returncode}): {r.stderr[-2000:]}")
    return r.stdout
