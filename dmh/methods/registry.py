"""The table of deep methods, in the style of timm's `register_model` / `create_model`: a
method is a name, the label the book prints, and a builder config -> (model, criterion).
The loop, the data and the scoring are shared by all of them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from ..core.config import TrainConfig

Built = tuple[torch.nn.Module, torch.nn.Module]


@dataclass(frozen=True)
class Method:
    """Args:
        name: the key in `TrainConfig.method`.
        label: how tables and figures name it.
        build: (config, number of training identities) -> (model, criterion).
    """

    name: str
    label: str
    build: Callable[[TrainConfig, int], Built]


METHODS: dict[str, Method] = {}


def register_method(name: str, label: str):
    """Decorator adding a builder to METHODS (in registration order: DMH first)."""
    def add(build: Callable[[TrainConfig, int], Built]):
        if name in METHODS:
            raise ValueError(f"method {name!r} registered twice")
        METHODS[name] = Method(name, label, build)
        return build
    return add


def create_method(cfg: TrainConfig, n_classes: int) -> Built:
    if cfg.method not in METHODS:
        raise ValueError(f"unknown method {cfg.method!r}; known: {sorted(METHODS)}")
    try:
        return METHODS[cfg.method].build(cfg, n_classes)
    except TypeError as e:  # an unknown keyword in model_kwargs / method_kwargs
        raise ValueError(f"{cfg.method}: {e} (check --model-kwargs / --method-kwargs)") from None


def label(method: str) -> str:
    return METHODS[method].label if method in METHODS else method
