from .lsh import LSH
from .random_codes import RandomCodes

__all__ = ["LSH", "RandomCodes"]
