"""What the committed paper runs took, from their records, so a reader knows what a rebuild costs."""
from __future__ import annotations

from collections import defaultdict

from ..run.records import RunRecord
from ..run.store import Store, paper_store, read_json


def _records(store: Store) -> list[RunRecord]:
    return [RunRecord.from_dict(read_json(p), str(p)) for p in sorted((store.root / "runs").glob("*.json"))]


def grid_cost_line(store: Store | None = None) -> str:
    """CPU runs: wall seconds of training and evaluation times torch threads (an upper bound
    on a busy machine). GPU runs: their wall seconds (runs shared the GPU), and what they
    would cost on the CPU at the CPU runs' seconds per training image and epoch and mean
    evaluation time on the same dataset."""
    cpu_s, gpu_s, per_image, evals, on_gpu, n_cpu = 0.0, 0.0, defaultdict(list), defaultdict(list), [], 0
    for rec in _records(store or paper_store()):
        hw, ds = rec.hardware, rec.dataset
        if str(hw.get("device", "cpu")).startswith("cuda"):
            gpu_s += rec.train_s + rec.eval_s
            on_gpu.append(rec)
            continue
        threads = hw.get("torch_threads") or 1
        cpu_s += (rec.train_s + rec.eval_s) * threads
        n_cpu += 1
        if rec.epochs:
            per_image[ds].append(rec.train_s * threads / (rec.epochs * rec.split["n_train"]))
            evals[ds].append(rec.eval_s * threads)
    line = (f"paper grid: {n_cpu + len(on_gpu)} runs; {n_cpu} on CPU, {cpu_s / 3600:.2f} CPU hours "
            f"of training and evaluation")
    if on_gpu:
        line += (f"; {len(on_gpu)} on a GPU, {gpu_s / 3600:.2f} hours of run wall time "
                 f"(runs shared the GPU)")
        mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
        known = [r for r in on_gpu if per_image.get(r.dataset)]
        est = sum(r.epochs * r.split["n_train"] * mean(per_image[r.dataset]) + mean(evals[r.dataset])
                  for r in known)
        if known:
            line += f", about {est / 3600:.2f} CPU hours at the CPU runs' rate"
    return line
