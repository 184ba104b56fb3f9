"""The one scoring path: the training loop, `dmh evaluate`, shallow methods and the floors all
score through `score_codes`, which ranks by Hamming distance and hands the distance matrix
to the metrics (scoring never searches, as in faiss contrib's evaluation)."""
from __future__ import annotations

import numpy as np

from ..data.faceset import FaceSet
from ..metrics import (evaluate_distances, mean_average_precision, mean_average_precision_float,
                       precision_ks)
from ..retrieval import hamming_distances
from .encode import Normalizer, encode


def score_codes(qcodes: np.ndarray, gcodes: np.ndarray, query_labels: np.ndarray,
                gallery_labels: np.ndarray, n_bits: int, *, qfeatures: np.ndarray | None = None,
                gfeatures: np.ndarray | None = None) -> dict:
    """The metrics of a record: mAP@all (expected and stable ties), P@R2, precision@k at every
    cut-off the gallery fills (keys as strings, as JSON stores them), the PR curve, and with
    float features the float mAP."""
    dist = hamming_distances(qcodes, gcodes)
    metrics = evaluate_distances(dist, query_labels, gallery_labels, n_bits,
                                 ks=precision_ks(len(gallery_labels)))
    metrics["precision_at_k"] = {str(k): v for k, v in metrics["precision_at_k"].items()}
    if qfeatures is not None:
        metrics["map_all_float"] = mean_average_precision_float(qfeatures, gfeatures, query_labels,
                                                                gallery_labels)
    return metrics


def score_model(model, norm: Normalizer, query: FaceSet, gallery: FaceSet, n_bits: int, *,
                device: str = "cpu", train: FaceSet | None = None) -> dict:
    """Encode query and gallery faces with a trained model and score them; with the `train`
    images, also `map_all_train` (`training_fit`): the gallery's codes are reused where the
    gallery is the training set (the closed protocol)."""
    q = encode(model, query.images, norm, device=device)
    g = encode(model, gallery.images, norm, device=device)
    metrics = score_codes(q.codes, g.codes, query.labels, gallery.labels, n_bits,
                          qfeatures=q.features, gfeatures=g.features)
    if train is not None:
        t = g.codes if train is gallery else encode(model, train.images, norm, device=device).codes
        metrics["map_all_train"] = training_fit(t, train.labels)
    return metrics


def alternate_halves(labels: np.ndarray) -> np.ndarray:
    """True for each person's 1st, 3rd, 5th... image (in the given order), False for the others."""
    first = np.zeros(len(labels), dtype=bool)
    for person in np.unique(labels):
        first[np.flatnonzero(labels == person)[::2]] = True
    return first


def training_fit(codes: np.ndarray, labels: np.ndarray) -> float:
    """mAP@all (ties in expectation) among images the model trained on: each person's
    alternate images query the others (`alternate_halves`). Beside the test mAP it tells a
    method that cannot fit its training set (low here too) from one that overfits it (high
    here, low on test)."""
    first = alternate_halves(labels)
    dist = hamming_distances(codes[first], codes[~first])
    return mean_average_precision(dist, labels[first], labels[~first], ties="expected")
