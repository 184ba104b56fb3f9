"""One seed-spread rule for every verdict: a difference of means in units of the larger of
the two sample standard deviations over seeds; beyond two such units is a difference the
seeds alone rarely make."""
from __future__ import annotations

import math

# a difference of means beyond this many seed stds is a verdict; within it, the seeds may
# have made it (every report module reads the one rule from here)
BEYOND = 2


def largest_std(*stds: float) -> float:
    """The largest finite std given (NaN when none is)."""
    return max((s for s in stds if s == s), default=math.nan)  # s == s: not NaN


def in_seed_std(diff: float, *stds: float) -> float:
    """`diff` over the largest finite std given; NaN when there is none above 0."""
    sd = largest_std(*stds)
    return diff / sd if sd > 0 else math.nan


def spread_words(ratio: float) -> str:
    if ratio != ratio:
        return "no seed spread to compare with (one seed)"
    return f"{ratio:+.1f} seed std, {'beyond' if abs(ratio) > BEYOND else 'within'} two seed stds"
