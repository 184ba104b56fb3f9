"""Builders of DMH and of the comparison chapter's deep hashing baselines: config ->
(model, criterion), registered in `dmh.methods.registry.METHODS`.

Every baseline runs in the shared loop (`dmh.run.fit`): same data, augmentation, SGD, cosine
schedule and epoch budget as DMH. The papers' ImageNet-scale backbones (AlexNet, VGG,
ResNet) make no sense at 32x32, so all but DDH use DMH's network (trunk + conv-GAP hash
head): only the loss, and for HashNet the head's continuation, differ. DDH brings its own
small face network (`DDHNet`), which is part of what that paper proposes.

A method's own hyperparameters come from `cfg.method_kwargs` (defaults: the papers').
"""
from __future__ import annotations

from torch import nn

from ..core.config import TrainConfig
from ..losses import CSQLoss, DCDHLoss, DDHLoss, DMHLoss, DPSHLoss, DSHLoss, HashNetLoss
from ..models import ContinuationDMHNet, DDHNet, DMHNet
from .registry import Built, register_method


@register_method("dmh", "DMH")
def build_dmh(cfg: TrainConfig, n_classes: int) -> Built:
    """DMH: dense trunk + conv-GAP hash head + classifier with softmax + center + quantization
    (`method_kwargs`: `label_smoothing`, a recipe study trial)."""
    model = DMHNet(n_classes=n_classes, n_bits=cfg.bits, trunk=cfg.trunk, head=cfg.head,
                   **cfg.model_kwargs)
    criterion = DMHLoss(n_classes=n_classes, n_bits=cfg.bits, lam=cfg.lam, mu=cfg.mu,
                        alpha=cfg.alpha, use_softmax="softmax" in cfg.losses,
                        use_center="center" in cfg.losses,
                        use_quantization="quantization" in cfg.losses, **cfg.method_kwargs)
    return model, criterion


def _hash_net(cfg: TrainConfig, n_classes: int) -> DMHNet:
    """DMHNet without a classifier (these losses use no logits; `logits` is then `h`).

    Built first with one, so the trunk and head start from DMH's weights for the same
    seed; dropping it keeps the parameter count honest.
    """
    model = DMHNet(n_classes=n_classes, n_bits=cfg.bits, trunk=cfg.trunk, head=cfg.head,
                   **cfg.model_kwargs)
    model.classifier = nn.Identity()
    return model


@register_method("ddh", "DDH")
def build_ddh(cfg: TrainConfig, n_classes: int) -> Built:
    """DDH: `DDHNet` (its own CNN + divide-and-encode; `trunk`/`head`/`model_kwargs` unused)
    with :class:`DDHLoss` (softmax on the code + quantization)."""
    return DDHNet(n_classes=n_classes, n_bits=cfg.bits), DDHLoss(**cfg.method_kwargs)


def _pairwise_net(cfg: TrainConfig, n_classes: int) -> tuple[DMHNet, dict]:
    """`_hash_net`, its outputs real-valued when `method_kwargs['outputs']` is 'linear' (as
    DSH's and DPSH's papers have them) or tanh-bounded ('tanh', the default of earlier
    records); the loss's own kwargs returned."""
    kw = dict(cfg.method_kwargs)
    outputs = kw.pop("outputs", "tanh")
    if outputs not in ("tanh", "linear"):
        raise ValueError(f"{cfg.method}: outputs must be 'tanh' or 'linear', got {outputs!r}")
    model = _hash_net(cfg, n_classes)
    if cfg.head != "conv_gap" and outputs == "linear":
        raise ValueError(f"{cfg.method}: linear outputs need head='conv_gap', got {cfg.head!r}")
    if outputs == "linear":
        model.head.bounded = False
    return model, kw


@register_method("dsh", "DSH")
def build_dsh(cfg: TrainConfig, n_classes: int) -> Built:
    """DSH: DMH's trunk + conv-GAP head (no classifier) with :class:`DSHLoss`."""
    model, kw = _pairwise_net(cfg, n_classes)
    return model, DSHLoss(n_bits=cfg.bits, **kw)


@register_method("dpsh", "DPSH")
def build_dpsh(cfg: TrainConfig, n_classes: int) -> Built:
    """DPSH: DMH's trunk + conv-GAP head (no classifier) with :class:`DPSHLoss`."""
    model, kw = _pairwise_net(cfg, n_classes)
    return model, DPSHLoss(**kw)


@register_method("hashnet", "HashNet")
def build_hashnet(cfg: TrainConfig, n_classes: int) -> Built:
    """HashNet: DMH's trunk + conv-GAP head whose tanh is scaled by the continuation beta
    (`method_kwargs['beta_max']`, default 10; no classifier) with :class:`HashNetLoss`."""
    if cfg.head != "conv_gap":
        raise ValueError(f"hashnet's continuation head replaces conv_gap, got head={cfg.head!r}")
    kw = dict(cfg.method_kwargs)
    model = ContinuationDMHNet(n_classes=n_classes, n_bits=cfg.bits, trunk=cfg.trunk,
                               beta_max=kw.pop("beta_max", 10.0), **cfg.model_kwargs)
    model.classifier = nn.Identity()
    return model, HashNetLoss(n_bits=cfg.bits, **kw)


@register_method("csq", "CSQ")
def build_csq(cfg: TrainConfig, n_classes: int) -> Built:
    """CSQ: DMH's trunk + conv-GAP head (no classifier) with :class:`CSQLoss`; random
    centers (K not a power of 2, or more identities than 2K) are drawn with `cfg.seed`."""
    kw = {"seed": cfg.seed, **cfg.method_kwargs}
    return _hash_net(cfg, n_classes), CSQLoss(n_classes=n_classes, n_bits=cfg.bits, **kw)


@register_method("dcdh", "DCDH")
def build_dcdh(cfg: TrainConfig, n_classes: int) -> Built:
    """DCDH: DMH's trunk + conv-GAP head (no classifier) with :class:`DCDHLoss` (its
    learnable centers are trained with the network)."""
    model = _hash_net(cfg, n_classes)
    return model, DCDHLoss(n_classes=n_classes, n_bits=cfg.bits, **cfg.method_kwargs)

