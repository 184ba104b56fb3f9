"""DDH baseline network (Lin, Li & Tang, "Discriminative Deep Hashing for Scalable
Face Image Retrieval", IJCAI 2017), sized as in the paper for 32x32 inputs."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["DDHNet", "DivideAndEncode"]


def _conv_block(in_ch: int, out_ch: int, kernel_size: int) -> nn.Sequential:
    # Valid (unpadded) convs as in the paper; BN is our addition so the baseline trains
    # with the same optimiser settings as DMHNet.
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, kernel_size), nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True))


class DivideAndEncode(nn.Module):
    """Split a feature vector into ``n_bits`` contiguous, near-equal slices; each slice
    has its own linear map to one value, then tanh. Bits thus see disjoint inputs
    (DDH's argument: less redundancy between bits, far fewer weights than a full FC).

    Implemented as one elementwise weight per input plus a segment sum, so any
    ``in_features >= n_bits`` works (slice sizes differ by at most one).

    Args:
        in_features: length of the face feature vector.
        n_bits: code length K (number of slices).
    """

    def __init__(self, in_features: int, n_bits: int) -> None:
        super().__init__()
        if not 1 <= n_bits <= in_features:
            raise ValueError(f"need 1 <= n_bits <= in_features, got {n_bits}, {in_features}")
        self.n_bits = n_bits
        # slice_of[j] = index of the bit that input j feeds.
        self.register_buffer("slice_of", torch.arange(in_features) * n_bits // in_features, persistent=False)
        bound = 1.0 / (in_features / n_bits) ** 0.5  # nn.Linear's init bound for one slice
        self.weight = nn.Parameter(torch.empty(in_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_bits).uniform_(-bound, bound))

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        # Out-of-place index_add: sums each slice's weighted inputs onto its bit's bias.
        out = self.bias.expand(f.shape[0], -1).index_add(1, self.slice_of, f * self.weight)
        return torch.tanh(out)


class DDHNet(nn.Module):
    """DDH-sized plain CNN with a divide-and-encode hash layer.

    Sizes (32x32 input; our reading of the paper): conv1 3x3@20 (30x30) -> maxpool2 (15)
    -> conv2 2x2@40 (14) -> maxpool2 (7) -> conv3 2x2@60 (6) -> maxpool2 (3) -> conv4
    2x2@80 (2x2). Face feature = concat(flatten(pool3) 540, flatten(conv4) 320) = 860
    values (multi-scale merge, DeepID-style), then divide-and-encode into K values.
    About 34k parameters for K=48 (plus the classifier).

    Args:
        n_classes: number of training identities.
        n_bits: code length K.
        in_chans: input channels.
    """

    def __init__(self, *, n_classes: int, n_bits: int = 48, in_chans: int = 3) -> None:
        super().__init__()
        self.n_bits = n_bits
        self.n_classes = n_classes
        self.stage123 = nn.Sequential(
            _conv_block(in_chans, 20, 3), nn.MaxPool2d(2),
            _conv_block(20, 40, 2), nn.MaxPool2d(2),
            _conv_block(40, 60, 2), nn.MaxPool2d(2),
        )
        self.conv4 = _conv_block(60, 80, 2)
        self.feature_dim = 60 * 3 * 3 + 80 * 2 * 2
        self.encode = DivideAndEncode(self.feature_dim, n_bits)
        self.classifier = nn.Linear(n_bits, n_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Merged face feature ``(B, 860)`` for a ``(B, 3, 32, 32)`` input."""
        p3 = self.stage123(x)
        return torch.cat([p3.flatten(1), self.conv4(p3).flatten(1)], dim=1)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Real-valued codes ``h`` of shape ``(B, n_bits)`` in (-1, 1)."""
        return self.encode(features)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.forward_head(self.forward_features(x))
        return h, self.classifier(h)
