"""Batch augmentation on uint8 tensors: random horizontal flip and random shift.

Works on the whole batch with index arithmetic so it costs a small share of a step.
"""
from __future__ import annotations

import torch


def flip_and_shift(x: torch.Tensor, generator: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """(B, C, S, S) -> same shape: each image flipped with p=1/2 and shifted by up to
    `max_shift` pixels in each direction (edge pixels replicate)."""
    b, _, s, _ = x.shape
    flip = torch.rand(b, generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    if max_shift == 0:
        return x
    off = torch.randint(-max_shift, max_shift + 1, (2, b), generator=generator)
    grid = torch.arange(s)
    rows = (grid[None, :] + off[0][:, None]).clamp(0, s - 1)  # (B, S)
    cols = (grid[None, :] + off[1][:, None]).clamp(0, s - 1)
    bi = torch.arange(b)[:, None, None]
    out = x.permute(0, 2, 3, 1)[bi, rows[:, :, None], cols[:, None, :]]  # (B, S, S, C)
    return out.permute(0, 3, 1, 2).contiguous()
