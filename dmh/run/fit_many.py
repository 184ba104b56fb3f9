"""Several runs trained as one: runs whose configs differ only in their seed, lr and scalar
loss weights (`stack_key`) are stacked (`torch.func.stack_module_state`) and stepped together
under `vmap`, so a GPU runs one wide kernel where it would run one narrow kernel per run. Each run keeps what `fit` gives it: its
seed's initialization, batches and augmentations (drawn from the same generators in the same
order), its own checkpoint after every epoch and its own history. The weights equal `fit`'s
up to floating-point rounding (batched kernels may sum in another order); a record says how
many runs trained together."""
from __future__ import annotations

import copy
import math
import time
from dataclasses import replace

import numpy as np
import torch
from torch.func import functional_call, stack_module_state, vmap

from ..core.config import TrainConfig
from ..data.faceset import FaceSet
from ..methods import create_method
from .batches import epoch_batches
from .checkpoint import read_checkpoint, save_checkpoint
from .encode import Normalizer
from .fit import Fitted, autocast, check_finite, cosine_lr, make_optimizer, prepare_batch
from .store import checkpoint_path


# A method's own kwargs that are numbers a loss multiplies by (or HashNet's continuation end,
# which each run's own head applies): runs may differ in them and still train stacked.
STACKABLE_KWARGS = ("alpha", "eta", "lam", "mu", "gamma", "sigma", "beta_max")


def keeps_image_memory(cfg: TrainConfig) -> bool:
    """Whether the run's loss keeps each training image's output (DPSH's pairs='all'): vmap
    cannot index that memory, so such a run trains alone."""
    return cfg.method_kwargs.get("pairs") == "all"


def stack_key(cfg: TrainConfig) -> str:
    """Configs with equal keys can train stacked: the same but for the seed, the lr, DMH's
    loss weights and center rate, and the numbers among STACKABLE_KWARGS (a kwarg set in one
    run and left to its default in another does not stack)."""
    kw = {k: (0 if k in STACKABLE_KWARGS and isinstance(v, (int, float)) else v)
          for k, v in cfg.method_kwargs.items()}
    return replace(cfg, seed=0, lr=1.0, lam=0.0, mu=0.0, alpha=0.0, method_kwargs=kw).key()


def _run_weights(criteria: list) -> dict[str, torch.Tensor]:
    """The criterion's number attributes that differ between runs, one value a run (each
    run's loss reads its own under vmap); equal ones stay Python numbers, as in `fit`."""
    out = {}
    for name, value in vars(criteria[0]).items():
        if isinstance(value, float) and not isinstance(value, bool):
            values = [getattr(c, name) for c in criteria]
            if len(set(values)) > 1:
                out[name] = torch.tensor(values, dtype=torch.float32)
    return out


def _copy_into(module: torch.nn.Module, params: dict, buffers: dict, i: int) -> None:
    """Run i's slice of the stacked tensors into its own module (for checkpoints, scoring)."""
    with torch.no_grad():
        for name, t in module.named_parameters():
            t.copy_(params[name][i])
        for name, t in module.named_buffers():
            t.copy_(buffers[name][i])


def _point_buffers(module: torch.nn.Module, buffers: dict, i: int) -> None:
    """Make the module's buffers views of run i's slices: a rule that moves them in place
    (DMH's center update, HashNet's continuation beta) then moves the stacked state."""
    for name, t in buffers.items():
        owner, _, attr = name.rpartition(".")
        module.get_submodule(owner)._buffers[attr] = t[i]


def _optimizer_state(opt: torch.optim.Optimizer, m: int, i: int) -> dict:
    """Run i's optimizer state, shaped as `fit`'s optimizer over its own parameters."""
    state = opt.state_dict()
    per = {idx: {k: (v[i] if torch.is_tensor(v) and v.ndim and v.shape[0] == m else v)
                 for k, v in s.items()} for idx, s in state["state"].items()}
    return {"state": per, "param_groups": state["param_groups"]}


def _stacked_optimizer_state(states: list[dict]) -> dict:
    first = states[0]
    per = {idx: {k: (torch.stack([st["state"][idx][k] for st in states])
                     if torch.is_tensor(v) and v.ndim else v) for k, v in s.items()}
           for idx, s in first["state"].items()}
    return {"state": per, "param_groups": first["param_groups"]}


