#!/usr/bin/env bash
# Screenshot one page of the built book as a reader sees it: headless Chromium, offline, a
# 1280 px wide window; by default its first screen (1280x800), or HEIGHT px of the page.
#   bash scripts/screenshot.sh PAGE OUT.png [HEIGHT]
# PAGE: an .html file, or a chapter stem (data -> _build/html/book/data.html). HEIGHT in
# pixels (default 800, the first screen; e.g. 2400 to see further down a long page).
# Offline: every host name resolves to nothing, so the page shows what it shows without the
# internet (the book's MathJax, fonts and images are local).
set -euo pipefail
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 PAGE OUT.png [HEIGHT]   (PAGE: an .html file or a chapter stem such as data)" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
page="$1"
out="$2"
height="${3:-800}"
case "$height" in
  ''|*[!0-9]*) echo "$0: HEIGHT must be a number of pixels, not '$height'" >&2; exit 2 ;;
esac
if [ ! -f "$page" ]; then
  page="$root/_build/html/book/$1.html"
fi
if [ ! -f "$page" ]; then
  echo "$0: no page $1 (nor $page): build the book first (dmh book)" >&2
  exit 1
fi
browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
  echo "$0: chromium not found: apt-get install -y chromium (scripts/setup.sh does it as root)" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
page="$(cd "$(dirname "$page")" && pwd)/$(basename "$page")"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
rm -f "$out"
timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE localhost" \
  --user-data-dir="$profile" --virtual-time-budget=5000 \
  --window-size=1280,"$height" --screenshot="$out" "file://$page" >/dev/null 2>&1 || true
[ -s "$out" ] || { echo "$0: no screenshot written to $out" >&2; exit 1; }
echo "$out"
