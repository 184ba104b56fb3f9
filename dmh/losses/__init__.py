from .bit_balance_loss import BitBalanceLoss
from .center_loss import CenterLoss
from .csq_loss import CSQLoss, hash_centers
from .dcdh_loss import DCDHLoss
from .ddh_loss import DDHLoss
from .dmh_loss import DMHLoss
from .dpsh_loss import DPSHLoss
from .dsh_loss import DSHLoss
from .hashnet_loss import HashNetLoss
from .quantization_loss import QuantizationLoss

__all__ = ["BitBalanceLoss", "CenterLoss", "QuantizationLoss", "DMHLoss", "DDHLoss", "DSHLoss",
           "DPSHLoss", "HashNetLoss", "CSQLoss", "hash_centers", "DCDHLoss"]
