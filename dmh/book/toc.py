"""Where the book lives, and its table of contents: the pages `_toc.yml` lists, which of
them are notebook chapters, and which have no source file yet."""
from __future__ import annotations

import re
from pathlib import Path

from ..core.paths import REPO_ROOT
from .errors import BookError

BOOK_DIR = REPO_ROOT / "book"
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
TOC_PATH = REPO_ROOT / "_toc.yml"
HTML_DIR = REPO_ROOT / "_build" / "html"
FAILED_DIR = REPO_ROOT / "_build" / "failed"
KERNEL = "python3"


def toc_docnames(toc: Path = TOC_PATH) -> list[str]:
    """Every page of a jb-book `_toc.yml`, in order: `book/intro`, `book/data`, ..."""
    import yaml

    try:
        data = yaml.safe_load(Path(toc).read_text())
    except (OSError, yaml.YAMLError) as e:
        raise BookError(f"cannot read the table of contents {toc}: {e}") from e
    names = [data["root"]]

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                names.append(e["file"])
            walk(e.get("sections"))
            walk(e.get("chapters"))

    walk(data.get("parts"))
    walk(data.get("chapters"))
    return [re.sub(r"\.(md|ipynb)$", "", n) for n in names]


def chapter_stems(toc: Path = TOC_PATH) -> list[str]:
    """Stems of the notebook chapters: toc pages under book/ that are not a book/<stem>.md."""
    stems = []
    for name in toc_docnames(toc):
        path = REPO_ROOT / name
        if path.parent == BOOK_DIR and not path.with_suffix(".md").exists():
            stems.append(path.name)
    return stems


def missing_pages(toc: Path = TOC_PATH) -> list[str]:
    """Pages the toc lists that have neither a .md nor a .ipynb file."""
    return [f"{n}.ipynb" for n in toc_docnames(toc)
            if not any((REPO_ROOT / f"{n}{s}").exists() for s in (".md", ".ipynb"))]
