"""From a trained model and faces to codes and features: the one encoding path."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..codes import encode_signs


class Normalizer:
    """uint8 (B, C, S, S) -> float, standardized with the training set's channel stats."""

    def __init__(self, mean: list[float], std: list[float]) -> None:
        self.mean = torch.tensor(mean).view(1, -1, 1, 1)
        self.std = torch.tensor(std).view(1, -1, 1, 1)

    @classmethod
    def fit(cls, images: np.ndarray) -> "Normalizer":
        x = images.astype(np.float64) / 255.0
        return cls(x.mean(axis=(0, 2, 3)).tolist(), x.std(axis=(0, 2, 3)).tolist())

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (x.float() / 255.0 - self.mean.to(x.device)) / self.std.to(x.device)

    def state(self) -> dict:
        return {"mean": self.mean.flatten().tolist(), "std": self.std.flatten().tolist()}


@dataclass(frozen=True)
class Encoded:
    """`features`: the real-valued hash outputs h (in (-1, 1) under a tanh head; DSH's and
    DPSH's linear ones are unbounded), (N, K) float32; `codes`: their
    signs packed to bits, (N, ceil(K / 8)) uint8."""

    features: np.ndarray
    codes: np.ndarray


@torch.no_grad()
def _batched(fn: Callable[[torch.Tensor], torch.Tensor], model: torch.nn.Module,
             images: np.ndarray, norm: Normalizer, batch_size: int, device: str) -> np.ndarray:
    model.eval()
    out = [fn(norm(torch.from_numpy(images[i:i + batch_size]).to(device))).float().cpu()
           for i in range(0, len(images), batch_size)]
    return torch.cat(out).numpy()


def encode(model: torch.nn.Module, images: np.ndarray, norm: Normalizer, *,
           batch_size: int = 1024, device: str = "cpu") -> Encoded:
    """Hash outputs and packed binary codes of uint8 images (N, C, S, S)."""
    h = _batched(lambda x: model.forward_head(model.forward_features(x)), model, images, norm,
                 batch_size, device)
    return Encoded(features=h, codes=encode_signs(h))


def pooled_trunk_features(model: torch.nn.Module, images: np.ndarray, norm: Normalizer, *,
                          batch_size: int = 256, device: str = "cpu") -> np.ndarray:
    """Globally average-pooled trunk output, (N, C) float32: what shallow methods hash."""
    return _batched(lambda x: model.forward_features(x).mean(dim=(2, 3)), model, images, norm,
                    batch_size, device)
