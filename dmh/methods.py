"""The table of methods: config -> (model, criterion). The loop, data and evaluation are shared."""
from __future__ import annotations

import torch

from .core.config import TrainConfig
from .deep_baselines import DEEP_BASELINES


def build_dmh(cfg: TrainConfig, n_classes: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    from .losses import DMHLoss
    from .models import DMHNet

    model = DMHNet(n_classes=n_classes, n_bits=cfg.bits, trunk=cfg.trunk, head=cfg.head,
                   **cfg.model_kwargs)
    criterion = DMHLoss(n_classes=n_classes, n_bits=cfg.bits, lam=cfg.lam, mu=cfg.mu,
                        alpha=cfg.alpha, use_softmax="softmax" in cfg.losses,
                        use_center="center" in cfg.losses,
                        use_quantization="quantization" in cfg.losses)
    return model, criterion


# DMH, then the comparison chapter's deep baselines (dmh/deep_baselines.py).
METHODS = {"dmh": build_dmh, **DEEP_BASELINES}


def build_method(cfg: TrainConfig, n_classes: int):
    if cfg.method not in METHODS:
        raise ValueError(f"unknown method {cfg.method!r}; known: {sorted(METHODS)}")
    return METHODS[cfg.method](cfg, n_classes)
