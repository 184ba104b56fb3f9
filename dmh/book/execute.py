"""Execute one chapter: notebooks/<stem>.ipynb run by papermill (a profile injected into
its `parameters` cell), written atomically; a failed cell or a Python warning printed by a
cell fails it, and the executed notebook is kept in _build/failed."""
from __future__ import annotations

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
        try:
            pm.execute_notebook(str(src), str(tmp), parameters={"profile": profile} if profile else None,
                                kernel_name=KERNEL, cwd=str(REPO_ROOT), progress_bar=False,
                                log_output=False)
        except PapermillExecutionError as e:
            failed.parent.mkdir(parents=True, exist_ok=True)
            if tmp.exists():
                shutil.copyfile(tmp, failed)
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
            nbformat.write(nb, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return wall
