"""A network's training cost in FLOPs per image (forward + backward), counted by torch's
`FlopCounterMode` (a multiply-add is 2 FLOPs): the recipe study's unit of equal compute, since
on a CPU at its arithmetic limit wall time follows FLOPs."""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def train_flops_per_image(model: nn.Module, *, image_size: int = 32, in_chans: int = 3,
                          batch: int = 8) -> float:
    """FLOPs of one training step's forward and backward, per image, of `model` (a copy: the
    step's batch-norm statistics and gradients do not touch it). The loss is the sum of the
    first output; losses on a K-bit code cost a few K FLOPs an image, nothing beside the net."""
    net = copy.deepcopy(model).train()
    x = torch.randn(batch, in_chans, image_size, image_size)
    with FlopCounterMode(display=False) as counter:
        out = net(x)
        (out[0] if isinstance(out, tuple) else out).sum().backward()
    return counter.get_total_flops() / batch
