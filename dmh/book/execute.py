"""Execute one chapter: notebooks/<stem>.ipynb run by papermill (a profile injected into
its `parameters` cell), written atomically; a failed cell or a Python warning printed by a
cell fails it, and the executed notebook is kept in _build/failed.

The book's copy reads results first (`fold_code`): every code cell is folded behind a
"show code" toggle, and the parameter cells, which print nothing, are left out of the page.
The kernel's own chatter on stderr (transport notices, shutdown) is kept out of the build log
and shown only when a chapter fails.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from ..core.paths import REPO_ROOT
from .errors import BookError
from .toc import FAILED_DIR, KERNEL, NOTEBOOK_DIR

WARNING_RE = re.compile(r"\b[A-Z]\w*Warning\b")


def _check_source(nb, stem: str) -> None:
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise BookError(f"notebooks/{stem}.ipynb: {len(tagged)} cells tagged `parameters`, "
                        f"exactly one wanted (see notebooks/README.md)")
    if not re.search(r"^profile\s*=", tagged[0].source, flags=re.MULTILINE):
        raise BookError(f"notebooks/{stem}.ipynb: its parameters cell does not set `profile`")
    if nb.metadata.get("kernelspec", {}).get("name") != KERNEL:
        raise BookError(f"notebooks/{stem}.ipynb: kernelspec must be {KERNEL!r}")


def notebook_problems(nb) -> list[str]:
    """Error outputs and Python warnings printed by the cells of an executed notebook."""
    problems = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = "".join(out.get("text", ""))
                if WARNING_RE.search(text):
                    problems.append(f"cell {i} printed a warning: {text.strip()[:400]}")
    return problems


# Cells no reader needs on the page: the profile is printed by the provenance cell.
_LEFT_OUT = {"parameters", "injected-parameters"}


def fold_code(nb) -> None:
    """The rule that folds code in the book: `hide-input` on every code cell (one click opens
    it), `remove-cell` on the parameter cells; a cell's own remove-* tags win."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.setdefault("tags", [])
        if any(t.startswith("remove") for t in tags):
            continue
        tags.append("remove-cell" if _LEFT_OUT & set(tags) else "hide-input")


@contextlib.contextmanager
def _quiet_stderr(log: Path):
    """Send file descriptor 2 (this process and the kernel it starts) to `log`."""
    saved = os.dup(2)
    with open(log, "w") as f:
        os.dup2(f.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _strip_papermill(nb) -> None:
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)


def execute_chapter(stem: str, profile: str | None, out: Path) -> float:
    """Run notebooks/<stem>.ipynb into `out` (atomically) with papermill, in the repo root.

    `profile=None` runs the notebook's own defaults (the quick profile) and injects
    nothing. Returns the wall time in seconds.
    """
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    src = NOTEBOOK_DIR / f"{stem}.ipynb"
    if not src.exists():
        raise BookError(f"chapter {stem!r}: {src} not found; each chapter is notebooks/<stem>.ipynb")
    _check_source(nbformat.read(src, as_version=4), stem)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(dir=out.parent, prefix=".papermill-"))
    tmp = tmpdir / f"{stem}.ipynb"
    failed = FAILED_DIR / f"{stem}.ipynb"
    t = time.perf_counter()
    try:
        kernel_log = tmpdir / "kernel-stderr.log"
        try:
            with _quiet_stderr(kernel_log):
                pm.execute_notebook(str(src), str(tmp), progress_bar=False, log_output=False,
                                    parameters={"profile": profile} if profile else None,
                                    kernel_name=KERNEL, cwd=str(REPO_ROOT))
        except PapermillExecutionError as e:
            failed.parent.mkdir(parents=True, exist_ok=True)
            if tmp.exists():
                shutil.copyfile(tmp, failed)
            shutil.copyfile(kernel_log, failed.with_suffix(".stderr.log"))
            raise BookError(f"chapter {stem!r} ({profile or 'defaults'}): cell [{e.exec_count}] raised "
                            f"{e.ename}: {e.evalue}; executed notebook: {failed}") from e
        wall = time.perf_counter() - t
        nb = nbformat.read(tmp, as_version=4)
        problems = notebook_problems(nb)
        if problems:
            failed.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tmp, failed)
            raise BookError(f"chapter {stem!r}: " + "; ".join(problems) + f"; executed notebook: {failed}")
        if profile is None:
            _strip_papermill(nb)  # committed quick outputs: keep the diffs to what changed
        else:
            fold_code(nb)
        nbformat.write(nb, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return wall
