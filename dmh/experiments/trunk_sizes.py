"""The recipe study's trunk sizes (grid `trunk-<ds>`): DMH's dense trunk at other growth rates
and layers per block, each trained for the epochs that cost what the paper trunk's epoch
budget costs in FLOPs. On a CPU at its arithmetic limit that is equal wall time; the records'
seconds show how close it comes."""
from __future__ import annotations

import json
from dataclasses import replace
from functools import cache

from ..core.config import TrainConfig
from ..models import DMHNet
from ..models.flops import train_flops_per_image
from .configs import method_config
from .profiles import Profile

# name -> the trunk's model_kwargs; the first is the paper's (no kwargs: the budget grid's run)
TRUNK_SIZES = {
    "growth 16, 3-3-3 layers": {},
    "growth 8, 3-3-3 layers": {"growth_rate": 8},
    "growth 24, 3-3-3 layers": {"growth_rate": 24},
    "growth 16, 2-2-2 layers": {"block_layers": [2, 2, 2]},
    "growth 16, 4-4-4 layers": {"block_layers": [4, 4, 4]},
    "growth 8, 2-2-2 layers": {"growth_rate": 8, "block_layers": [2, 2, 2]},
}


@cache
def _mflops(bits: int, trunk: str, head: str, kwargs_json: str) -> float:
    net = DMHNet(n_classes=100, n_bits=bits, trunk=trunk, head=head, **json.loads(kwargs_json))
    return train_flops_per_image(net) / 1e6


def train_mflops(config: TrainConfig) -> float:
    """Forward + backward MFLOP per image of the config's DMH network: trunk, head and sizes
    (its classifier sized for 100 identities: a few thousand FLOPs either way)."""
    return _mflops(config.bits, config.trunk, config.head, json.dumps(config.model_kwargs, sort_keys=True))


def equal_compute_epochs(config: TrainConfig, reference: TrainConfig) -> int:
    """The epochs at which `config` costs what `reference` costs over its epochs (rounded,
    at least one)."""
    return max(1, round(reference.epochs * train_mflops(reference) / train_mflops(config)))


def trunk_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """DMH's chosen config on validation (longest code, first seed) with each trunk size at
    the paper trunk's compute; the paper trunk's run is the budget grid's 1x run."""
    base = method_config("dmh", dataset, p, bits=p.longest, eval_split="val")
    sized = [replace(base, model_kwargs=kw) for kw in TRUNK_SIZES.values()]
    return [replace(c, epochs=equal_compute_epochs(c, base)) for c in sized]


def trunk_size_name(config: TrainConfig) -> str:
    """The TRUNK_SIZES name of a config's trunk, or its kwargs where it is not one of them."""
    for name, kw in TRUNK_SIZES.items():
        if json.dumps(kw, sort_keys=True) == json.dumps(config.model_kwargs, sort_keys=True):
            return name
    return json.dumps(config.model_kwargs, sort_keys=True)
