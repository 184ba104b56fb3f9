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
        if not a.no_execute:
            from ..experiments.runner import run_grids

            profile = "quick" if a.update_notebooks else a.profile
            run_grids(chapter_grids(stems, profile), profile, workers=a.workers, log=_log("grids"))
        if a.update_notebooks:
            update_notebooks(a.chapters, toc=a.toc)
        else:
            build_book(a.profile, a.chapters, execute=not a.no_execute, toc=a.toc)
            if a.profile == "paper":
                print(grid_cost_line(), flush=True)
    except BookError as e:
        print(f"dmh book: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
