"""What every chapter notebook does first and last: set up plotting and the profile, then
print its provenance. One call each, so the seven chapters do not repeat these cells."""
from __future__ import annotations

import time

from ..core.provenance import provenance
from ..experiments.profiles import Profile, get_profile
from . import frames
from .frames import hardware_line

NAMES = frames.NAMES  # the notebooks read NB.NAMES

_started: list[float] = []


def setup(profile: str) -> Profile:
    """PNG figures, seaborn's theme, 4-digit pandas floats; starts the chapter clock."""
    import matplotlib_inline.backend_inline as inline
    import pandas as pd
    import seaborn as sns

    _started[:] = [time.perf_counter()]
    inline.set_matplotlib_formats("png")
    sns.set_theme(style="whitegrid", context="notebook")
    pd.set_option("display.precision", 4)
    return get_profile(profile)


def provenance_lines(p: Profile, runs=None) -> str:
    """The profile, this machine, the machines that made `runs`, versions, commit, wall time."""
    prov = provenance()
    lines = [f"profile: {p.name}", f"hardware: {prov['hardware']}"]
    if runs is not None:
        lines.append(f"runs made on: {hardware_line(runs)}")
    lines += [f"python {prov['python']}, " + ", ".join(f"{k} {v}" for k, v in prov["versions"].items()),
              f"git commit: {prov['git_commit']}"]
    if _started:
        lines.append(f"wall time: {time.perf_counter() - _started[0]:.1f} s")
    return "\n".join(lines)


def rerun_box(stem: str, p: Profile, grids_of: Profile | None = None):
    """The closing box of a chapter: the papermill command that reruns it and the grids it
    reads (of profile `grids_of` where that is not the chapter's own)."""
    from IPython.display import HTML

    from .reading import CHAPTER_GRIDS, chapter_grids

    g = grids_of or p
    grids = " ".join(chapter_grids([stem], g)) if CHAPTER_GRIDS.get(stem) else ""
    lines = [f"papermill notebooks/{stem}.ipynb {stem}.ipynb -p profile {p.name}"]
    if grids:
        lines.insert(0, f"dmh grid {grids}" + ("" if g.name == "paper" else f" --profile {g.name}"))
    reads = f"It reads the records of the grids <code>{grids}</code>, made by the first line " \
            f"(cached: only what is missing is trained)." if grids else "It reads no training record."
    return HTML('<div class="admonition tip"><p class="admonition-title">Rerun this page</p>'
                f"<p>{reads}</p><pre>" + "\n".join(lines) + "</pre></div>")
