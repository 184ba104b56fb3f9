"""Profiles: `paper` (what the committed book shows) and `quick` (CI and a first look).

A profile is an object passed to every function that builds configs; its store says where
its records live (`paper`: the committed `results/`; `quick`: `runs/quick-results/`).

Budgets: epochs per dataset are fixed for every method so comparisons are at equal training
cost (LFW's training set is 5x smaller than Pins', so it gets more epochs).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..run.store import Store, paper_store, profile_store

# Grids run as 2 single-thread workers: on 2 cores that trains ~1.45x more images/s than
# one 2-thread process (measured: 2 x 960 vs 1,330 img/s at batch 64).
GRID_THREADS = 1


@dataclass(frozen=True)
class Profile:
    """Args:
        name: `paper` or `quick`.
        datasets, bits, seeds: the grid.
        epochs: per dataset.
        threads: torch threads per run.
        ablation_seeds: seeds of the ablation variants.
        search: per method, the validation candidates of its own hyperparameters (every
            combination is one 48-bit, seed-0 run on the validation split).
        budget_factors: the multiples of the epoch budget the budget grid trains DMH at
            (on validation): how binding the budget is; every method's ladder goes as far.
        longer_dmh_factors: per dataset, further multiples DMH's budget grid alone trains at
            (DMH still gained 18-25% at the ladders' last doubling; on Pins 14% at 32x).
        baseline_search: per baseline, the search space of its own hyperparameters that
            grid `search-<ds>` trains on validation (staged: not yet what `search` chooses by).
        budget: per dataset, the multiple of `epochs` its result grids train at (main,
            sensitivity, ablation, comparison, open, cross, examples; the shallow fits on their
            trunks), 1 where absent. Study grids (tune, search, budget, ladder, trials, ...)
            and the validation choices stay at `epochs`, the 1x budget.
        precision: the training precision of its result grids and of the plateau grid, one
            for every method (`fp32` or `bf16`); study grids and validation choices train in fp32.
        stand_ins: whether a result run not landed reads its twin in the other precision where
            that landed (`precision_twins`): the chapters do; the runner, which trains each
            cell's own run, does not.
        face_crop: per dataset, the input of its result grids, of the plateau grid and of the
            shallow fits (`box`, the dataset's fixed crop, where absent); study grids and
            validation choices read `box`.
        anchors: whether its chapters show what needs dlib's pass over every LFW and Pins
            image (~50 core-minutes, cached): the dlib-embedding anchors and the aligned-crop
            runs. The quick profile leaves them out.
    """

    name: str
    datasets: tuple[str, ...]
    bits: tuple[int, ...]
    seeds: tuple[int, ...]
    epochs: dict
    threads: int
    ablation_seeds: tuple[int, ...]
    search: dict = field(default_factory=dict)
    budget_factors: tuple[float, ...] = (0.5, 1, 2)
    longer_dmh_factors: dict = field(default_factory=dict)
    anchors: bool = False
    baseline_search: dict = field(default_factory=dict)
    budget: dict = field(default_factory=dict)
    precision: str = "fp32"
    stand_ins: bool = True
    face_crop: dict = field(default_factory=dict)

    @property
    def store(self) -> Store:
        if self.name in COMMITTED_CHOICES:  # committed records; each profile its own choices
            return replace(paper_store(), chosen_dir=COMMITTED_CHOICES[self.name])
        return profile_store(self.name)

    @property
    def longest(self) -> int:
        return max(self.bits)


# The pairwise baselines' paper lr may not carry over (they see a few percent of positive
# pairs in a random face batch): they get the shared lr and one 10x lower.
PAIRWISE_LRS = {"lr": (0.1, 0.01)}

# Each baseline's own hyperparameters with as many validation trials as DMH gets (9): three
# lrs of the shared SGD recipe x three values of its key loss weight (or HashNet's
# continuation), the paper's value in the middle. Staged: `dmh grid search-<ds>` trains them;
# they replace `search`'s pairwise lrs once the grids that read the choices are retrained.
SEARCH_LRS = (0.1, 0.03, 0.01)
BASELINE_SEARCH = {
    "ddh": {"lr": SEARCH_LRS, "method_kwargs.mu": (0.005, 0.05, 0.5)},
    "dsh": {"lr": SEARCH_LRS, "method_kwargs.alpha": (0.001, 0.01, 0.1)},
    "dpsh": {"lr": SEARCH_LRS, "method_kwargs.eta": (0.0002, 0.002, 0.02)},
    "hashnet": {"lr": SEARCH_LRS, "method_kwargs.beta_max": (5.0, 10.0, 20.0)},
    "csq": {"lr": SEARCH_LRS, "method_kwargs.lam": (1e-5, 1e-4, 1e-3)},
    "dcdh": {"lr": SEARCH_LRS, "method_kwargs.gamma": (0.01, 0.1, 1.0)},
}

# The profiles whose records are committed (results/), each with its own folder of
# validation choices: runs are keyed by their configs and shared, the choices are not.
COMMITTED_CHOICES = {"paper": "chosen", "plateau": "chosen-plateau"}

# The result budget at the plateau, as multiples of the 1x epochs (LFW 40, Pins 10): DMH's
# validation ladder (budget grid) added +5.03% from 8x to 16x on LFW and +0.2% from 16x to
# 32x; on Pins +13.8% from 16x to 32x and +4.6% from 32x to 64x (0.3762 -> 0.3934): each
# dataset's budget is the last one whose doubling added 5% or more.
PLATEAU_BUDGET = {"lfw": 16, "pins": 32}
# The input study's winner per dataset, where one beat the fixed crop by over two seed stds
# (validation, DMH at 1x, grid input-<ds>): Pins' dlib-aligned crop, 0.148 against 0.108
# (+6.7 std; the tighter crop 0.127, +3.2); on LFW none (tighter +0.1 std, aligned -1.0).
PLATEAU_CROP = {"pins": "aligned"}
DMH_SEARCH = {"lr": (0.1,), "lam": (0.001, 0.01, 0.1), "mu": (0.001, 0.01, 0.1)}

# DMH's budget ladder past 8x, per dataset, until a doubling adds under 5% (recipe.PLATEAU_GAIN):
# LFW 16x -> 32x +0.2%; Pins 16x -> 32x +13.8% (0.3306 -> 0.3762), so Pins went on to 64x
# (+4.6%, 0.3934: under 5%, so Pins' plateau budget stays 32x).
LONGER_DMH = {"lfw": (16, 32), "pins": (16, 32, 64)}

PROFILES = {
    "paper": Profile("paper", ("lfw", "pins"), (12, 24, 36, 48), (0, 1, 2), {"lfw": 40, "pins": 10},
                     GRID_THREADS, (0, 1, 2),
                     search={"dmh": DMH_SEARCH, "dsh": PAIRWISE_LRS, "dpsh": PAIRWISE_LRS},
                     budget_factors=(0.5, 1, 2, 4, 8), longer_dmh_factors=LONGER_DMH, anchors=True, baseline_search=BASELINE_SEARCH),
    # one thread: a 2-thread run is not bit-reproducible (OpenMP reductions), and the quick
    # notebooks' validation choices must come out the same in CI as when they were committed
    # one epoch, and its budget ladders from 1x (half an epoch is none): CI trains ~110 quick
    # runs before nbval, so each epoch here is about 4 minutes of CI on 2 cores
    "quick": Profile("quick", ("lfw",), (12, 48), (0,), {"lfw": 1, "pins": 1}, 1, (0,),
                     search={"dmh": {"lr": (0.1,), "lam": (0.01, 0.1), "mu": (0.01, 0.1)},
                             "dsh": PAIRWISE_LRS, "dpsh": PAIRWISE_LRS}, budget_factors=(1, 2)),
}
# The paper grid at convergence: every method with its own searched hyperparameters (chosen
# at the 1x budget on validation, 9 trials each), its result grids at the plateau budget, in
# float32 for every method. Its first runs trained under bfloat16 autocast (at 1x bf16 - fp32
# was +0.3 DMH seed std, grid precision-<ds>; 1.56x the images/s on AVX-512 BF16), but at the
# budget bf16 moved the methods apart (LFW validation, 640 epochs, seed 0: DMH +3.8%, DDH -3.6%,
# DSH -6.3%), and bf16 broke CSQ at 1x (grid bf16check-lfw): those bf16 runs stand in, marked,
# until their float32 runs land (`precision_twins`).
# Its records land in results/ beside the paper profile's; the book moves to it chapter by
# chapter as its grids land (`dmh grid NAME --profile plateau`).
PROFILES["plateau"] = replace(PROFILES["paper"], name="plateau", budget=PLATEAU_BUDGET,
                              search={"dmh": DMH_SEARCH, **BASELINE_SEARCH}, face_crop=PLATEAU_CROP)


def get_profile(profile: str | Profile) -> Profile:
    if isinstance(profile, Profile):
        return profile
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: use one of {sorted(PROFILES)}")
    return PROFILES[profile]