class StackedRuns:
    """Runs' models and criteria (equal architectures) stacked into one set of tensors, with
    one optimizer over them and a step that trains every run on its own batch.

    Args:
        models, criteria: one per run, as `create_method` built them (each keeps views of its
            run's buffers, and its parameters are refreshed by `sync`).
        cfg: the shared recipe (optimizer, lr).
    """

    def __init__(self, models: list, criteria: list, cfg: TrainConfig) -> None:
        if cfg.precision == "bf16":
            # under torch.func's vmap, CPU autocast leaves convolutions in float32 (measured on
            # torch 2.13; CUDA not checked here): a record saying bf16 would not be
            raise ValueError(f"{cfg.name()}: bf16 runs cannot train stacked (torch.func.vmap "
                             f"ignores autocast); train them one at a time (dmh grid without --stack)")
        self.models, self.criteria = models, criteria
        self._model = copy.deepcopy(models[0]).to("meta")
        self._crit = copy.deepcopy(criteria[0]).to("meta")
        self.mp, self.mb = stack_module_state(models)
        self.cp, self.cb = stack_module_state(criteria)
        for i, (model, criterion) in enumerate(zip(models, criteria)):
            _point_buffers(model, self.mb, i)
            _point_buffers(criterion, self.cb, i)
        self.opt = make_optimizer(cfg, list(self.mp.values()) + list(self.cp.values()))
        self.precision = cfg.precision
        device = next(iter(self.mp.values())).device
        self.weights = {k: v.to(device) for k, v in _run_weights(criteria).items()}

        def loss_of_one(mp, mb, cp, cb, weights, x, y):
            h, logits = functional_call(self._model, (mp, mb), (x,))
            kept = {k: getattr(self._crit, k) for k in weights}
            try:  # this run's loss weights where runs differ in them
                for k, v in weights.items():
                    setattr(self._crit, k, v)
                loss, terms = functional_call(self._crit, (cp, cb), (h, logits, y))
            finally:
                for k, v in kept.items():
                    setattr(self._crit, k, v)
            return loss, terms, h

        self._losses = vmap(loss_of_one)

    def step(self, xb: torch.Tensor, yb: torch.Tensor, lrs: list[float], progress: float):
        """One optimizer step of every run on its batch (`xb` (runs, B, ...), `yb` (runs, B))
        at its lr; then the criteria's own rules (centers). Returns (losses, terms), one value
        a run. Runs at different lrs step at lr 1 and each run's change is scaled by its own
        (an SGD or Adam step is linear in the lr given the optimizer's state)."""
        same = len(set(lrs)) == 1
        for g in self.opt.param_groups:
            g["lr"] = lrs[0] if same else 1.0
        for module in (*self.models, *self.criteria):  # own schedules (HashNet's beta buffer)
            if hasattr(module, "set_progress"):
                module.set_progress(progress)
        with autocast(self.precision, str(xb.device)):
            loss, terms, h = self._losses(self.mp, self.mb, self.cp, self.cb, self.weights, xb, yb)
        self.opt.zero_grad(set_to_none=True)
        loss.sum().backward()  # each run's loss reaches only its own slice
        params = [p for g in self.opt.param_groups for p in g["params"]]
        before = None if same else [p.detach().clone() for p in params]
        self.opt.step()
        if before is not None:
            scale = torch.tensor(lrs, dtype=params[0].dtype, device=params[0].device)
            with torch.no_grad():
                for p, b in zip(params, before):
                    p.copy_(b + (p - b) * scale.view(-1, *[1] * (p.ndim - 1)))
        for i, criterion in enumerate(self.criteria):
            if hasattr(criterion, "update_centers"):
                criterion.update_centers(h[i].detach(), yb[i])
        return loss.detach(), {k: v.detach() for k, v in terms.items()}

    def sync(self, i: int) -> None:
        """Run i's slices into its own model and criterion."""
        _copy_into(self.models[i], self.mp, self.mb, i)
        _copy_into(self.criteria[i], self.cp, self.cb, i)

    def optimizer_state(self, i: int) -> dict:
        return _optimizer_state(self.opt, len(self.models), i)

    def load_optimizer_states(self, states: list[dict]) -> None:
        self.opt.load_state_dict(_stacked_optimizer_state(states))


