"""How much of a method's tanh code saturates early (|h| > 0.99, where tanh passes almost no
gradient): a diagnostic for pairwise baselines that end at the random-code floor.

    .venv/bin/python scripts/tanh_saturation.py dsh --lr 0.1 0.01 0.001 --epochs 2

Trains `method` on LFW's validation training images (P x K batches, one thread) and prints,
after each epoch, the loss terms on the last batch, the share of saturated code units and
their mean |h|. Writes nothing."""
from __future__ import annotations

import argparse

import numpy as np
import torch

from dmh.core.config import TrainConfig
from dmh.methods import create_method
from dmh.run.batches import epoch_batches
from dmh.run.encode import Normalizer
from dmh.run.fit import prepare_batch, protocol_parts, sgd_step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("method")
    ap.add_argument("--lr", type=float, nargs="+", default=[0.1, 0.01, 0.001])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--sampler", default="pk4")
    a = ap.parse_args()
    torch.set_num_threads(1)
    for lr in a.lr:
        cfg = TrainConfig(dataset="lfw", eval_split="val", method=a.method, lr=lr, threads=1,
                          sampler=a.sampler)
        train, _, _, _ = protocol_parts(cfg)
        classes, y = np.unique(train.labels, return_inverse=True)
        norm = Normalizer.fit(train.images)
        torch.manual_seed(0)
        model, criterion = create_method(cfg, n_classes=len(classes))
        params = list(model.parameters()) + list(criterion.parameters())
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
        images, labels = torch.from_numpy(train.images), torch.from_numpy(y.astype(np.int64))
        for epoch in range(a.epochs):
            gen = torch.Generator().manual_seed(epoch)
            for idx in epoch_batches(cfg.sampler, labels, cfg.batch_size, gen):
                xb, yb = prepare_batch(images, labels, idx, norm, gen)
                loss, terms = sgd_step(model, criterion, opt, xb, yb)
            with torch.no_grad():
                h = model(xb)[0]
            print(f"{a.method} lr {lr:g} epoch {epoch + 1}: loss {loss.item():.3g} ("
                  + ", ".join(f"{k} {float(v):.3g}" for k, v in terms.items())
                  + f"), saturated {(h.abs() > 0.99).float().mean():.2f}, mean |h| {h.abs().mean():.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
