"""Commands that run the paper: grid and book."""
from __future__ import annotations

import sys
import time


def _log(label: str):
    return lambda s: print(f"[{time.strftime('%H:%M:%S')}] {label}: {s}", flush=True)


def cmd_grid(a) -> None:
    from ..experiments.runner import run_grids
    from .runs import check_device

    check_device(a.device)
    run_grids(a.grids, a.profile, workers=a.workers, device=a.device, log=_log("+".join(a.grids)))


def cmd_book(a) -> None:
    from ..book import BookError, build_book, chapter_stems, update_notebooks
    from ..report.cost import grid_cost_line
    from ..report.reading import chapter_grids

    try:
        stems = a.chapters or (chapter_stems(a.toc) if a.toc else chapter_stems())
        if not a.no_execute and not a.records_only:
            from ..experiments.runner import run_grids

            profile = "quick" if a.update_notebooks else a.profile
            names, t, work = chapter_grids(stems, profile), time.perf_counter(), []
            log = _log("grids")

            def said(line: str) -> None:  # only what was made: cached reads need no line each
                if not (" 0 to train" in line or "cached" in line or line.startswith(("chose ", "weights of"))):
                    work.append(line)
                    log(line)

            run_grids(names, profile, workers=a.workers, log=said)
            print(f"grids: {len(names)} read by the chapters, ready in {time.perf_counter() - t:.1f} s"
                  f"{'' if work else ' (all cached)'}", flush=True)
        if a.update_notebooks:
            update_notebooks(a.chapters, toc=a.toc)
        else:
            build_book(a.profile, a.chapters, execute=not a.no_execute, toc=a.toc)
            if a.profile == "paper":
                print(grid_cost_line(), flush=True)
    except BookError as e:
        print(f"dmh book: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
