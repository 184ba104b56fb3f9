"""Build the book: execute the chapter notebooks with papermill, then `jupyter-book build -W`.

`notebooks/<stem>.ipynb` (committed with the outputs of the `quick` profile, what nbval
checks) is executed with `profile` injected into `book/<stem>.ipynb`; the book is the
HTML of `_toc.yml`'s pages in `_build/html`. Any cell error, Python warning printed by a
cell, Sphinx warning, missing image, broken internal link or error output fails the build.

This module is also the Sphinx extension named in `_config.yml`: `setup(app)` copies
MathJax 3 from the `django-static-mathjax` package into `_build/html/_static/mathjax`, so
the pages render maths without the internet.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .core.paths import REPO_ROOT

BOOK_DIR = REPO_ROOT / "book"
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
TOC_PATH = REPO_ROOT / "_toc.yml"
HTML_DIR = REPO_ROOT / "_build" / "html"
FAILED_DIR = REPO_ROOT / "_build" / "failed"
PROFILES = ("quick", "paper")
KERNEL = "python3"
# What of MathJax's es5 tree the pages need: the TeX->CommonHTML component, its fonts, the
# TeX extensions it autoloads, and what the right-click menu loads on demand.
MATHJAX_PARTS = ("tex-chtml.js", "output/chtml", "input/tex/extensions", "ui", "a11y", "sre")
WARNING_RE = re.compile(r"\b[A-Z]\w*Warning\b")


class BookError(RuntimeError):
    """The book cannot be built as asked: a missing chapter, a failed cell, a warning."""


# ---------------------------------------------------------------- table of contents

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


# ---------------------------------------------------------------- notebooks

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


# ---------------------------------------------------------------- HTML checks

class _Refs(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, dict]] = []  # (tag, attribute value, attrs)
        self.classes: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if a.get("class"):
            self.classes.append(a["class"])
        if tag == "meta" and a.get("http-equiv", "").lower() == "refresh" and "url=" in a.get("content", ""):
            self.refs.append((tag, a["content"].split("url=", 1)[1].strip(), a))
        for key in ("src", "href"):
            if key in a:
                self.refs.append((tag, a[key], a))

    handle_startendtag = handle_starttag


def _is_external(url: str) -> bool:
    return bool(urlsplit(url).scheme) or url.startswith("//")


def page_problems(html: str, page: Path, html_dir: Path) -> list[str]:
    """Missing images, broken relative links, scripts/styles from the internet and notebook
    error outputs in one page's HTML (as built, or as a browser's DOM dump)."""
    page, html_dir = Path(page), Path(html_dir)
    p = _Refs()
    p.feed(html)
    rel = page.relative_to(html_dir) if page.is_relative_to(html_dir) else page.name
    problems = []
    for tag, url, attrs in p.refs:
        split = urlsplit(url)
        if url.startswith(("#", "data:", "mailto:", "javascript:", "about:")) or not url:
            continue
        if tag in ("script", "img") or (tag == "link" and attrs.get("rel", "") != "canonical"):
            if split.scheme in ("http", "https") or url.startswith("//"):
                problems.append(f"{rel}: <{tag}> loads {url} from the internet")
                continue
        if split.scheme == "file":
            target = Path(unquote(split.path))
        elif _is_external(url):
            continue
        else:
            target = (page.parent / unquote(split.path)).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(html_dir.resolve()):
            problems.append(f"{rel}: <{tag}> {url} points outside the built book")
        elif not target.exists():
            kind = "image" if tag == "img" else f"<{tag}> target"
            problems.append(f"{rel}: missing {kind} {url}")
    for cls in p.classes:
        words = cls.split()
        if "output_error" in words or ("output" in words and "traceback" in words):
            problems.append(f"{rel}: a notebook error output (class {cls!r})")
            break
    if "Traceback (most recent call last)" in html:
        problems.append(f"{rel}: a Python traceback")
    return problems


def site_pages(html_dir: Path, toc: Path = TOC_PATH) -> list[Path]:
    """index.html and the built page of every toc entry (those that exist)."""
    html_dir = Path(html_dir)
    pages = [html_dir / "index.html"] + [html_dir / f"{n}.html" for n in toc_docnames(toc)]
    return [p for p in pages if p.exists()]


def check_site(html_dir: Path = HTML_DIR, toc: Path = TOC_PATH) -> list[str]:
    """`page_problems` of the index and every toc page; a toc page not built is a problem."""
    html_dir = Path(html_dir)
    problems = [f"page not built: {n}.html" for n in toc_docnames(toc)
                if not (html_dir / f"{n}.html").exists()]
    for page in site_pages(html_dir, toc):
        problems += page_problems(page.read_text(errors="replace"), page, html_dir)
    return problems


# ---------------------------------------------------------------- build

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
    if profile not in PROFILES:
        raise BookError(f"unknown profile {profile!r}: use one of {PROFILES}")
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
    if profile == "paper":
        print(grid_cost_line(), flush=True)


def grid_cost_line(results: Path | None = None) -> str:
    """What the committed `paper` runs took, from their records, so a reader knows what a
    rebuild costs. CPU runs: wall seconds of training and evaluation times torch threads (an
    upper bound on a busy machine). GPU runs: their wall seconds (runs shared the GPU), and
    what they would cost on the CPU at the CPU runs' seconds per training image and epoch
    and mean evaluation time on the same dataset."""
    import json
    from collections import defaultdict

    from .core.paths import RESULTS_DIR

    cpu_s, gpu_s, per_image, evals, on_gpu = 0.0, 0.0, defaultdict(list), defaultdict(list), []
    n_cpu = 0
    for path in sorted(Path(results or RESULTS_DIR / "runs").glob("*.json")):
        rec = json.loads(path.read_text())
        hw, ds = rec["hardware"], rec.get("split", {}).get("dataset")
        if str(hw.get("device", "cpu")).startswith("cuda"):
            gpu_s += rec["train_s"] + rec.get("eval_s", 0.0)
            on_gpu.append(rec)
            continue
        threads = hw.get("torch_threads") or 1
        cpu_s += (rec["train_s"] + rec.get("eval_s", 0.0)) * threads
        n_cpu += 1
        if ds and rec.get("epochs"):
            per_image[ds].append(rec["train_s"] * threads / (rec["epochs"] * rec["split"]["n_train"]))
            evals[ds].append(rec.get("eval_s", 0.0) * threads)
    line = (f"paper grid: {n_cpu + len(on_gpu)} runs; {n_cpu} on CPU, {cpu_s / 3600:.2f} CPU hours "
            f"of training and evaluation")
    if on_gpu:
        line += (f"; {len(on_gpu)} on a GPU, {gpu_s / 3600:.2f} hours of run wall time "
                 f"(runs shared the GPU)")
        mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
        known = [r for r in on_gpu if per_image.get(r["split"]["dataset"])]
        est = sum(r["epochs"] * r["split"]["n_train"] * mean(per_image[r["split"]["dataset"]])
                  + mean(evals[r["split"]["dataset"]]) for r in known)
        if known:
            line += f", about {est / 3600:.2f} CPU hours at the CPU runs' rate"
    return line


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


# ---------------------------------------------------------------- browser

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


# ---------------------------------------------------------------- Sphinx extension

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
