"""Build the book: execute the chapters with a profile into book/ (or in place into
notebooks/ with their defaults), then `jupyter-book build -W` the HTML of every toc page
into _build/html, which must pass `check_site`."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from ..core.paths import REPO_ROOT
from .checks import check_site
from .errors import BookError
from .execute import execute_chapter
from .toc import BOOK_DIR, NOTEBOOK_DIR, TOC_PATH, chapter_stems, missing_pages



def jupyter_book_exe() -> str:
    exe = Path(sys.executable).with_name("jupyter-book")
    if not exe.exists():
        raise BookError(f"{exe} not found: install requirements.txt (bash scripts/setup.sh)")
    return str(exe)


def build_html(toc: Path | None = None, path_output: Path | None = None) -> Path:
    """`jupyter-book build REPO_ROOT -W --builder html`, no execution; the HTML folder.

    Fails on any warning, a missing toc page or a problem `check_site` finds.
    """
    toc = Path(toc).resolve() if toc else TOC_PATH
    missing = missing_pages(toc)
    if missing:
        stems = " ".join(Path(m).stem for m in missing)
        raise BookError(f"the toc {toc.name} lists pages that do not exist: {', '.join(missing)}; "
                        f"the build needs every chapter: execute them (`dmh book --chapters {stems}`) "
                        f"or build a partial book with --toc")
    cmd = [jupyter_book_exe(), "build", str(REPO_ROOT), "-W", "--keep-going", "--builder", "html"]
    if toc != TOC_PATH:
        cmd += ["--toc", str(toc)]
    if path_output is not None:
        cmd += ["--path-output", str(path_output)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT)
    log = r.stdout + r.stderr
    warnings = [ln for ln in log.splitlines() if "WARNING" in ln or "ERROR" in ln]
    if r.returncode != 0 or warnings:
        detail = "\n".join(warnings) or log[-3000:]
        raise BookError(f"jupyter-book build failed (exit {r.returncode}):\n{detail}")
    html_dir = Path(path_output or REPO_ROOT) / "_build" / "html"
    problems = check_site(html_dir, toc)
    if problems:
        raise BookError("the built book has problems:\n" + "\n".join(problems))
    return html_dir


def build_book(profile: str = "paper", chapters: list[str] | None = None, execute: bool = True,
               *, toc: Path | None = None) -> None:
    """Execute the chapter notebooks (all, or `chapters`) with `profile` into book/, then
    build the HTML of every page of the toc (all must exist) into _build/html.

    `toc` replaces `_toc.yml` (a partial book while chapters are being written).
    """
    from ..experiments.profiles import get_profile

    try:
        get_profile(profile)
    except ValueError as e:
        raise BookError(str(e)) from None
    toc = Path(toc).resolve() if toc else TOC_PATH
    stems = chapter_stems(toc)
    chosen = stems if chapters is None else list(chapters)
    unknown = [c for c in chosen if c not in stems]
    if unknown:
        raise BookError(f"not notebook chapters of {toc.name}: {unknown}; chapters: {stems}")
    total = time.perf_counter()
    if execute:
        for stem in chosen:
            wall = execute_chapter(stem, profile, BOOK_DIR / f"{stem}.ipynb")
            print(f"{stem}: executed ({profile}) in {wall:.1f} s -> book/{stem}.ipynb", flush=True)
    t = time.perf_counter()
    html_dir = build_html(toc)
    print(f"html: built in {time.perf_counter() - t:.1f} s -> {html_dir / 'index.html'}", flush=True)
    print(f"total: {time.perf_counter() - total:.1f} s", flush=True)


def update_notebooks(chapters: list[str] | None = None, *, toc: Path | None = None) -> None:
    """Execute notebooks/<stem>.ipynb in place with their defaults (the quick profile): the
    committed outputs nbval compares against."""
    stems = chapter_stems(Path(toc) if toc else TOC_PATH)
    chosen = stems if chapters is None else list(chapters)
    unknown = [c for c in chosen if c not in stems]
    if unknown:
        raise BookError(f"not notebook chapters: {unknown}; chapters: {stems}")
    total = time.perf_counter()
    for stem in chosen:
        wall = execute_chapter(stem, None, NOTEBOOK_DIR / f"{stem}.ipynb")
        print(f"{stem}: executed (quick, in place) in {wall:.1f} s -> notebooks/{stem}.ipynb", flush=True)
    print(f"total: {time.perf_counter() - total:.1f} s", flush=True)
