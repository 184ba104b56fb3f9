"""Commands that run the paper: grid and book."""
from __future__ import annotations

import sys
import time


def _log(label: str):
    return lambda s: print(f"[{time.strftime('%H:%M:%S')}] {label}: {s}", flush=True)


def cmd_grid(a) -> None:
    from ..experiments.runner import run_grids
    from .runs import check_device

    if a.estimate:
        return _estimate(a.grids, a.profile, a.workers, a.times)
    check_device(a.device)
    if a.channels_last:
        if a.stack > 1:  # fit_many's stacked model keeps torch's default layout
            raise ValueError("--channels-last trains one run at a time: leave out --stack")
        from ..core.paths import use_channels_last

        use_channels_last()  # read by each worker's fit, recorded by provenance
    run_grids(a.grids, a.profile, workers=a.workers, device=a.device, stack=a.stack,
              only=tuple(a.only or ()), log=_log("+".join(a.grids)))


def _estimate(names: list[str], profile: str, workers: int, times: float = 1.0) -> None:
    """What each grid has left to train and about how long it takes on a CPU, training nothing;
    with `times`, its runs priced at that multiple of their epochs (planning a budget). A run
    two grids share is counted under the first."""
    from ..core.provenance import slow_bf16
    from ..experiments.profiles import get_profile
    from ..report.cost import grid_estimates
    from ..report.lend_rate import lend_line, lend_rate

    rows = grid_estimates(names, get_profile(profile), times)
    total, kept = (sum(r[k] for r in rows) for k in ("cpu_s", "cpu_s, CPU keeps"))
    for r in rows:
        ds = r["grid"].partition("-")[2]
        cut = r["to train"] - r["to train, CPU keeps"]
        print(f"{r['grid']}" + (f" (needs tune-{ds} first: its runs; then the grid's own)" if r["needs_tune"] else "")
              + f": {r['to train']} runs to train, about {r['cpu_s'] / 3600:.2f} CPU hours"
              + (f" ({r['unknown']} with no CPU rate to go by, not counted)" if r["unknown"] else "")
              + (f"; without a GPU keep {r['to train, CPU keeps']}, about "
                 f"{r['cpu_s, CPU keeps'] / 3600:.2f} CPU hours" if cut else ""))
    at = f" at {times:g}x their epochs" if times != 1 else ""
    n_workers = max(1, workers)
    print(f"in all about {total / 3600:.2f} CPU hours{at}: {total / 3600 / n_workers:.2f} h on "
          f"{workers} single-thread workers (rates: the committed CPU records' mean seconds per "
          f"training image, as busy as their machines were)")
    if total and (rate := lend_rate()):
        print(f"on a GPU: {lend_line(rate, total / 3600)}")
    if get_profile(profile).precision == "bf16" and slow_bf16():
        print("this CPU has no native bfloat16 (AVX-512 BF16, AMX): the profile's bf16 runs train "
              "several times slower here than these rates")
    if kept != total:  # later seeds at the shorter codes: the cells no verdict rests on
        print(f"without a GPU, the cells the verdicts rest on (every seed at the longest code, the "
              f"first at the others): about {kept / 3600:.2f} CPU hours, {kept / 3600 / n_workers:.2f} h on "
              f"{workers} workers")


def cmd_book(a) -> None:
    from ..book import BookError, build_book, chapter_stems, update_notebooks
    from ..report.cost import grid_cost_line
    from ..report.reading import book_grids

    try:
        stems = a.chapters or (chapter_stems(a.toc) if a.toc else chapter_stems())
        profile = "quick" if a.update_notebooks else a.profile
        # a committed profile's chapters read its records: only the quick profile trains here
        names = [] if a.no_execute or a.records_only else book_grids(stems, profile)
        if names:
            from ..experiments.runner import run_grids

            t, work = time.perf_counter(), []
            log = _log("grids")

            def said(line: str) -> None:  # only what was made: cached reads need no line each
                if not (" 0 to train" in line or "cached" in line or line.startswith("chose ")):
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
