"""Every run of the paper as a config, built from a profile object and the validation choices.

Each function returns the configs of one grid for one dataset; names and keys equal those of
the committed records (a config is cached by its hash)."""
from __future__ import annotations

from dataclasses import replace
from itertools import zip_longest

from ..core.config import TrainConfig
from ..methods import METHODS
from .precision_twins import landed_cell, like_for_like
from .open_protocols import OPEN
from .profiles import Profile
from .tuning import as_fields, candidates, hyperparameters, method_defaults


def base_config(dataset: str, p: Profile, **kw) -> TrainConfig:
    return TrainConfig(dataset=dataset, epochs=p.epochs.get(dataset, 20), threads=p.threads, **kw)


def method_config(method: str, dataset: str, p: Profile, *, budget: bool = False, **kw) -> TrainConfig:
    """`method` with its validation-chosen hyperparameters (none chosen: the defaults); with
    `budget`, its choice at the result budget where it has one (`budget_choice`): for configs
    that train at the budget (`at_budget`)."""
    hp = method_defaults(method)
    hp |= as_fields(hyperparameters(method, dataset, p, budget=budget), hp.get("method_kwargs"))
    return base_config(dataset, p, **({} if method == "dmh" else {"method": method}), **(hp | kw))


def times_epochs(c: TrainConfig, f: float) -> TrainConfig:
    """`c` at `f` times its epochs (at least one), a complete cosine schedule of its own."""
    return c if f == 1 else replace(c, epochs=max(1, int(c.epochs * f)))


def at_budget(c: TrainConfig, p: Profile, times: float = 1, landed: bool = True) -> TrainConfig:
    """`c` as the profile's result runs train: its epochs times `p.budget` of the dataset it
    trains on (1 where absent) and `times`, in the profile's precision (with `landed` and
    `p.stand_ins`, its twin in the other precision where only the twin landed:
    `precision_twins`) and that dataset's face crop (`p.face_crop`; the config's own where none)."""
    c = replace(times_epochs(c, p.budget.get(c.dataset, 1) * times), precision=p.precision,
                face_crop=p.face_crop.get(c.dataset, c.face_crop))
    return landed_cell(c, p.store) if landed and p.stand_ins else c


def headline_first(p: Profile) -> list[int]:
    """The profile's code lengths, longest (the headline's) first: a grid cut off by its
    time has landed the cells the verdicts rest on."""
    return sorted(p.bits, reverse=True)


def seeds_at(p: Profile, bits: int) -> tuple[int, ...]:
    """Every seed of the profile at its longest code, the first seed at the others."""
    return p.seeds if bits == p.longest else p.seeds[:1]


def tune_configs(dataset: str, p: Profile, exclude: tuple[str, ...] = ()) -> list[TrainConfig]:
    """The validation candidates of every method with a search space (but `exclude`)."""
    return [c for method in p.search if method not in exclude for c in candidates(method, dataset, p)]


def search_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """Every baseline's own search space (`p.baseline_search`) on validation, one trial of
    each method in turn, so every method's first trials land before any method's last."""
    each = [candidates(m, dataset, p, space) for m, space in p.baseline_search.items()]
    return [c for row in zip_longest(*each) for c in row if c is not None]


def main_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """DMH at every code length and seed; first the cells a CPU keeps (every seed at the
    longest code, the first seed at each shorter one, longest first), then the rest."""
    cells = [(k, s) for k in headline_first(p) for s in seeds_at(p, k)]
    cells += [(k, s) for k in headline_first(p) for s in p.seeds if (k, s) not in cells]
    return [at_budget(method_config("dmh", dataset, p, budget=True, bits=k, seed=s), p) for k, s in cells]


def sensitivity_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """DMH's validation candidates scored on test: how much the lam/mu choice matters
    (shown next to the validation sweep, never used to choose)."""
    return [at_budget(replace(c, eval_split="test"), p) for c in candidates("dmh", dataset, p)]


