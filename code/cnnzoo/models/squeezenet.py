"""SqueezeNet: AlexNet-level accuracy with 50x fewer parameters, from "fire" modules.

F. N. Iandola, S. Han, M. W. Moskewicz, K. Ashraf, W. J. Dally and K. Keutzer, "SqueezeNet:
AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size", arXiv:1602.07360
(2016), Sections 3 and 4, Table 1, Figure 2.

The idea, three strategies (Sec. 3.1): (1) replace most 3x3 filters with 1x1 filters (9x fewer
weights each); (2) feed the remaining 3x3 filters fewer input channels; (3) downsample late, so
that the convolutions work on large maps. A *fire module* (Sec. 3.2) does (1) and (2): a
"squeeze" layer of s1x1 1x1 filters, then an "expand" layer of e1x1 1x1 and e3x3 3x3 filters
side by side on the squeezed maps, their outputs concatenated (s1x1 < e1x1 + e3x3, which is
strategy 2). ReLU follows every squeeze and expand layer. The network (Figure 2, Table 1): a
convolution, eight fire modules (fire2 ... fire9) with max pooling after conv1, fire4 and fire8,
dropout 50% after fire9, a 1x1 convolution to one map per class, and global average pooling:
no fully connected layer, as in NiN.

Registered networks, torchvision's twins (the same parameter names, shapes and order; with the
same weights, the same outputs):

    ==============  ====================================================  ==========================
    name            structure                                             parameters (1000 classes)
    ==============  ====================================================  ==========================
    squeezenet1_0   the paper's: conv1 96 of 7x7/2; pools after conv1,    1,248,424 (torchvision's)
                    fire4, fire8
    squeezenet1_1   the authors' v1.1: conv1 64 of 3x3/2; pools after     1,235,496 (torchvision's)
                    conv1, fire3, fire5 (2.4x less computation, the
                    authors' release notes say)
    ==============  ====================================================  ==========================

Deviations:
    * Max pooling rounds up (``ceil_mode=True``, as Caffe and torchvision do).
    * ``forward`` returns the pooled class maps as scores (after the last ReLU, as the paper's
      Caffe definition and torchvision do): they are >= 0.
    * Initialisation: torchvision's (the last convolution N(0, 0.01^2), the others Kaiming
      uniform; zero biases).
"""

from __future__ import annotations

import torch
import torch.fx
from torch import nn

from . import register
from ._checks import InputSpec, check_counts, check_images, check_probability

__all__ = ["Fire", "SqueezeNet", "squeezenet1_0", "squeezenet1_1"]

# torch.fx traces check_images as one call in the graph instead of tracing into it (see _checks).
torch.fx.wrap("check_images")


class Fire(nn.Module):
    """A fire module (Sec. 3.2): squeeze with 1x1 filters, then expand with 1x1 and 3x3 side by side.

    Args:
        in_channels: the input's maps.
        squeeze: s1x1, the squeeze layer's 1x1 filters.
        expand1x1: e1x1, the expand layer's 1x1 filters.
        expand3x3: e3x3, the expand layer's 3x3 filters.
    """

    def __init__(self, in_channels: int, squeeze: int, expand1x1: int, expand3x3: int) -> None:
        super().__init__()
        check_counts(in_channels=in_channels, squeeze=squeeze, expand1x1=expand1x1, expand3x3=expand3x3)
        self.out_channels = expand1x1 + expand3x3
        self.squeeze = nn.Conv2d(in_channels, squeeze, kernel_size=1)  # torchvision's names
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze_activation(self.squeeze(x))  # (N, squeeze, H, W)
        return torch.cat([
            self.expand1x1_activation(self.expand1x1(x)),  # (N, expand1x1, H, W)
            self.expand3x3_activation(self.expand3x3(x)),  # (N, expand3x3, H, W)
        ], 1)                                              # (N, expand1x1 + expand3x3, H, W)


def _pool() -> nn.MaxPool2d:
    return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)


class SqueezeNet(nn.Module):
    """SqueezeNet v1.0 (Table 1) or the authors' v1.1.

    Args:
        version: ``"1_0"`` (the paper's) or ``"1_1"``.
        num_classes: the maps of the last convolution, one per class (1000).
        in_channels: image channels.
        dropout: the probability of dropping each value after fire9 (0.5).
    """

    def __init__(self, version: str = "1_0", num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> None:
        super().__init__()
        check_counts(num_classes=num_classes, in_channels=in_channels)
        check_probability(dropout=dropout)
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(in_channels, 96, kernel_size=7, stride=2),  # conv1
                nn.ReLU(inplace=True),
                _pool(),                 # maxpool1
                Fire(96, 16, 64, 64),    # fire2
                Fire(128, 16, 64, 64),   # fire3
                Fire(128, 32, 128, 128),  # fire4
                _pool(),                 # maxpool4
                Fire(256, 32, 128, 128),  # fire5
                Fire(256, 48, 192, 192),  # fire6
                Fire(384, 48, 192, 192),  # fire7
                Fire(384, 64, 256, 256),  # fire8
                _pool(),                 # maxpool8
                Fire(512, 64, 256, 256),  # fire9
            )
            min_size = 21  # conv1 21 -> 8, poolings 8 -> 4 -> 2 -> 1: the third still overlaps a map of 2x2
        elif version == "1_1":
            self.features = nn.Sequential(
                nn.Conv2d(in_channels, 64, kernel_size=3, stride=2),  # conv1
                nn.ReLU(inplace=True),
                _pool(),
                Fire(64, 16, 64, 64),
                Fire(128, 16, 64, 64),
                _pool(),
                Fire(128, 32, 128, 128),
                Fire(256, 32, 128, 128),
                _pool(),
                Fire(256, 48, 192, 192),
                Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256),
                Fire(512, 64, 256, 256),
            )
            min_size = 17  # conv1 17 -> 8, poolings 8 -> 4 -> 2 -> 1
        else:
            raise ValueError(f"version must be '1_0' (the paper's) or '1_1'; got {version!r}")
        self.version = version
        self.input_spec = InputSpec(in_channels, (224, 224), fixed=False, min_size=min_size)
        self.input_size = self.input_spec.shape
        final_conv = nn.Conv2d(512, num_classes, kernel_size=1)  # conv10: one map per class
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1)
        )
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                if module is final_conv:
                    nn.init.normal_(module.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.input_spec)
        x = self.features(x)              # (N, 512, 13, 13): fire9
        x = self.classifier(x)            # (N, num_classes, 1, 1): conv10 and global average pooling
        return torch.flatten(x, 1)        # (N, num_classes)


@register("squeezenet1_0")
def squeezenet1_0(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> SqueezeNet:
    """SqueezeNet v1.0, Table 1 of Iandola et al. (2016): 1,248,424 parameters; torchvision's twin."""
    return SqueezeNet("1_0", num_classes=num_classes, in_channels=in_channels, dropout=dropout)


@register("squeezenet1_1")
def squeezenet1_1(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> SqueezeNet:
    """SqueezeNet v1.1 (the authors' later release): 1,235,496 parameters; torchvision's twin."""
    return SqueezeNet("1_1", num_classes=num_classes, in_channels=in_channels, dropout=dropout)
