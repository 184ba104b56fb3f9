"""How a method's codes and validation mAP move during one training run: a diagnostic for a
method whose validation mAP falls with more epochs (DPSH on LFW: 0.103 at 40 epochs, 0.040 at
640) or that cannot fit its own training images.

    DMH_RUNS=/tmp/dyn .venv/bin/python scripts/code_dynamics.py dpsh --dataset lfw --epochs 40 \
        --every 5 --set lr=0.1 --set weight_decay=0

Trains the method's chosen 1x config (`dmh.experiments.configs.method_config`, validation
split, one thread) with any `--set key=value` overrides (`method_kwargs.eta=0.002` reaches a
loss weight), in chunks of `--every` epochs under the run's own cosine schedule, checkpointed
under DMH_RUNS (never the committed records). After each chunk it prints: the epoch's loss
terms; the validation mAP@all of the binary codes and of the float outputs; the training
images' own fit (`training_fit`); the mean |u| of the outputs and the share of their bits
within 0.1 of 0; for a pairwise loss, its pair term on the run's own outputs with BatchNorm's
running statistics and with each batch's own (`pair_objective.model_pair_terms`).
`--norm group` swaps the trunk's BatchNorm for per-image GroupNorm: does the run still get
worse with epochs when its loss cannot read the batch? Writes nothing but the run's checkpoint."""
from __future__ import annotations

import argparse
import json
from dataclasses import replace

import numpy as np
from torch import nn

from dmh.experiments.configs import method_config
from dmh.experiments.profiles import get_profile
from dmh.experiments.tuning import as_fields
from dmh.methods import create_method
from dmh.report.pair_objective import PAIR_TERM, model_pair_terms
from dmh.run.checkpoint import read_checkpoint
from dmh.run.encode import Normalizer, encode
from dmh.run.evaluate import score_codes, training_fit
import dmh.run.fit as fit_module
from dmh.run.fit import fit, protocol_parts
from dmh.run.store import checkpoint_path


def overridden(cfg, sets: list[str]):
    """`cfg` with `key=value` overrides (values read as JSON, else as strings)."""
    values = {}
    for s in sets:
        key, _, raw = s.partition("=")
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    return replace(cfg, **as_fields(values, cfg.method_kwargs))


def without_batch_statistics(built):
    """(model, loss) with every BatchNorm2d swapped for GroupNorm(1, C): each image normalized
    on its own, so no output depends on the rest of its batch (a diagnostic, never a record)."""
    model, loss = built

    def swap(module: nn.Module) -> None:
        for name, child in module.named_children():
            if isinstance(child, nn.BatchNorm2d):
                setattr(module, name, nn.GroupNorm(1, child.num_features))
            else:
                swap(child)

    swap(model)
    return model, loss


def build(cfg, n_classes: int, norm: str):
    built = create_method(cfg, n_classes=n_classes)
    return without_batch_statistics(built) if norm == "group" else built


def snapshot(cfg, train, query, n_classes: int, norm: str = "batch") -> dict:
    """Validation and training-fit numbers of the run's latest checkpoint."""
    state = read_checkpoint(checkpoint_path(cfg))
    model, _ = build(cfg, n_classes, norm)
    model.load_state_dict(state["model"])
    model.eval()
    norm = Normalizer(**state["normalizer"])
    g, q = encode(model, train.images, norm), encode(model, query.images, norm)
    m = score_codes(q.codes, g.codes, query.labels, train.labels, cfg.bits,
                    qfeatures=q.features, gfeatures=g.features)
    u = np.abs(g.features)
    pair = {}
    if cfg.method in PAIR_TERM:  # the loss on the run's own outputs, both BatchNorm modes
        terms = model_pair_terms(model, cfg.method, train.images, train.labels, norm,
                                 sampler=cfg.sampler, batch_size=cfg.batch_size)
        pair = {f"pair_{k}_statistics": round(v, 4) for k, v in terms.items()}
    return {"epoch": state["epoch"], **{k: round(v, 4) for k, v in state["history"][-1].items()
                                        if k not in ("epoch", "seconds")},
            "val_map": round(m["map_all"], 4), "val_map_float": round(m["map_all_float"], 4),
            "train_fit": round(training_fit(g.codes, train.labels), 4),
            "mean_abs_u": round(float(u.mean()), 4), "near_zero": round(float((u < 0.1).mean()), 3),
            **pair}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("method")
    ap.add_argument("--dataset", default="lfw")
    ap.add_argument("--profile", default="plateau")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--set", dest="sets", action="append", default=[])
    ap.add_argument("--norm", choices=("batch", "group"), default="batch",
                    help="group: the trunk's BatchNorm swapped for per-image GroupNorm(1, C) "
                         "(use its own DMH_RUNS: the run's name does not say so)")
    a = ap.parse_args()
    p = get_profile(a.profile)
    cfg = method_config(a.method, a.dataset, p, bits=p.longest, seed=p.seeds[0], eval_split="val")
    cfg = overridden(replace(cfg, epochs=a.epochs, threads=1), a.sets)
    print(json.dumps({"run": cfg.name(), "config": cfg.to_dict()}))
    train, query, _, _ = protocol_parts(cfg)
    n_classes = len(np.unique(train.labels))
    if a.norm == "group":  # the training loop builds its model through this name
        fit_module.create_method = lambda c, n_classes: build(c, n_classes, "group")
    for stop in range(a.every, a.epochs + a.every, a.every):
        fit(cfg, train, progress=False, stop_after_epochs=min(stop, a.epochs))
        print(json.dumps(snapshot(cfg, train, query, n_classes, a.norm)), flush=True)


if __name__ == "__main__":
    main()