ABLATIONS = {
    "DMH (dense, conv-GAP, all losses)": {},
    "plain trunk": {"trunk": "plain"},
    "FC hash head": {"head": "fc"},
    "softmax only": {"losses": ("softmax",)},
    "softmax + center": {"losses": ("softmax", "center")},
    "softmax + quantization": {"losses": ("softmax", "quantization")},
}
FULL_DMH = "DMH (dense, conv-GAP, all losses)"


def ablation_configs(dataset: str, p: Profile, variants=None) -> dict[str, list[TrainConfig]]:
    """Variants of the chosen DMH config at the longest code, each changing one thing."""
    return {name: [at_budget(replace(method_config("dmh", dataset, p, budget=True, bits=p.longest, seed=s),
                                     **ABLATIONS[name]), p)
                   for s in p.ablation_seeds] for name in (variants or ABLATIONS)}


def budget_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """The chosen config on validation at each of the profile's multiples of the epoch budget
    (each run its own cosine schedule, so every point is a finished run)."""
    base = method_config("dmh", dataset, p, bits=p.longest, eval_split="val")
    return [times_epochs(base, f) for f in p.budget_factors + p.longer_dmh_factors.get(dataset, ())]


def study_nets(dataset: str, p: Profile, budget: bool = False) -> list[TrainConfig]:
    """Every deep method and every one-change variant of DMH: chosen configs (with `budget`,
    the choices at the result budget where made), longest code, first seed, on validation,
    at the 1x budget."""
    nets = [method_config(m, dataset, p, budget=budget, bits=p.longest, eval_split="val") for m in METHODS]
    base = method_config("dmh", dataset, p, budget=budget, bits=p.longest, eval_split="val")
    return nets + [replace(base, **ABLATIONS[name]) for name in ABLATIONS if name != FULL_DMH]


def ladder_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """`study_nets` at each multiple of the epoch budget: where each plateaus. Ordered by
    multiple, so every method's short runs land before anyone's long ones; DMH's own ladder
    is the budget grid's (the same configs, cached; it goes further)."""
    return [times_epochs(c, f) for f in p.budget_factors for c in study_nets(dataset, p)]


def plateau_pairs(dataset: str, p: Profile) -> list[tuple[TrainConfig, TrainConfig]]:
    """`study_nets` on validation at the result budget (`at_budget`) and twice it, both in one
    precision (`like_for_like`, where `p.stand_ins`): the doubling that says whether each is at
    its plateau."""
    pairs = [(at_budget(c, p, 1, landed=False), at_budget(c, p, 2, landed=False))
             for c in study_nets(dataset, p, budget=True)]
    return [like_for_like(a, b, p.store) if p.stand_ins else (a, b) for a, b in pairs]


def plateau_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    return [c for each in zip(*plateau_pairs(dataset, p)) for c in each]  # budget runs, then doublings


def quantization_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """DMH's chosen config as the result runs train, on validation, at each quantization
    weight mu of its search (the chosen one first, the plateau grid's run): does a larger mu
    close the gap between binary codes and float outputs at the result budget?"""
    base = method_config("dmh", dataset, p, budget=True, bits=p.longest, eval_split="val")
    mus = sorted(p.search.get("dmh", {}).get("mu", ()), key=lambda m: m != base.mu)
    return [at_budget(replace(base, mu=m), p) for m in mus]


# Trials of the binary-float gap, each one change to DMH's chosen recipe (scripts/
# code_float_gap.py: at 640 epochs on LFW the bits split the faces 67/33 on average)
GAP_TRIALS = {
    "recipe as chosen": {},
    "classifier on the codes": {"model_kwargs": {"classify_codes": True}},
    "bit balance 0.01": {"method_kwargs": {"balance": 0.01}},
    "bit balance 0.1": {"method_kwargs": {"balance": 0.1}},
}


