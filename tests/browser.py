"""Headless Chromium for the book's browser tests (`import browser` from tests/).

`chromium` runs the browser on one local page (its DOM with `--dump-dom`). `layout_problems`
measures the rendered layout of pages as a reader with a 1280x800 window sees them: a small
wrapper page (written to a temporary folder) opens each page in an iframe of that size, waits
until it is loaded, its fonts, images and MathJax are done, runs `LAYOUT_JS` on the frame's
document and writes a JSON result into its own DOM, which `--dump-dom` returns.
"""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from dmh.book import BookError

# Offline: no sync, no component updates, and any host name resolves to nothing, so a page
# renders as it would without the internet.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost")


def chromium_exe() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(page: Path, *args: str, timeout: int = 60, budget_ms: int = 3000) -> str:
    """Run headless Chromium on a local page and return its stdout (the DOM with
    `--dump-dom`); `budget_ms` of virtual time lets the page's loads and scripts finish."""
    exe = chromium_exe()
    if exe is None:
        raise BookError("chromium not found: apt-get install -y chromium (scripts/setup.sh does it as root)")
    with tempfile.TemporaryDirectory(prefix="dmh-chromium-") as profile_dir:
        cmd = ["timeout", str(timeout), exe, *FLAGS, f"--user-data-dir={profile_dir}",
               f"--virtual-time-budget={budget_ms}", *args, Path(page).resolve().as_uri()]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 10)
    if r.returncode != 0:
        raise BookError(f"chromium failed on {page} (exit {r.returncode}): {r.stderr[-2000:]}")
    return r.stdout


# Runs in the wrapper page with (win, doc, H): the frame's window and document and the
# screen height. Returns the page's problems, as sentences.
LAYOUT_JS = r"""
function measure(win, doc, H) {
  const problems = [];
  const art = doc.querySelector('article.bd-article') || doc.querySelector('main') || doc.body;
  const a = art.getBoundingClientRect();
  const cs = (el) => win.getComputedStyle(el);
  // The first screen: the article's part of the window's first H px (no header, no sidebars).
  const top = Math.max(0, a.top), bottom = Math.min(H, a.bottom);
  const colRight = a.right - parseFloat(cs(art).paddingRight || 0);
  const say = (el) => {
    const name = el.tagName.toLowerCase() + [...el.classList].slice(0, 3).map(c => '.' + c).join('');
    const text = (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 60);
    return text ? `${name} "${text}"` : name;
  };
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return false;
    const closed = el.closest('details:not([open])');
    if (closed && !el.closest('summary')) return false;
    if (el.closest('.toggle-hidden, [hidden], [aria-hidden="true"]')) return false;
    if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true, opacityProperty: true}))
      return false;
    return true;
  };
  // Height of the element's part inside the first screen (<= 0: none of it).
  const onScreen = (el) => {
    const r = el.getBoundingClientRect();
    if (Math.min(r.right, a.right) - Math.max(r.left, a.left) < 1) return 0;
    return Math.min(r.bottom, bottom) - Math.max(r.top, top);
  };

  // (a) a figure or a table, at least 100 px of it (or all of a smaller one), on screen.
  const figures = [...art.querySelectorAll('img, svg, canvas, table')].filter((el) => {
    if (!shown(el)) return false;
    const r = el.getBoundingClientRect();
    if (el.tagName === 'TABLE') return el.querySelector('td') !== null;
    return r.width >= 40 && r.height >= 40 && !el.closest('a.headerlink, button, mjx-container');
  });
  const seen = figures.filter((el) => onScreen(el) >= Math.min(100, el.getBoundingClientRect().height));
  if (!seen.length) {
    const first = figures.map((el) => el.getBoundingClientRect().top).sort((x, y) => x - y)[0];
    problems.push(first === undefined
      ? 'first screen: no figure or table (the page has none)'
      : `first screen: no figure or table (the first starts ${Math.round(first)} px down, ` +
        `the screen is ${H} px high)`);
  }

  // (b) no code input on the first screen (hidden inputs: closed <details>, toggles).
  const inputs = [...art.querySelectorAll('.cell_input')].filter((cell) =>
    [cell, ...cell.querySelectorAll('div.highlight')].some((el) => shown(el) && onScreen(el) > 0));
  if (inputs.length)
    problems.push(`first screen: ${inputs.length} code input(s) visible, the first: ` +
                  say(inputs[0].querySelector('pre') || inputs[0]));

  // (c) output wider than its box, or past the column, with no box between it and the
  // article that scrolls sideways: its lines run past the right edge (or are cut off).
  const outputs = new Set(art.querySelectorAll(
    '.cell_output pre, .cell_output table, .cell_output .output, div.output'));
  for (const el of outputs) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    const over = Math.max(el.scrollWidth - el.clientWidth, r.right - colRight);
    if (over <= 1) continue;
    let clip = null;
    for (let e = el; e && e !== art; e = e.parentElement) {
      const o = cs(e).overflowX;
      if (o !== 'visible') { clip = o; break; }
    }
    if (clip === 'auto' || clip === 'scroll') continue;
    problems.push(clip
      ? `output cut off: ${Math.round(over)} px of ${say(el)} hidden (overflow-x ${clip})`
      : `output runs ${Math.round(over)} px past the right edge: ${say(el)}`);
  }

  // (d) table cells of outputs on one line: a result must not break in the middle.
  const wrapped = [...art.querySelectorAll('.cell_output td, .cell_output th, table.dataframe td, ' +
                                           'table.dataframe th')].filter((cell) => {
    if (!shown(cell) || !cell.textContent.trim()) return false;
    const range = doc.createRange();
    range.selectNodeContents(cell);
    const rects = [...range.getClientRects()].filter((q) => q.width > 0 && q.height > 0)
      .sort((p, q) => p.top - q.top);
    let lines = rects.length ? 1 : 0;
    for (let i = 1; i < rects.length; i++)
      if (rects[i].top >= rects[i - 1].bottom - 2) lines++;
    return lines > 1;
  });
  if (wrapped.length)
    problems.push(`${wrapped.length} table cell(s) wrap onto several lines, the first: ${say(wrapped[0])}`);
  return problems;
}
"""

