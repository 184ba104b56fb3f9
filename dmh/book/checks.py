"""The HTML checks of the built book: missing images, broken internal links, scripts or
styles from the internet, and notebook error outputs, in one page or in every toc page."""
from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .toc import HTML_DIR, TOC_PATH, toc_docnames


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