def gap_configs(dataset: str, p: Profile) -> dict[str, TrainConfig]:
    """DMH's chosen config on validation (first seed, longest code) with each gap trial, as
    the profile's result runs train (`at_budget`: the plateau profile's recipe as chosen is
    the quantization grid's run): which change brings the codes' mAP nearer their float
    outputs' without losing mAP?"""
    base = method_config("dmh", dataset, p, budget=True, bits=p.longest, seed=p.seeds[0], eval_split="val")
    return {name: at_budget(replace(base, **change), p) for name, change in GAP_TRIALS.items()}


SPEED_TRIAL = "bfloat16 autocast"  # a trial of speed: kept if it costs no mAP


def trial_configs(dataset: str, p: Profile) -> dict[str, TrainConfig]:
    """DMH's chosen config on validation at the epoch budget, each trial changing one part
    of the recipe as the field does (the untouched run is the budget grid's 1x run); bfloat16
    autocast is a trial of speed: it counts if it costs no mAP."""
    base = method_config("dmh", dataset, p, bits=p.longest, seed=p.seeds[0], eval_split="val")
    # warmup in whole epochs: a one-epoch budget (the quick profile) has none to warm up in
    warmup = {"lr warmup (5% of epochs)": replace(base, warmup_epochs=max(1, base.epochs // 20))
              } if base.epochs > 1 else {}
    return {"recipe as chosen": base, **warmup,
            "label smoothing 0.1": replace(base, method_kwargs={"label_smoothing": 0.1}),
            "batch 128, lr x2": replace(base, batch_size=128, lr=2 * base.lr),
            "batch 32, lr / 2": replace(base, batch_size=32, lr=base.lr / 2),
            SPEED_TRIAL: replace(base, precision="bf16")}


def precision_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """DMH's chosen config on validation at every seed, in float32 and under bfloat16 autocast:
    the speed trial's verdict in seed spread (seed 0's pair are the budget and trials grids'
    runs)."""
    base = method_config("dmh", dataset, p, bits=p.longest, eval_split="val")
    return [replace(base, seed=s, precision=x) for s in p.seeds for x in ("fp32", "bf16")]


def precision_check_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """Every deep baseline's chosen config on validation (first seed, longest code, 1x) in
    float32 and under bfloat16 autocast: the precision grid's no-cost verdict is DMH's alone
    (the plateau profile's first sittings trained every method in bf16: `precision_twins`)."""
    bases = [method_config(m, dataset, p, bits=p.longest, seed=p.seeds[0], eval_split="val")
             for m in METHODS if m != "dmh"]
    return [replace(b, precision=x) for b in bases for x in ("fp32", "bf16")]


# Published recipes (the reading of the papers): DCDH Adam with AMSGrad, lr 0.005,
# batch 256; DDH Adam, batch 256, with Adam's default lr 1e-3 (no lr given). The shared loop
# keeps its cosine schedule and weight decay.
PUBLISHED = {"ddh": {"optimizer": "adam", "lr": 1e-3, "batch_size": 256},
             "dcdh": {"optimizer": "amsgrad", "lr": 5e-3, "batch_size": 256}}


def published_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """DDH and DCDH on validation with the shared recipe and with their published one."""
    out = []
    for m, recipe in PUBLISHED.items():
        base = method_config(m, dataset, p, bits=p.longest, seed=p.seeds[0], eval_split="val")
        out += [base, replace(base, **recipe)]
    return out


def comparison_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """Every registered method at every length (all seeds at the longest), ordered by code
    length (the longest first), then seed, then method; DMH's are its main runs."""
    return [at_budget(method_config(m, dataset, p, budget=True, bits=k, seed=s), p)
            for k in headline_first(p) for s in seeds_at(p, k) for m in METHODS]


def input_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """DMH's chosen config on validation with the fixed crop, a tighter cut of it and
    dlib-aligned crops: which input the dataset's networks should read."""
    base = method_config("dmh", dataset, p, bits=p.longest, seed=p.seeds[0], eval_split="val")
    return [replace(base, face_crop=f) for f in ("box", "tight", "aligned")]


PAIRWISE_METHODS = ("dsh", "dpsh", "hashnet")
# DSH's and DPSH's tanh outputs saturate at lr 0.1 (92% of units beyond 0.99 after 2 epochs;
# scripts/tanh_saturation.py): the study goes two decades below their searched lrs to test
# whether that is why they learn nothing.
PAIRWISE_STUDY_LRS = (0.1, 0.01, 0.001, 0.0001)


def sampler_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """The pairwise baselines on validation with identity-balanced batches (16 people x 4
    photos) next to their random-batch runs (the tune grid's, or the defaults'): do they learn
    once a batch holds same-person pairs?"""
    return [replace(method_config(m, dataset, p, bits=p.longest, seed=p.seeds[0], eval_split="val"),
                    sampler=s) for m in PAIRWISE_METHODS for s in ("random", "pk4")]


CENTER_METHODS = ("dmh", "dcdh", "csq")  # a class center (DMH, DCDH) or hash center (CSQ) per person


def center_sampler_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """The centre-based losses on validation with random and identity-balanced batches (16
    people x 4 photos): do they need same-person pairs in a batch as the pairwise ones do?
    (The random-batch runs are the budget and ladder grids' 1x runs.)"""
    return [replace(method_config(m, dataset, p, bits=p.longest, seed=p.seeds[0], eval_split="val"),
                    sampler=s) for m in CENTER_METHODS for s in ("random", "pk4")]


def pairwise_lr_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """DSH and DPSH on validation at every lr of the study, with random and identity-balanced
    batches (the lrs they were searched over are the tune and sampler grids' runs)."""
    return [replace(method_config(m, dataset, p, bits=p.longest, seed=p.seeds[0], eval_split="val"),
                    lr=lr, sampler=s)
            for m in ("dsh", "dpsh") for lr in PAIRWISE_STUDY_LRS for s in ("random", "pk4")]


def dpsh_pairs_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """DPSH on validation with its chosen config: the batch's own pairs (the tune grid's run)
    and its paper's pairs, each image against every training image (`DPSHLoss` pairs='all')."""
    base = method_config("dpsh", dataset, p, bits=p.longest, seed=p.seeds[0], eval_split="val")
    return [base, replace(base, method_kwargs={**base.method_kwargs, "pairs": "all"})]


# What runs on the open protocols besides full DMH: its loss ablations (does the center
# loss help people it never saw?) and every deep baseline, as in the comparison grid.
OPEN_LOSS_VARIANTS = ("softmax only", "softmax + center", "softmax + quantization")


def open_configs(kind: str, dataset: str, p: Profile) -> list[TrainConfig]:
    """The open protocol that retrieves on `dataset` (trained with the training dataset's
    recipe), longest code: DMH at every seed first, then its loss variants and the deep
    baselines seed by seed (the first seed of every method lands before the others)."""
    train_on, protocol = OPEN[kind][dataset]

    def at(method: str, seed: int, **change) -> TrainConfig:
        return at_budget(replace(method_config(method, train_on, p, budget=True, bits=p.longest, seed=seed,
                                               protocol=protocol), **change), p)

    others = [("dmh", ABLATIONS[v]) for v in OPEN_LOSS_VARIANTS] + \
             [(m, {}) for m in METHODS if m != "dmh"]
    return [at("dmh", s) for s in p.seeds] + \
           [at(m, s, **change) for s in p.seeds for m, change in others]


def examples_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """The run whose weights the retrieval-examples chapter shows: DMH, longest code, first seed."""
    return [at_budget(method_config("dmh", dataset, p, budget=True, bits=p.longest, seed=p.seeds[0]), p)]
