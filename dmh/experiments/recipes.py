"""The defaults `dmh train` uses: on lfw and pins the paper's validation-chosen recipe, on any
other data a documented folder default."""
from __future__ import annotations

from ..data import DATASETS
from .profiles import PROFILES
from .tuning import as_fields, hyperparameters, method_defaults

# On a folder the project had never seen (500 people, 14 photos each), TrainConfig's defaults
# (20 epochs, lam 0.1, mu 0.05) collapsed the codes (mAP 0.0066, below pixel LSH 0.0154);
# lam 0.1, mu 0.001 and 40 epochs gave 0.071 (issue 14). mu 0.001 is also what validation
# chose on both lfw and pins.
FOLDER_RECIPE = {"epochs": 40, "lam": 0.1, "mu": 0.001}


def recipe(dataset: str, method: str = "dmh") -> tuple[dict, str]:
    """(TrainConfig fields, where they come from) for training `method` on `dataset`."""
    paper, kw = PROFILES["paper"], method_defaults(method)
    if dataset in DATASETS and dataset in paper.datasets:
        hp = {"epochs": paper.epochs[dataset] * paper.budget.get(dataset, 1), **kw,
              **as_fields(hyperparameters(method, dataset, paper), kw.get("method_kwargs"))}
        return hp, f"the paper's recipe for {dataset} (validation-chosen, results/chosen/)"
    if method == "dmh":
        return dict(FOLDER_RECIPE), "the folder default (dmh.experiments.recipes.FOLDER_RECIPE)"
    return {"epochs": FOLDER_RECIPE["epochs"], **kw}, "the folder default epochs"
