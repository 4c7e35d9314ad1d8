"""ResNeXt: residual bottlenecks whose 3x3 convolution is split into C parallel paths (a grouped convolution).

S. Xie, R. Girshick, P. Dollar, Z. Tu and K. He, "Aggregated Residual Transformations for Deep
Neural Networks", CVPR 2017 (arXiv:1611.05431), Sections 3 and 4, Table 1, Figure 3.

The idea: a block aggregates C transformations of the same shape ("split-transform-merge", as an
Inception module does, but with identical paths): each path reduces the input with a 1x1
convolution to d maps, convolves them with a 3x3, and projects back with a 1x1; the paths'
outputs are summed and added to the shortcut. C is the *cardinality*, d the bottleneck width:
"32x4d" is 32 paths of 4 maps. The paper shows three equivalent forms of the block (Figure 3):
(a) C separate paths summed, (b) the paths' 3x3 outputs concatenated and projected by one 1x1
convolution, (c) one 1x1 to C*d maps, a grouped 3x3 convolution with C groups, one 1x1. Form (c)
is ResNet's bottleneck with ``groups=C`` and a wider 3x3, which is how the networks here are
built: ``resnet.Bottleneck(..., groups=C, width_per_group=d)``, whose 3x3 has
``channels * d / 64 * C`` maps (128 = 64 * 4 / 64 * 32 in ResNeXt-50's first stage, Table 1).

Registered networks, torchvision's twins (the same parameter names, shapes and order):

    ==================  =====================  ===========  ===========================
    name                blocks per stage       C x d        parameters (1000 classes)
    ==================  =====================  ===========  ===========================
    resnext50_32x4d     3, 4, 6, 3             32 x 4       25,028,904 (torchvision's)
    resnext101_32x8d    3, 4, 23, 3            32 x 8       88,791,336 (torchvision's)
    resnext101_64x4d    3, 4, 23, 3            64 x 4       83,455,272 (torchvision's)
    ==================  =====================  ===========  ===========================

The stride of a downsampling block is on its 3x3 convolution: "down-sampling of conv3, 4, and 5
is done by stride-2 convolutions in the 3x3 layer of the first block in each stage" (Sec. 4),
as torchvision does; ``stride_on="3x3"`` is therefore these builders' default, not ResNet's.
Initialisation, deviations: as ``resnet.ResNet``.
"""

from __future__ import annotations

from . import register
from .resnet import ResNet

__all__ = ["resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d"]


def _resnext(depth: int, cardinality: int, width: int):
    def build(num_classes: int = 1000, in_channels: int = 3, zero_init_residual: bool = False) -> ResNet:
        return ResNet(
            depth, num_classes=num_classes, in_channels=in_channels, stride_on="3x3",
            groups=cardinality, width_per_group=width, zero_init_residual=zero_init_residual,
        )

    build.__doc__ = (
        f"ResNeXt-{depth} ({cardinality}x{width}d): ResNet-{depth}'s stages with C = {cardinality} paths of "
        f"d = {width} maps in each bottleneck (Xie et al. 2017); torchvision's twin."
    )
    return build


resnext50_32x4d = register("resnext50_32x4d")(_resnext(50, 32, 4))
resnext101_32x8d = register("resnext101_32x8d")(_resnext(101, 32, 8))
resnext101_64x4d = register("resnext101_64x4d")(_resnext(101, 64, 4))
