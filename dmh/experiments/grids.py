"""The one table of named grids: `<kind>-<dataset>` (or `floors`), what each makes, and which
need the validation choices first. `dmh grid NAME...` and `dmh book` run them through the
runner; chapters read what they made."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import configs as C
from .anchor_specs import anchor_specs, crop_anchor_specs
from .batch_k import batch_k_configs
from .budget_choice import rechoose_configs
from .open_protocols import OPEN
from .profiles import Profile
from .shallow_specs import shallow_specs
from .trunk_sizes import trunk_configs


@dataclass(frozen=True)
class Grid:
    """Args:
        job: `deep` (train and score configs), `examples` (a run's retrieval examples
            record, `dmh.run.examples`, from its weights: trained if missing),
            `shallow` (shallow fits), `anchor` (dlib embedding anchors) or `floors`.
        items: (dataset, profile) -> configs or shallow specs.
        chosen: needs the validation choices (`tune-<ds>` runs first).
        about: one line for `dmh grid --help`.
        trains_on: the datasets whose choices it needs, given <ds> (default: <ds> itself;
            the cross grids train on the other dataset).
    """

    job: str
    items: Callable[[str, Profile], list]
    chosen: bool
    about: str
    trains_on: Callable[[str], tuple[str, ...]] = lambda ds: (ds,)


GRIDS = {
    "tune": Grid("deep", C.tune_configs, False, "validation candidates of every method with a "
                 "search space (DMH lam/mu, DSH/DPSH lr); then the choices"),
    "search": Grid("deep", C.search_configs, True, "each baseline's own hyperparameters on validation "
                   "(9 trials, as DMH's): 3 lrs x its key loss weight"),
    "main": Grid("deep", C.main_configs, True, "DMH at every code length and seed"),
    "sensitivity": Grid("deep", C.sensitivity_configs, True, "DMH's validation candidates on test"),
    # seed by seed: every variant's first seed lands before any variant's last
    "ablation": Grid("deep", lambda ds, p: [c for cs in zip(*C.ablation_configs(ds, p).values()) for c in cs],
                     True, "one-change variants of DMH at the longest code"),
    "budget": Grid("deep", C.budget_configs, True, "DMH at 0.5x to 8x the epochs (paper), on validation"),
    "ladder": Grid("deep", C.ladder_configs, True, "every deep method and DMH variant at 0.5x to "
                   "8x the epochs (paper), on validation: each one's plateau"),
    "plateau": Grid("deep", C.plateau_configs, True, "every deep method and DMH variant on "
                    "validation at the profile's result budget and twice it: at its plateau?"),
    "quantization": Grid("deep", C.quantization_configs, True, "DMH on validation as the result "
                         "runs train, at each searched mu: the binary-float gap at the budget"),
    "gap": Grid("deep", lambda ds, p: list(C.gap_configs(ds, p).values()), True,
                "DMH on validation: bit balance, classifier on the codes: the binary-float gap"),
    "rechoose": Grid("deep", rechoose_configs, True,
                     "each method's 1x choice at the result budget on validation; where it got "
                     "worse, its 3 best 1x trials there and the best is its choice at the budget"),
    "comparison": Grid("deep", C.comparison_configs, True, "every deep method, equal budget"),
    "trunk": Grid("deep", trunk_configs, True, "DMH on validation: trunk sizes (growth rate, "
                  "layers per block) at the paper trunk's training FLOPs"),
    "input": Grid("deep", C.input_configs, True, "DMH on validation: fixed crop, tighter crop, dlib-aligned crop"),
    "sampler": Grid("deep", C.sampler_configs, True, "pairwise baselines with P x K batches, validation"),
    "centersampler": Grid("deep", C.center_sampler_configs, True, "the centre-based losses (DMH, "
                          "DCDH, CSQ) with random and P x K batches, validation"),
    "batchk": Grid("deep", batch_k_configs, True, "DSH, DPSH, HashNet, DMH, DCDH, CSQ with "
                   "4 and 16 photos a person in a batch, validation"),
    "trials": Grid("deep", lambda ds, p: list(C.trial_configs(ds, p).values()), True,
                   "DMH on validation: lr warmup, label smoothing, batch 32 and 128"),
    "precision": Grid("deep", C.precision_configs, True, "DMH on validation, every seed, float32 "
                      "and bfloat16 autocast: does the 1.56x faster precision cost mAP?"),
    "bf16check": Grid("deep", C.precision_check_configs, True, "each deep baseline on validation at "
                      "1x, float32 and bfloat16 autocast: does bf16 cost it mAP?"),
    "published": Grid("deep", C.published_configs, True, "DDH and DCDH on validation: shared "
                      "recipe vs their papers' (Adam/AMSGrad, batch 256)"),
    "pairlr": Grid("deep", C.pairwise_lr_configs, True, "DSH and DPSH at lr 0.1 to 0.0001, random "
                   "and P x K batches, validation"),
    "dpshpairs": Grid("deep", C.dpsh_pairs_configs, True, "DPSH on validation with the batch's "
                      "own pairs and with its paper's (each image against every training image)"),
    "open": Grid("deep", lambda ds, p: C.open_configs("open", ds, p), True,
                 "DMH, its loss variants and the deep baselines on people "
                 "they never saw (open-lfw, open-pins)"),
    "cross": Grid("deep", lambda ds, p: C.open_configs("cross", ds, p), True,
                  "the open grid's methods trained on the other dataset, "
                  "retrieving on <ds>", lambda ds: (OPEN["cross"][ds][0],)),
    "openexamples": Grid("examples", lambda ds, p: C.open_configs("open", ds, p)[:1], True,
                         "the retrieval examples the unseen-people chapter shows (DMH on "
                         "open-<ds>, first seed; from the run's weights)"),
    "examples": Grid("examples", C.examples_configs, True, "the retrieval examples the examples "
                     "chapter shows (from the run's weights)"),
    "shallow": Grid("shallow", shallow_specs, True, "LSH/PCAH/ITQ/SH/SDH on pixels and DMH's trunk"),
    "anchor": Grid("anchor", anchor_specs, True, "dlib's 128-d embedding (float, LSH, ITQ, DMH's "
                   "losses on it) on the closed, open and cross protocols retrieving on <ds>",
                   lambda ds: (ds, OPEN["cross"][ds][0])),
    "ceiling": Grid("anchor", crop_anchor_specs, True, "dlib's 128-d embedding of the networks' own "
                    "32x32 crops, closed protocol: how far the pixels carry"),
    "floors": Grid("floors", lambda ds, p: [], False, "random codes and pixel LSH (every dataset)"),
}


def parse(name: str, p: Profile) -> tuple[Grid, str | None]:
    """`main-lfw` -> (GRIDS['main'], 'lfw'); `floors` -> (GRIDS['floors'], None)."""
    kind, _, ds = name.partition("-")
    if kind not in GRIDS or (kind == "floors") != (ds == "") or (ds and ds not in p.datasets):
        raise ValueError(f"unknown grid {name!r} for profile {p.name!r}: "
                         + ", ".join(f"{k}-<ds>" for k in GRIDS if k != "floors")
                         + f" (ds: {', '.join(p.datasets)}) or floors")
    return GRIDS[kind], ds or None


def grid_help() -> str:
    return "\n".join(f"  {k + ('' if k == 'floors' else '-<ds>'):16s} {g.about}" for k, g in GRIDS.items())
