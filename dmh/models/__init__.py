from typing import Any

from torch import nn

from .continuation_head import ContinuationDMHNet, ContinuationHashHead, continuation_beta
from .ddh_cnn import DDHNet, DivideAndEncode
from .dmh_net import DMHNet, count_parameters
from .embedding_head import EmbeddingHashNet
from .hash_heads import ConvGAPHashHead, FCHashHead
from .trunk import ConvTrunk

__all__ = [
    "ConvTrunk",
    "ConvGAPHashHead",
    "FCHashHead",
    "DMHNet",
    "EmbeddingHashNet",
    "DDHNet",
    "DivideAndEncode",
    "ContinuationHashHead",
    "ContinuationDMHNet",
    "continuation_beta",
    "count_parameters",
    "build_model",
]


def build_model(name: str = "dmh", **kwargs: Any) -> nn.Module:
    """Build ``DMHNet`` (``name='dmh'``) or ``DDHNet`` (``name='ddh'``) from keyword arguments."""
    if name == "dmh":
        return DMHNet(**kwargs)
    if name == "ddh":
        return DDHNet(**kwargs)
    raise ValueError(f"unknown model {name!r}; expected 'dmh' or 'ddh'")
