"""What the committed paper runs took, from their records, so a reader knows what a rebuild costs."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

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


def training_rates(store: Store | None = None) -> tuple[dict, dict, dict]:
    """From the CPU records: one thread's seconds per training image by (dataset, method,
    precision) for the paper trunk (mean over runs, as busy as the machine was), training
    images by (dataset, eval split, protocol), mean evaluation seconds by dataset."""
    per_image, n_train, evals = defaultdict(list), {}, defaultdict(list)
    for rec in _records(store or paper_store()):
        hw, c = rec.hardware, rec.config
        if str(hw.get("device", "cpu")).startswith("cuda") or not rec.epochs:
            continue
        threads = hw.get("torch_threads") or 1
        n_train[(c.dataset, c.eval_split, c.protocol)] = rec.split["n_train"]
        evals[c.dataset].append(rec.eval_s * threads)
        if not c.model_kwargs:
            per_image[(c.dataset, c.method, c.precision)].append(rec.train_s * threads / (rec.epochs * rec.split["n_train"]))
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    return ({k: mean(v) for k, v in per_image.items()}, n_train, {k: mean(v) for k, v in evals.items()})


def estimate_seconds(configs, store: Store | None = None, rates: tuple | None = None) -> tuple[float, int]:
    """(one thread's seconds to train and score `configs` at the CPU records' mean rates,
    how many had no rate to go by: a method or protocol never run on a CPU). A DMH trunk of
    another size is scaled by its training FLOPs; a method without records of its own on the
    dataset goes at DMH's rate there; one without records in its precision at its fp32 rate
    times DMH's measured bf16 / fp32 ratio on the dataset. `rates`: `training_rates(store)`
    already read, for a caller that prices many lists."""
    from ..experiments.trunk_sizes import train_mflops

    rate, n_train, evals = rates or training_rates(store)
    total, unknown = 0.0, 0
    for c in configs:
        r = _rate(rate, c)
        n = n_train.get((c.dataset, c.eval_split, c.protocol))
        if r is None or n is None:
            unknown += 1
            continue
        scale = train_mflops(c) / train_mflops(replace(c, model_kwargs={})) if c.model_kwargs else 1.0
        total += c.epochs * n * r * scale + evals.get(c.dataset, 0.0)
    return total, unknown


def _rate(rate: dict, c) -> float | None:
    """One thread's seconds per training image for config `c` (see `estimate_seconds`)."""
    def at(method: str, precision: str) -> float | None:
        return rate.get((c.dataset, method, precision))
    fp32 = at(c.method, "fp32") or at("dmh", "fp32")
    if c.precision == "fp32" or at(c.method, c.precision):
        return at(c.method, c.precision) or fp32
    dmh_fp32, dmh_own = at("dmh", "fp32"), at("dmh", c.precision)
    return fp32 * dmh_own / dmh_fp32 if fp32 and dmh_own and dmh_fp32 else None


def grid_estimates(names: list[str], p, times: float = 1.0) -> list[dict]:
    """Per named grid of profile `p`: its runs, how many are left to train (a run two grids
    share counts under the first) and one thread's seconds for them at the CPU records'
    rates (`estimate_seconds`), with `times`, at that multiple of their epochs; the same for
    the runs a CPU keeps when no GPU is lent (every seed at the longest code, the first seed
    at the others: the cells the verdicts rest on). A grid that needs validation choices not
    made yet is priced by its tune runs (`needs_tune`). Each cell is its own run, as the
    runner trains it: a twin in the other precision standing in counts as left (`own_runs`)."""
    from ..experiments.configs import seeds_at, tune_configs
    from ..experiments.precision_twins import own_runs
    from ..experiments.grids import parse
    from ..run.store import MissingRecord

    rows, seen, rates = [], set(), training_rates(p.store)  # read the records once, not per list
    for name in names:
        grid, ds = parse(name, p)
        needs_tune = False
        try:
            configs = grid.items(ds, own_runs(p)) if grid.job == "deep" else []
        except MissingRecord:  # its configs need validation choices not made yet: the tune runs
            configs, needs_tune = tune_configs(ds, p), True
        if times != 1:
            configs = [replace(c, epochs=max(1, round(c.epochs * times))) for c in configs]
        unique = list({c.name(): c for c in configs}.values())
        stored = {c.name() for c in unique if p.store.has_run(c)}
        skip, stored_new = seen | stored, stored - seen
        todo = [c for c in unique if c.name() not in skip]
        seen |= {c.name() for c in unique}
        kept = [c for c in todo if c.seed in seeds_at(p, c.bits)]
        cut = [c for c in todo if c.seed not in seeds_at(p, c.bits)]
        (s_kept, u_kept), (s_cut, u_cut) = (estimate_seconds(cs, rates=rates) for cs in (kept, cut))
        rows.append({"grid": name, "runs": len(unique), "stored": len(stored),
                     "stored, not counted before": len(stored_new),
                     "to train": len(todo), "cpu_s": s_kept + s_cut,
                     "to train, CPU keeps": len(kept), "cpu_s, CPU keeps": s_kept,
                     "unknown": u_kept + u_cut, "needs_tune": needs_tune})
    return rows