WRAPPER = """<!doctype html>
<html><head><meta charset="utf-8"><style>body{margin:0} iframe{border:0;display:block}</style></head>
<body><iframe id="frame" width="%(width)d" height="%(height)d"></iframe>
<pre id="status">starting</pre><pre id="result"></pre>
<script>
%(js)s
const PAGES = %(pages)s, H = %(height)d;
const frame = document.getElementById('frame');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const within = (p, ms) => Promise.race([p, sleep(ms)]);
async function settle(win, doc) {
  if (doc.fonts && doc.fonts.ready) await within(doc.fonts.ready, 3000);
  const mj = win.MathJax && win.MathJax.startup && win.MathJax.startup.promise;
  if (mj) await within(mj.catch(() => null), 5000);
  await within(Promise.all([...doc.images].filter((i) => !i.complete).map((i) =>
    new Promise((r) => { i.addEventListener('load', r); i.addEventListener('error', r); }))), 3000);
  await sleep(300);
}
(async () => {
  const out = {};
  for (const url of PAGES) {
    document.getElementById('status').textContent = 'loading ' + url;
    await new Promise((r) => { frame.onload = r; frame.src = url; });
    try {
      const win = frame.contentWindow, doc = frame.contentDocument;
      await settle(win, doc);
      out[url] = measure(win, doc, H);
    } catch (e) {
      out[url] = ['layout measurement failed: ' + e];
    }
  }
  document.getElementById('status').textContent = 'done';
  document.getElementById('result').textContent = JSON.stringify(out);
})();
</script></body></html>
"""


def layout_problems(pages: list[Path], width: int = 1280, height: int = 800,
                    timeout: int = 180) -> dict[str, list[str]]:
    """The layout problems of each page, keyed by `str(page)` as given, in a `width` x
    `height` window: (a) no figure or table on the first screen, (b) a code input visible on
    it, (c) output running past the right edge or cut off, (d) a table cell of an output
    broken over several lines. One Chromium run for all the pages."""
    urls = [Path(p).resolve().as_uri() for p in pages]
    with tempfile.TemporaryDirectory(prefix="dmh-layout-") as tmp:
        wrapper = Path(tmp) / "layout.html"
        wrapper.write_text(WRAPPER % {"width": width, "height": height, "js": LAYOUT_JS,
                                      "pages": json.dumps(urls)})
        dom = chromium(wrapper, "--dump-dom", "--allow-file-access-from-files",
                       f"--window-size={width + 100},{height + 200}", timeout=timeout,
                       budget_ms=20000 * len(pages))
    found = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
    if not found or not found.group(1).strip():
        status = re.search(r'<pre id="status">(.*?)</pre>', dom, re.S)
        raise BookError("the layout measurement did not finish: "
                        + html.unescape(status.group(1) if status else dom[-500:]))
    result = json.loads(html.unescape(found.group(1)))
    return {str(p): result[u] for p, u in zip(pages, urls)}
