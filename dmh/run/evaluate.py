"""The one scoring path: the training loop, `dmh evaluate`, shallow methods and the floors all
score through `score_codes`, which ranks by Hamming distance and hands the distance matrix
to the metrics (scoring never searches, as in faiss contrib's evaluation)."""
from __future__ import annotations

import numpy as np

from ..data.faceset import FaceSet
from ..metrics import evaluate_distances, mean_average_precision_float, precision_ks
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
                device: str = "cpu") -> dict:
    """Encode query and gallery faces with a trained model and score them."""
    q = encode(model, query.images, norm, device=device)
    g = encode(model, gallery.images, norm, device=device)
    return score_codes(q.codes, g.codes, query.labels, gallery.labels, n_bits,
                       qfeatures=q.features, gfeatures=g.features)
