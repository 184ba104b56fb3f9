from .center_loss import CenterLoss
from .dmh_loss import DMHLoss
from .quantization_loss import QuantizationLoss

__all__ = ["CenterLoss", "QuantizationLoss", "DMHLoss"]
