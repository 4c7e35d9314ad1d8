"""Wide residual networks: fewer, wider residual blocks (WRN-d-k for CIFAR; WRN-50-2 for ImageNet).

S. Zagoruyko and N. Komodakis, "Wide Residual Networks", BMVC 2016 (arXiv:1605.07146),
Sections 2 and 3, Table 1 (the structure), Tables 4 and 5 (CIFAR results and parameters), and
the ImageNet section (WRN-50-2-bottleneck).

The idea: ResNet's authors made residual networks deep and thin (ResNet-1001 has 16, 32 and 64
filters). Zagoruyko and Komodakis argue that what matters is the residual, not the extreme
depth, and widen each block by a factor k instead: 16k, 32k and 64k filters. A 16-layer wide
network then outperforms 1000-layer thin ones, and trains several times faster, since a few
large convolutions use a parallel processor better than many small ones.

WRN-d-k for CIFAR (Table 1): a 3x3 convolution to 16 maps; three groups of N = (d - 4) / 6
blocks on 32x32, 16x16 and 8x8 maps with 16k, 32k and 64k filters (the first block of the
second and third group halves the maps with stride 2); batch norm and ReLU; 8x8 average
pooling; a fully connected layer. The depth d = 6N + 4 is the paper's "total number of
convolutional layers" (Sec. 2: "WRN-n-k denotes a residual network that has a total number of
convolutional layers n"): the 6N 3x3 convolutions of the blocks, the first convolution and the three
1x1 projection convolutions of the groups' first blocks (the fully connected layer is not counted).
Table 1 does not list the projections; the first author, asked why 6N + 4, pointed to them ("did you
count downsampling convolutions?", szagoruyko/wide-residual-networks issue #18). With k = 1 the first
group needs no projection (16 maps in, 16 out, stride 1), so WRN-d-1 has d - 1 convolutions; the name
keeps d. Each block is "B(3,3)", two 3x3 convolutions in
pre-activation order (He et al., "Identity Mappings in Deep Residual Networks", ECCV 2016):
BN-ReLU-conv, BN-ReLU-conv, added to the shortcut, with nothing after the addition. Dropout,
when on, sits between the two convolutions, after the second ReLU (Sec. 2.4; 0.3 on CIFAR).
Where the width or size changes, the shortcut is a 1x1 convolution of the pre-activated input
(the authors' code, ``convdim``).

Registered networks (parameters with 10 classes):

    ==========  =====  ==  =============================================
    name        depth  k   parameters (paper, Table 4 / 5: 11.0 M, 36.5 M, 8.9 M)
    ==========  =====  ==  =============================================
    wrn16_8     16     8   10,961,370
    wrn28_10    28     10  36,479,194
    wrn40_4     40     4   8,949,210
    ==========  =====  ==  =============================================

(The counts are checked against the model by the registry's sweep; their rounding to the paper's by
``tests/test_wide_resnet.py``.)

``wide_resnet50_2`` and ``wide_resnet101_2`` are torchvision's twins (ImageNet): ResNet-50 and
-101 with bottlenecks whose 3x3 convolution is twice as wide (``width_per_group=128``), built
from ``resnet.ResNet``. Their stride is on the 3x3 convolution, as torchvision's and, the
authors say, as in the fb.resnet.torch code their ImageNet networks came from.

Deviations:
    * ``forward`` returns the scores before the soft-max.
    * The average pooling is ``AdaptiveAvgPool2d(1)`` (the 8x8 pooling at 32x32, any size elsewhere).
    * Initialisation: He et al.'s normal initialisation (fan in, as the authors' code) for the
      convolutions, batch norm 1 and 0, the linear layer PyTorch's default.
"""

from __future__ import annotations

import torch
import torch.fx
from torch import nn

from . import register
from ._checks import InputSpec, check_counts, check_images, check_probability
from .resnet import ResidualBlock, ResNet

__all__ = [
    "PreActBlock", "WideResNet", "WIDE_WIDTHS", "wrn_blocks_per_group",
    "wrn16_8", "wrn28_10", "wrn40_4", "wide_resnet50_2", "wide_resnet101_2",
]

# torch.fx traces check_images as one call in the graph instead of tracing into it (see _checks).
torch.fx.wrap("check_images")

WIDE_WIDTHS = (16, 32, 64)  # the groups' filters before widening (Table 1: 16k, 32k, 64k)


class PreActBlock(ResidualBlock):
    """Two 3x3 convolutions in pre-activation order, optional dropout between them (WRN's B(3,3)).

    ``residual(x)`` is F(x) = conv2(dropout(relu(bn2(conv1(relu(bn1(x))))))); the output is
    F(x) + shortcut(x), with no ReLU after the addition. Where the shape changes, the shortcut is
    a 1x1 convolution of relu(bn1(x)), the same pre-activation the branch starts from.

    Args:
        in_channels: the input's maps.
        channels: the maps of both convolutions and of the output.
        stride: 2 to halve the maps, else 1.
        dropout: the probability of dropping each value between the convolutions (0: none).
    """

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        check_counts(in_channels=in_channels, channels=channels)
        check_probability(dropout=dropout)
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2; got {stride!r}")
        self.shortcut_kind = "B"
        self.stride = stride
        self.out_channels = channels
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU(inplace=False)  # x is still needed by the shortcut
        self.conv1 = nn.Conv2d(in_channels, channels, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.dropout = nn.Dropout(p=dropout)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False)
        changes = stride != 1 or in_channels != channels
        self.downsample = nn.Conv2d(in_channels, channels, kernel_size=1, stride=stride, bias=False) if changes else None

    def _branch(self, activated: torch.Tensor) -> torch.Tensor:
        out = self.conv1(activated)                # (N, channels, H / stride, W / stride)
        out = self.dropout(self.relu(self.bn2(out)))
        return self.conv2(out)                     # (N, channels, H / stride, W / stride)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return self._branch(self.relu(self.bn1(x)))

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.downsample is None else self.downsample(self.relu(self.bn1(x)))

    def last_norm(self) -> nn.BatchNorm2d:
        raise ValueError("a pre-activation block ends with a convolution: there is no last batch norm to zero")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activated = self.relu(self.bn1(x))  # computed once, for the branch and a projecting shortcut
        shortcut = x if self.downsample is None else self.downsample(activated)
        return self._branch(activated) + shortcut  # no ReLU after the addition (pre-activation)


