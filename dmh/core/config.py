"""A training run's configuration; its hash names the run, so results are cached by config."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields


@dataclass(frozen=True)
class TrainConfig:
    """Everything that changes a trained model or its score.

    Args:
        dataset: `lfw`, `pins`, an identity folder or a DDH pickle.
        bits: code length K.
        seed: seed of initialization, batch order and augmentation.
        eval_split: `val` trains on the training images minus the validation queries and
            scores the validation queries (for tuning); `test` trains on all training images
            and scores the test queries against the gallery.
        epochs, batch_size, lr, momentum, weight_decay: SGD with Nesterov momentum and a
            cosine learning-rate schedule over all steps.
        optimizer: `sgd` (Nesterov momentum, the shared recipe), `adam` or `amsgrad` (Adam with
            the AMSGrad fix; `momentum` unused), for the baselines' published recipes; stored
            only when not `sgd`.
        warmup_epochs: epochs of linear lr warmup from 0 before the cosine schedule (which then
            spans the remaining steps); 0, the paper recipe, is not stored in keys.
        lam, mu, alpha: center-loss weight, quantization-loss weight, center update rate.
        losses: which of softmax / center / quantization are on.
        trunk, head: `dense` | `plain`, `conv_gap` | `fc` (the ablations).
        augment: random flip and up-to-2-pixel shifts.
        model_kwargs: extra keyword arguments of the trunk (sizes).
        threads: torch CPU threads (results are bit-identical for a fixed seed and thread count).
        method: `dmh` (others come with the comparison chapter).
        method_kwargs: a method's own hyperparameters (margins, weights of other losses).
        sampler: `random` (a permutation cut into batches) or `pk<K>` (identity-balanced:
            batch_size // K identities x K images; `dmh.run.batches`). Stored only when not
            `random`, so the keys of earlier runs stay as they were.
        protocol: `closed` (queries of trained people, the paper's protocol) or an open-set
            protocol of `data/splits/` (`open-lfw`, `open-pins`, `cross-pins-lfw`,
            `cross-lfw-pins`: queries of people never trained on). Stored only when not closed.
        face_crop: `box` (the dataset's fixed crop, the paper protocol), `tight` (the centred
            80% of it, `dmh.data.datasets.with_tighter_crops`) or `aligned` (lfw/pins images
            aligned on dlib's 5 landmarks, `dmh.data.dlib_faces`). Stored only when not `box`.
        precision: `fp32`, or `bf16`: the training forward and loss under torch's bfloat16
            autocast (weights, optimizer and scoring stay float32); stored only when `bf16`.
        data_checksum: for a folder or pickle, the content checksum of its images (`dmh train`
            sets it), so a run is keyed by its data, not its path; empty for lfw/pins, whose
            committed splits pin their content (and then not stored, so keys stay as they were).
    """

    dataset: str = "pins"
    bits: int = 48
    seed: int = 0
    eval_split: str = "test"
    epochs: int = 20
    batch_size: int = 64
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    lam: float = 0.1
    mu: float = 0.05
    alpha: float = 0.5
    losses: tuple[str, ...] = ("softmax", "center", "quantization")
    trunk: str = "dense"
    head: str = "conv_gap"
    augment: bool = True
    model_kwargs: dict = field(default_factory=dict)
    threads: int = 2
    split_seed: int = 0
    image_size: int = 32
    method: str = "dmh"
    method_kwargs: dict = field(default_factory=dict)
    data_checksum: str = ""
    sampler: str = "random"
    protocol: str = "closed"
    face_crop: str = "box"
    warmup_epochs: int = 0
    optimizer: str = "sgd"
    precision: str = "fp32"

    def __post_init__(self) -> None:
        for name in ("bits", "epochs", "batch_size", "threads", "image_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        if isinstance(self.warmup_epochs, bool) or not isinstance(self.warmup_epochs, int) \
                or not 0 <= self.warmup_epochs < self.epochs:
            raise ValueError(f"warmup_epochs must be a whole number from 0 to epochs - 1, "
                             f"got {self.warmup_epochs!r} with {self.epochs} epochs")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        s = self.sampler
        k = int(s[2:]) if s.startswith("pk") and s[2:].isdigit() else 0
        if s != "random" and (k < 2 or self.batch_size % k or self.batch_size // k < 2):
            raise ValueError(f"sampler must be 'random' or 'pk<K>' (K >= 2 images per identity, "
                             f"batch_size a multiple of K holding >= 2 identities), got {s!r} "
                             f"with batch_size {self.batch_size}")
        if self.protocol != "closed" and (not self.protocol.startswith(("open-", "cross-"))
                                          or self.eval_split != "test"):
            raise ValueError(f"protocol must be 'closed' or an open/cross protocol of data/splits "
                             f"(scored on test), got {self.protocol!r} with eval_split {self.eval_split!r}")
        if self.optimizer not in ("sgd", "adam", "amsgrad"):
            raise ValueError(f"optimizer must be 'sgd', 'adam' or 'amsgrad', got {self.optimizer!r}")
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be 'fp32' or 'bf16', got {self.precision!r}")
        if self.face_crop not in ("box", "tight", "aligned"):
            raise ValueError(f"face_crop must be 'box', 'tight' or 'aligned', got {self.face_crop!r}")
        if self.eval_split not in ("val", "test"):
            raise ValueError(f"eval_split must be 'val' or 'test', got {self.eval_split!r}")
        unknown = set(self.losses) - {"softmax", "center", "quantization"}
        if unknown or not self.losses:
            raise ValueError(f"losses must be a non-empty subset of softmax/center/quantization, "
                             f"got {self.losses}")
        object.__setattr__(self, "losses", tuple(self.losses))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["losses"] = list(self.losses)
        for name, default in (("data_checksum", ""), ("sampler", "random"), ("protocol", "closed"),
                              ("face_crop", "box"), ("warmup_epochs", 0), ("optimizer", "sgd"),
                              ("precision", "fp32")):
            if d[name] == default:  # fields added later: absent from earlier runs' keys
                del d[name]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}")
        d = dict(d)
        if "losses" in d:
            d["losses"] = tuple(d["losses"])
        return cls(**d)

    def key(self) -> str:
        """Hash of every field except `threads` (it changes bits, not the experiment)."""
        d = self.to_dict()
        d.pop("threads")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:10]

    def name(self) -> str:
        ds = self.dataset.rstrip("/").split("/")[-1].replace(" ", "_")
        if self.protocol != "closed":
            ds = self.protocol
        return f"{self.method}-{ds}-{self.bits}b-s{self.seed}-{self.eval_split}-{self.key()}"
