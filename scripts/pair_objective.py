"""Does a pairwise objective reward the codes that retrieve best? Scores trained runs' outputs on
their own training images under DPSH's pair likelihood (or another pairwise loss), each at the
scale that suits the loss best: if a better-retrieving model's outputs, rescaled, reach a lower
loss than the loss's own trained model did, that model's optimizer stopped short (a training
failure); if not, the objective itself does not prefer the better codes.

    DMH_RUNS=/tmp/dyn .venv/bin/python scripts/pair_objective.py RUN [RUN ...] --loss dpsh

Each RUN is a checkpoint under DMH_RUNS (its validation config: the training images are the
validation gallery). Batches: P x K with K = 4 (the pairwise baselines' sampler), one fixed
draw, no augmentation, the model in eval mode (`--batch-statistics`: in training mode, as the loss saw it). Prints, per run and scale s (outputs times s),
the mean pair term (the loss with its quantization or L1 term off), the mean |u| and the mean theta = u_i.u_j / 2 of same-person and other pairs. Writes
nothing."""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from dmh.report.pair_objective import batch_outputs, drawn_batches, pair_loss
from dmh.run.checkpoint import load_trained
from dmh.run.fit import protocol_parts

SCALES = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--loss", default="dpsh", choices=("dpsh", "dsh", "hashnet"))
    ap.add_argument("--batch-statistics", action="store_true",
                    help="outputs in training mode (BatchNorm on each batch's statistics)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    for run in a.runs:
        model, norm, cfg = load_trained(run)
        train = protocol_parts(cfg)[0]
        labels, batches = drawn_batches(train.labels, "pk4", 64)
        outputs = batch_outputs(model, train.images, norm, batches, batch_statistics=a.batch_statistics)
        crit = pair_loss(a.loss, cfg.bits)
        for s in SCALES:
            pair, pos, neg, size = [], [], [], []
            for idx, out in zip(batches, outputs):
                h, yb = s * out, labels[idx]
                pair.append(float(crit(h, h, yb)[0]))
                theta = 0.5 * h @ h.T
                same = yb[:, None] == yb[None, :]
                off = ~torch.eye(len(yb), dtype=torch.bool)
                pos.append(float(theta[same & off].mean()))
                neg.append(float(theta[~same].mean()))
                size.append(float(h.abs().mean()))
            print(json.dumps({"run": run, "method": cfg.method, "scale": s,
                              "mean_abs_u": round(float(np.mean(size)), 4),
                              "pair": round(float(np.mean(pair)), 4),
                              "theta_same": round(float(np.mean(pos)), 3),
                              "theta_other": round(float(np.mean(neg)), 3)}), flush=True)


if __name__ == "__main__":
    main()
