"""The Sphinx extension named in `_config.yml` (as `dmh.book`): after an HTML build it
copies MathJax 3 from the `django-static-mathjax` package into
`_build/html/_static/mathjax`, so the pages render maths without the internet."""
from __future__ import annotations

import shutil
from pathlib import Path

from .checks import _is_external
from .errors import BookError

# What of MathJax's es5 tree the pages need: the TeX->CommonHTML component, its fonts, the
# TeX extensions it autoloads, and what the right-click menu loads on demand.
MATHJAX_PARTS = ("tex-chtml.js", "output/chtml", "input/tex/extensions", "ui", "a11y", "sre")


def mathjax_es5() -> Path:
    """The es5 folder of the MathJax 3 copy that the django-static-mathjax package ships."""
    import importlib.util

    spec = importlib.util.find_spec("mathjax")
    es5 = Path(spec.origin).parent / "static" / "mathjax" / "es5" if spec and spec.origin else None
    if es5 is None or not (es5 / "tex-chtml.js").exists():
        raise BookError("MathJax not found: pip install django-static-mathjax (in requirements.txt)")
    return es5


def _copy_mathjax(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    path = app.config.mathjax_path
    if _is_external(path):
        return
    es5 = mathjax_es5()
    dest = Path(app.outdir) / "_static" / Path(path).parent
    for part in MATHJAX_PARTS:
        src, dst = es5 / part, dest / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)


def setup(app):
    """Sphinx entry point (`sphinx: extra_extensions: [dmh.book]` in _config.yml)."""
    app.connect("build-finished", _copy_mathjax)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