def fit_many(cfgs: list[TrainConfig], train_fs: FaceSet, *, device: str = "cpu",
             resume: bool = True, stop_after_epochs: int | None = None, log=None) -> list[Fitted] | None:
    """Train `cfgs` (equal `stack_key`s) on `train_fs` as one stacked model; one `Fitted`
    per config, in order, with `train_s` its share of the wall time; None when stopped early
    by `stop_after_epochs`. Resumes when every run has a checkpoint at the same epoch."""
    if len({stack_key(c) for c in cfgs}) != 1:
        raise ValueError("fit_many: the configs differ in more than seed, lr and loss weights "
                         "(dmh.run.fit_many.stack_key)")
    if any(keeps_image_memory(c) for c in cfgs):
        raise ValueError("fit_many: DPSH with pairs='all' keeps each training image's output and "
                         "trains unstacked (dmh.experiments.jobs.stack_groups)")
    cfg, m = cfgs[0], len(cfgs)
    torch.set_num_threads(cfg.threads)
    classes, y_train = np.unique(train_fs.labels, return_inverse=True)
    norm = Normalizer.fit(train_fs.images)
    models, crits = [], []
    for c in cfgs:
        torch.manual_seed(c.seed)  # as `fit` draws each run's initial weights
        model, criterion = create_method(c, n_classes=len(classes))
        models.append(model.to(device).train())
        crits.append(criterion.to(device))
    start_epoch, histories, train_s = 0, [[] for _ in cfgs], 0.0
    states = [read_checkpoint(checkpoint_path(c), device) if resume and checkpoint_path(c).exists()
              else None for c in cfgs]
    resumed = all(s is not None and s["config"]["threads"] == cfg.threads for s in states) and \
        len({s["epoch"] for s in states}) == 1
    if resumed:
        for model, criterion, s in zip(models, crits, states):
            model.load_state_dict(s["model"])
            criterion.load_state_dict(s["criterion"])
        start_epoch, histories = states[0]["epoch"], [s["history"] for s in states]
        train_s = sum(s["train_s"] for s in states)
    runs = StackedRuns(models, crits, cfg)
    if resumed:
        runs.load_optimizer_states([s["optimizer"] for s in states])
    images = torch.from_numpy(train_fs.images)
    labels = torch.from_numpy(y_train.astype(np.int64))
    n = len(images)
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    total_steps, warmup_steps = steps_per_epoch * cfg.epochs, steps_per_epoch * cfg.warmup_epochs
    for epoch in range(start_epoch, cfg.epochs):
        if stop_after_epochs is not None and epoch >= stop_after_epochs:
            return None
        t0 = time.perf_counter()
        gens = [torch.Generator().manual_seed(c.seed * 100_003 + epoch) for c in cfgs]
        batches = [epoch_batches(c.sampler, labels, c.batch_size, g) for c, g in zip(cfgs, gens)]
        # per-term sums over the epoch, one per run, in float64 on the device as `fit` sums
        # Python floats (no host sync per step)
        sums: dict[str, torch.Tensor] = {}
        for it in range(steps_per_epoch):
            parts = [prepare_batch(images, labels, b[it], norm, g if cfg.augment else None, device)
                     for b, g in zip(batches, gens)]
            xb, yb = torch.stack([x for x, _ in parts]), torch.stack([y for _, y in parts])
            step = epoch * steps_per_epoch + it
            loss, terms = runs.step(xb, yb, [cosine_lr(c.lr, step, total_steps, warmup_steps)
                                             for c in cfgs], step / total_steps)
            for k, v in {**terms, "total": loss}.items():
                sums[k] = sums.get(k, 0.0) + v.double() * yb.shape[1]
        seconds = time.perf_counter() - t0
        train_s += seconds
        for i in range(m):
            histories[i].append({"epoch": epoch + 1, **{k: float(v[i]) / n for k, v in sums.items()},
                                 "seconds": round(seconds / m, 2)})
        for c, hist in zip(cfgs, histories):  # before any checkpoint: the stack resumes as one
            check_finite(c, hist[-1], checkpoint_path(c))
        for i, (c, model, criterion) in enumerate(zip(cfgs, models, crits)):
            runs.sync(i)
            save_checkpoint(checkpoint_path(c), {
                "model": model.state_dict(), "criterion": criterion.state_dict(),
                "optimizer": runs.optimizer_state(i), "epoch": epoch + 1,
                "history": histories[i], "train_s": train_s / m, "config": c.to_dict(),
                "normalizer": norm.state(), "classes": classes.tolist()})
        if log is not None:
            log(f"epoch {epoch + 1}/{cfg.epochs} of {m} stacked runs: {m * n / seconds:,.0f} img/s")
    return [Fitted(model, norm, classes, hist, train_s / m, n) for model, hist in zip(models, histories)]
