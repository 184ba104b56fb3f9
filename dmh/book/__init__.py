"""Build the book: execute the chapter notebooks with papermill, then `jupyter-book build -W`.

`notebooks/<stem>.ipynb` (committed with the outputs of the `quick` profile, what nbval
checks) is executed with `profile` injected into `book/<stem>.ipynb`; the book is the
HTML of `_toc.yml`'s pages in `_build/html`. Any cell error, Python warning printed by a
cell, Sphinx warning, missing image, broken internal link or error output fails the build.

    toc      the paths and the table of contents (pages, notebook chapters, missing pages)
    execute  papermill execution of one chapter
    checks   the HTML checks of the built pages
    build    execute the chapters, then build and check the HTML
    sphinx   the Sphinx extension: `_config.yml` names this package, whose `setup(app)`
             copies MathJax 3 into the built HTML so the maths renders offline
"""
from .build import build_book, build_html, jupyter_book_exe, update_notebooks
from .checks import check_site, page_problems, site_pages
from .errors import BookError
from .execute import execute_chapter, notebook_problems
from .sphinx import MATHJAX_PARTS, mathjax_es5, setup
from .toc import (BOOK_DIR, FAILED_DIR, HTML_DIR, KERNEL, NOTEBOOK_DIR, TOC_PATH, chapter_stems,
                  missing_pages, toc_docnames)

__all__ = ["BOOK_DIR", "FAILED_DIR", "HTML_DIR", "KERNEL", "MATHJAX_PARTS", "NOTEBOOK_DIR",
           "TOC_PATH", "BookError", "build_book", "build_html", "chapter_stems",
           "check_site", "execute_chapter", "jupyter_book_exe", "mathjax_es5", "missing_pages",
           "notebook_problems", "page_problems", "setup", "site_pages", "toc_docnames",
           "update_notebooks"]
