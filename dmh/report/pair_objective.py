"""Does a pairwise loss prefer codes that tell people apart? On validation, per dataset, each
pairwise baseline's pair term for a perfect code (one random +-1 code a person: every image of
a person on one code, mAP@all 1) at the scale that suits the loss best, beside the term its own
training ended at and the validation mAP that training reached. A run whose training term
falls below the perfect code's lowered its loss by more than telling people apart."""
from __future__ import annotations

import copy
import textwrap

import numpy as np
import pandas as pd
import torch

from ..experiments.budget_choice import first_at_budget
from ..experiments.configs import PAIRWISE_METHODS, method_config
from ..experiments.profiles import Profile, get_profile
from ..losses import DPSHLoss, DSHLoss, HashNetLoss
from ..methods import label
from ..run.batches import epoch_batches
from .frames import NAMES
from .reading import grid_command

# Scales tried for the perfect code: its outputs are s * (+-1). HashNet's tanh head bounds
# them to (-1, 1), so its scales stop at 1.
SCALES = tuple(float(s) for s in np.geomspace(0.02, 4.0, 40))
# Each loss's pair term as its records' training history names it (the quantization or L1
# terms left out: a perfect code is binary already).
PAIR_TERM = {"dsh": "pair", "dpsh": "pair", "hashnet": "total"}


def pair_loss(method: str, bits: int) -> torch.nn.Module:
    """`method`'s loss with only its pair term (its total then is that term)."""
    return {"dsh": lambda: DSHLoss(n_bits=bits, alpha=0.0), "dpsh": lambda: DPSHLoss(eta=0.0),
            "hashnet": lambda: HashNetLoss(n_bits=bits)}[method]()


