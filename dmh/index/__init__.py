"""Retrieval at scale: a saved index of face codes (:class:`FaceIndex`, npz + JSON header
with a sha256), built from a trained run and a folder, grown with ``add``, searched top-k
or by radius through one small backend interface: faiss (``flat``, ``hash``,
``multihash``) in process, Milvus (Lite file or server) to scale out. Every search ranks by
``(Hamming distance, face id)``, the evaluation's order."""
from .backend import BACKENDS, Backend, open_backend
from .faceindex import FaceIndex, add_faces, empty_index, index_backend, search_radius, search_topk
from .format import load_index, save_index

__all__ = ["BACKENDS", "Backend", "FaceIndex", "add_faces", "empty_index", "index_backend",
           "load_index", "open_backend", "save_index", "search_radius", "search_topk"]
