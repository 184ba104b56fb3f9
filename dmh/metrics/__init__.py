"""Retrieval metrics for hash codes (relevance = same integer label).

Every metric takes a distance matrix ``dist`` of shape ``(Q, G)`` (query i vs
gallery item j), integer ``query_labels`` ``(Q,)`` and ``gallery_labels``
``(G,)``; gallery item j is relevant to query i iff their labels are equal.

Tie handling
------------
Hamming distances are small integers, so many gallery items share a distance
and the score depends on how ties are ordered:

* ``ties='stable'``: rank by ``(distance, gallery index)``, i.e. a stable sort.
  Deterministic, but it rewards whatever order the gallery happens to be in.
* ``ties='expected'``: the exact expectation when items at equal distance are
  in uniformly random order (McSherry & Najork, ECIR 2008). This is the
  headline number because it does not depend on gallery order.

Queries without any relevant item score 0 (they are kept in the average).

Modules: ``checks`` (input checks, row chunking), ``ranking`` (stable ranked
relevance, tie-group counts), ``average_precision`` (mAP), ``precision`` (P@k,
Hamming-ball precision/recall, PR curve), ``evaluate`` (the run record's metrics).
"""

from .average_precision import mean_average_precision
from .checks import Ties
from .evaluate import (
    PRECISION_KS,
    evaluate_codes,
    evaluate_distances,
    evaluate_float,
    mean_average_precision_float,
    precision_ks,
)
from .precision import pr_curve, precision_at_k, precision_recall_within_radius

__all__ = [
    "mean_average_precision",
    "precision_at_k",
    "precision_recall_within_radius",
    "pr_curve",
    "evaluate_codes",
    "evaluate_distances",
    "evaluate_float",
    "mean_average_precision_float",
    "precision_ks",
    "PRECISION_KS",
    "Ties",
]
