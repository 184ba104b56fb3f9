"""Whether a pairwise method's real-valued codes shrink toward 0 (DPSH's likelihood is convex
in theta, so over pairs of random sign it is lowest at theta = 0): a diagnostic for a baseline
that ends near the random-code floor.

    .venv/bin/python scripts/code_collapse.py dpsh --dataset pins --sampler pk4 pk16 --init-scale 1 10

Trains `method` with its paper config (linear outputs, DMH's SGD recipe at lr 0.1) on the
dataset's validation training images, one thread, the hash layer's initial weights times
`--init-scale`; prints, after each epoch, the mean loss terms over the epoch, the mean |u|
of the last batch's outputs and the share of same-person pairs in its batches. Writes nothing."""
from __future__ import annotations

import argparse

import numpy as np
import torch

from dmh.core.config import TrainConfig
from dmh.experiments.tuning import method_defaults
from dmh.methods import create_method
from dmh.run.batches import epoch_batches, same_pairs_share
from dmh.run.encode import Normalizer
from dmh.run.fit import make_optimizer, prepare_batch, protocol_parts, sgd_step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("method")
    ap.add_argument("--dataset", default="pins")
    ap.add_argument("--sampler", nargs="+", default=["pk4", "pk16"])
    ap.add_argument("--init-scale", type=float, nargs="+", default=[1.0])
    ap.add_argument("--epochs", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    for sampler in a.sampler:
        for scale in a.init_scale:
            cfg = TrainConfig(dataset=a.dataset, eval_split="val", method=a.method, threads=1,
                              **{**method_defaults(a.method), "sampler": sampler})
            train = protocol_parts(cfg)[0]
            classes, y = np.unique(train.labels, return_inverse=True)
            norm = Normalizer.fit(train.images)
            torch.manual_seed(0)
            model, criterion = create_method(cfg, n_classes=len(classes))
            with torch.no_grad():
                model.head.conv.weight.mul_(scale)
                model.head.conv.bias.mul_(scale)
            params = list(model.parameters()) + list(criterion.parameters())
            opt = make_optimizer(cfg, params)  # the shared recipe: SGD, Nesterov 0.9, wd 5e-4
            images, labels = torch.from_numpy(train.images), torch.from_numpy(y.astype(np.int64))
            for epoch in range(a.epochs):
                gen = torch.Generator().manual_seed(epoch)
                batches = epoch_batches(sampler, labels, cfg.batch_size, gen)
                sums: dict[str, float] = {}
                for idx in batches:
                    xb, yb = prepare_batch(images, labels, idx, norm, gen)
                    _, terms = sgd_step(model, criterion, opt, xb, yb)
                    for k, v in terms.items():
                        sums[k] = sums.get(k, 0.0) + float(v) / len(batches)
                with torch.no_grad():
                    h = model(xb)[0]
                print(f"{a.method} {a.dataset} {sampler} init x{scale:g} epoch {epoch + 1}: "
                      + ", ".join(f"{k} {v:.4f}" for k, v in sums.items())
                      + f"; mean |u| {h.abs().mean():.3f}; same-person pairs "
                      f"{same_pairs_share(batches, y):.1%}", flush=True)


if __name__ == "__main__":
    main()