def perfect_codes(labels: np.ndarray, bits: int, seed: int = 0) -> torch.Tensor:
    """(N, bits) float64: one random +-1 code a person (drawn from `seed`), each image its
    person's."""
    _, y = np.unique(labels, return_inverse=True)
    codes = torch.randint(0, 2, (int(y.max()) + 1, bits), dtype=torch.float64,
                          generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return codes[torch.from_numpy(y)]


def pair_term(method: str, h: torch.Tensor, labels: torch.Tensor, batches: list) -> float:
    """Mean over `batches` (row indices) of `method`'s pair term on outputs `h`."""
    loss = pair_loss(method, h.shape[1])
    return float(np.mean([float(loss(h[i], h[i], labels[i])[0]) for i in batches]))


def drawn_batches(labels: np.ndarray, sampler: str, batch_size: int,
                  seed: int = 0) -> tuple[torch.Tensor, list]:
    """(person index of each image, one epoch's batches drawn as training draws them)."""
    y = torch.from_numpy(np.unique(labels, return_inverse=True)[1].astype(np.int64))
    return y, epoch_batches(sampler, y, batch_size, torch.Generator().manual_seed(seed))


def best_scale(method: str, labels: np.ndarray, bits: int, *, sampler: str = "pk4",
               batch_size: int = 64, seed: int = 0) -> tuple[float, float, float]:
    """(lowest mean pair term, its scale, the term at zero outputs) of `perfect_codes` times
    each of `SCALES` (HashNet's up to 1) over one epoch's batches (`drawn_batches`)."""
    y, batches = drawn_batches(labels, sampler, batch_size, seed)
    codes = perfect_codes(labels, bits, seed)
    scales = [s for s in SCALES if method != "hashnet" or s <= 1.0]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # thousands of tiny batches: threads only wait on each other
    try:
        best, scale = min((pair_term(method, s * codes, y, batches), s) for s in scales)
        return best, scale, pair_term(method, 0.0 * codes, y, batches)
    finally:
        torch.set_num_threads(threads)


def batch_outputs(model: torch.nn.Module, images: np.ndarray, norm, batches: list, *,
                  batch_statistics: bool) -> list[torch.Tensor]:
    """A trained model's outputs for each batch of `images` (no augmentation): with
    BatchNorm's running statistics, as retrieval encodes, or with each batch's own, as the
    training loss saw them (on a copy: a training-mode forward moves running statistics)."""
    model = copy.deepcopy(model).train(batch_statistics)
    with torch.no_grad():
        return [model(norm(torch.from_numpy(images[i.numpy()])))[0].float() for i in batches]


def model_pair_terms(model: torch.nn.Module, method: str, images: np.ndarray, labels: np.ndarray,
                     norm, *, sampler: str = "pk4", batch_size: int = 64) -> dict[str, float]:
    """`method`'s pair term on a trained model's own outputs over one epoch's batches
    (`drawn_batches`): `running` (BatchNorm's running statistics, as retrieval encodes) and
    `batch` (each batch's own, as training computed the loss)."""
    y, batches = drawn_batches(labels, sampler, batch_size)
    out = {}
    for k in ("running", "batch"):
        hs = batch_outputs(model, images, norm, batches, batch_statistics=k == "batch")
        loss = pair_loss(method, hs[0].shape[1])
        out[k] = float(np.mean([float(loss(h, h, y[i])[0]) for h, i in zip(hs, batches)]))
    return out


def objective_frame(profile: str | Profile, labels_of) -> pd.DataFrame:
    """One row per dataset, pairwise method and landed validation run of its chosen config (at
    the 1x budget, and at the plateau budget where the profile has one): the perfect code's
    lowest pair term, its scale and the term at zero outputs, the run's epochs, the pair term
    of its last training epoch and its validation mAP@all. `labels_of(ds)`: the person of
    each validation training image (the validation gallery's labels)."""
    from .plateau_results import plateau_of  # a report module beside this one

    p = get_profile(profile)
    q = plateau_of(p)
    base = q or p  # the plateau's own 1x choice (its 9-trial search) beside its runs at the budget
    rows = []
    for ds in p.datasets:
        labels = labels_of(ds)
        for m in PAIRWISE_METHODS:
            one_x = method_config(m, ds, base, bits=p.longest, eval_split="val")
            runs = [(one_x, base, "tune")] + ([(first_at_budget(m, ds, q), q, "rechoose")] if q else [])
            landed = [run for run in runs if run[1].store.has_run(run[0])]
            if not landed:
                continue
            best, scale, zero = best_scale(m, labels, one_x.bits, sampler=one_x.sampler,
                                           batch_size=one_x.batch_size)
            for c, pp, kind in landed:
                r = pp.store.load_run(c, grid_command(f"{kind}-{ds}", pp))
                rows.append({"dataset": NAMES[ds], "method": label(m), "epochs": c.epochs,
                             "precision": c.precision,
                             "training pair term": r.history[-1][PAIR_TERM[m]],
                             "perfect code": best, "its scale": scale, "zero outputs": zero,
                             "val mAP@all": r.metrics["map_all"]})
    return pd.DataFrame(rows)


def objective_lines(df: pd.DataFrame) -> str:
    """Per dataset and method: the perfect code's term against where its training ended, and
    what validation mAP did as training went on."""
    out = []
    for (ds, m), g in df.groupby(["dataset", "method"], sort=False):
        g = g.sort_values("epochs")
        first, last = g.iloc[0], g.iloc[-1]
        runs = "; ".join(f"{r['training pair term']:.4f} after {r.epochs} epochs ({r.precision}, "
                         f"val mAP@all {r['val mAP@all']:.4f})" for _, r in g.iterrows())
        s = (f"{ds} {m}: a perfect code scores {first['perfect code']:.4f} at best (scale "
             f"{first['its scale']:.2f}; zero outputs {first['zero outputs']:.4f}); its training "
             f"ended at {runs}")
        if last["training pair term"] < last["perfect code"]:
            fell = len(g) > 1 and last["val mAP@all"] < first["val mAP@all"]
            s += (": below the perfect code's, so the loss rewards more than telling people apart"
                  + (", and validation mAP fell as training lowered it." if fell else "."))
        else:
            s += ": above the perfect code's, which a code that tells people apart would still lower."
        out.append(s)
    return "\n".join(textwrap.fill(s, 90, break_on_hyphens=False) for s in out)


def paper_pairs_lines(profile: str | Profile) -> str:
    """Per dataset: DPSH on validation with its paper's pairs (each image against every
    training image) beside the batch's own pairs (`dpshpairs-<ds>`), against the
    learned-nothing line (twice the random codes' mAP@all at the longest code)."""
    from ..experiments.configs import dpsh_pairs_configs
    from .recipe import learned_nothing_line

    p = get_profile(profile)
    lines = learned_nothing_line(p)
    out = []
    for ds in p.datasets:
        cmd = grid_command(f"dpshpairs-{ds}", p)
        got = {c.method_kwargs.get("pairs", "batch"): p.store.load_run(c, cmd).metrics["map_all"]
               for c in dpsh_pairs_configs(ds, p) if p.store.has_run(c)}
        if "all" not in got:
            out.append(f"{NAMES[ds]}: DPSH with its paper's pairs has not landed (`{cmd}`).")
            continue
        line = lines[ds]
        s = (f"{NAMES[ds]}: DPSH with its paper's pairs (each image against every training image) "
             f"val mAP@all {got['all']:.4f}" + (f", with the batch's own pairs {got['batch']:.4f}"
                                                 if "batch" in got else "")
             + f"; twice the random codes' {line:.4f}: "
             + ("learns." if got["all"] >= line else "learns nothing."))
        out.append(s)
    return "\n".join(textwrap.fill(s, 90, break_on_hyphens=False) for s in out)
