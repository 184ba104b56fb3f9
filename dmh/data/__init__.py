from .datasets import DATASETS, load_dataset
from .ddh_pickle import load_ddh_pickle
from .faceset import FaceSet
from .identity_folder import load_identity_folder, scan_identity_folder
from .near_duplicates import near_duplicate_groups
from .pack import read_pack, write_pack
from .preprocess import Crop, decode_face
from .splits import apply_split, load_protocol, make_closed_split, read_split, split_path

__all__ = ["DATASETS", "Crop", "FaceSet", "apply_split", "decode_face", "load_dataset",
           "load_ddh_pickle", "load_identity_folder", "load_protocol", "make_closed_split",
           "near_duplicate_groups", "read_pack", "read_split", "scan_identity_folder", "split_path",
           "write_pack"]