def wrn_blocks_per_group(depth: int) -> int:
    """N = (d - 4) / 6 blocks per group for WRN-d-k (Table 1); raises unless d = 6N + 4, N >= 1."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
        raise ValueError(f"depth must be 6N + 4 with N >= 1 (10, 16, 22, 28, 40, ...); got {depth!r}")
    return (depth - 4) // 6


class WideResNet(nn.Module):
    """WRN-d-k for CIFAR (Table 1): conv 3x3 to 16, three groups of N pre-activation blocks, BN-ReLU, pooling, FC.

    Args:
        depth: d = 6N + 4 (16, 28 and 40 are registered).
        widen_factor: k, the widening of the groups' 16, 32 and 64 filters.
        num_classes: 10 for CIFAR-10.
        in_channels: image channels.
        dropout: the dropout between each block's convolutions (0: none; the paper's 0.3 on CIFAR).
    """

    def __init__(
        self, depth: int = 28, widen_factor: int = 10, num_classes: int = 10, in_channels: int = 3, dropout: float = 0.0
    ) -> None:
        super().__init__()
        check_counts(widen_factor=widen_factor, num_classes=num_classes, in_channels=in_channels)
        check_probability(dropout=dropout)
        n = wrn_blocks_per_group(depth)
        self.depth = depth
        self.widen_factor = widen_factor
        self.blocks_per_group = n
        self.input_spec = InputSpec(in_channels, (32, 32), fixed=False, min_size=1)
        self.input_size = self.input_spec.shape
        widths = [w * widen_factor for w in WIDE_WIDTHS]
        self.num_features = widths[2]
        self.conv1 = nn.Conv2d(in_channels, 16, kernel_size=3, padding=1, bias=False)
        self.layer1 = self._group(16, widths[0], n, stride=1, dropout=dropout)
        self.layer2 = self._group(widths[0], widths[1], n, stride=2, dropout=dropout)
        self.layer3 = self._group(widths[1], widths[2], n, stride=2, dropout=dropout)
        self.bn = nn.BatchNorm2d(widths[2])
        self.relu = nn.ReLU(inplace=True)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[2], num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    @staticmethod
    def _group(in_channels: int, channels: int, blocks: int, stride: int, dropout: float) -> nn.Sequential:
        layers = [PreActBlock(in_channels, channels, stride=stride, dropout=dropout)]
        layers += [PreActBlock(channels, channels, dropout=dropout) for _ in range(blocks - 1)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.input_spec)
        x = self.conv1(x)                      # (N, 16, 32, 32): conv1
        x = self.layer1(x)                     # (N, num_features / 4, 32, 32): conv2, 16k filters
        x = self.layer2(x)                     # (N, num_features / 2, 16, 16): conv3, 32k filters
        x = self.layer3(x)                     # (N, num_features, 8, 8): conv4, 64k filters
        x = self.relu(self.bn(x))              # (N, num_features, 8, 8)
        x = torch.flatten(self.avgpool(x), 1)  # (N, num_features)
        return self.fc(x)                      # (N, num_classes)


def _wrn(depth: int, widen_factor: int):
    def build(num_classes: int = 10, in_channels: int = 3, dropout: float = 0.0) -> WideResNet:
        return WideResNet(depth, widen_factor, num_classes=num_classes, in_channels=in_channels, dropout=dropout)

    build.__doc__ = f"WRN-{depth}-{widen_factor} for CIFAR (Zagoruyko and Komodakis 2016, Table 1); dropout 0.3 is the paper's."
    return build


wrn16_8 = register("wrn16_8")(_wrn(16, 8))
wrn28_10 = register("wrn28_10")(_wrn(28, 10))
wrn40_4 = register("wrn40_4")(_wrn(40, 4))


@register("wide_resnet50_2")
def wide_resnet50_2(num_classes: int = 1000, in_channels: int = 3, zero_init_residual: bool = False) -> ResNet:
    """WRN-50-2-bottleneck: ResNet-50 with 3x3 convolutions twice as wide; torchvision's twin (68,883,240 parameters)."""
    return ResNet(50, num_classes=num_classes, in_channels=in_channels, stride_on="3x3",
                  width_per_group=128, zero_init_residual=zero_init_residual)


@register("wide_resnet101_2")
def wide_resnet101_2(num_classes: int = 1000, in_channels: int = 3, zero_init_residual: bool = False) -> ResNet:
    """ResNet-101 with 3x3 convolutions twice as wide; torchvision's twin (126,886,696 parameters)."""
    return ResNet(101, num_classes=num_classes, in_channels=in_channels, stride_on="3x3",
                  width_per_group=128, zero_init_residual=zero_init_residual)


