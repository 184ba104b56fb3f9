from .itq import ITQ
from .lsh import LSH
from .pcah import PCAH
from .random_codes import RandomCodes
from .sdh import SDH
from .sh import SH

__all__ = ["ITQ", "LSH", "PCAH", "RandomCodes", "SDH", "SH"]
