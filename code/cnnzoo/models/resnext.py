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

The three forms are built here to be compared: ``SplitTransformMerge`` (a), ``EarlyConcatenation``
(b) and ``grouped_block`` (c, a ``resnet.Bottleneck``); ``tie_weights`` copies (c)'s weights into
(a) or (b), after which the three compute the same function, in training and in evaluation mode.
Where batch norm goes decides whether that holds: batch norm is per channel, so the batch norms
after the first 1x1 and the 3x3 split across the paths exactly, but after the last 1x1 there must
be one batch norm on the paths' sum (normalising each path's output separately is a different
function). The paper realises its networks in form (c) and applies batch norm right after each
convolution (Sec. 4, "Implementation details").

Registered networks, torchvision's twins (the same parameter names, shapes and order):

    ==================  =====================  ===========  ===========================
    name                blocks per stage       C x d        parameters (1000 classes)
    ==================  =====================  ===========  ===========================
    resnext50_32x4d     3, 4, 6, 3             32 x 4       25,028,904 (torchvision's)
    resnext101_32x8d    3, 4, 23, 3            32 x 8       88,791,336 (torchvision's)
    resnext101_64x4d    3, 4, 23, 3            64 x 4       83,455,272 (torchvision's)
    resnext29_8x64d     CIFAR: 3, 3, 3         8 x 64       34,426,698 (10 classes; Table 7: 34.4M)
    resnext29_16x64d    CIFAR: 3, 3, 3         16 x 64      68,155,210 (10 classes; Table 7: 68.1M)
    ==================  =====================  ===========  ===========================

The CIFAR networks (``CifarResNeXt``, Sec. 5.3 "Experiments on CIFAR" and the appendix; the
authors' Torch code, facebookresearch/ResNeXt, ``models/resnext.lua``): a 3x3 convolution to 64
maps, three stages of three bottlenecks on the 32x32, 16x16 and 8x8 maps with outputs of 256, 512
and 1024 maps, global average pooling and a fully connected layer: 29 weighted layers. "8x64d"
names the first stage: C = 8 paths of d = 64 maps, a grouped 3x3 on 512 maps; d doubles with the
stages, as the widths do (the code's ``D = floor(n * baseWidth / 64)`` for a stage of ``n`` =
64, 128, 256, which is ``resnet.Bottleneck``'s ``width_per_group`` rule). Shortcuts: projections
where the maps change (option B, the code's default for CIFAR), the first block's included (64 ->
256 maps at stride 1). The paper prints 34.4M and 68.1M parameters (Table 7): the counts above,
truncated to one decimal, as Table 1's 25.5M is ResNet-50's 25,557,032.

The stride of a downsampling block is on its 3x3 convolution: "down-sampling of conv3, 4, and 5
is done by stride-2 convolutions in the 3x3 layer of the first block in each stage" (Sec. 4),
as torchvision does; ``stride_on="3x3"`` is therefore these builders' default, not ResNet's.
Initialisation, deviations: as ``resnet.ResNet``.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.fx
from torch import nn

from . import register
from ._checks import InputSpec, check_counts, check_images
from .resnet import (
    Bottleneck, ResidualBlock, ResNet, _check_shortcut, _check_stride, _init_weights, _shortcut_module, make_stage,
)

__all__ = [
    "SplitTransformMerge",
    "EarlyConcatenation",
    "grouped_block",
    "tie_weights",
    "resnext50_32x4d",
    "resnext101_32x8d",
    "resnext101_64x4d",
    "CIFAR_WIDTHS",
    "CifarResNeXt",
    "resnext29_8x64d",
    "resnext29_16x64d",
]

# torch.fx traces check_images as one call in the graph instead of tracing into it (see _checks).
torch.fx.wrap("check_images")


# --------------------------------------------------------------------------- the block's three forms (Figure 3)


def _check_paths(cardinality: int, width: int) -> None:
    check_counts(cardinality=cardinality, width=width)


def _path(in_channels: int, width: int, stride: int) -> list[tuple[str, nn.Module]]:
    """One path's first two layers: 1x1 (in -> d), batch norm, ReLU, 3x3 (d -> d, the stride), batch norm, ReLU."""
    return [
        ("reduce", nn.Conv2d(in_channels, width, kernel_size=1, bias=False)),
        ("bn1", nn.BatchNorm2d(width)),
        ("relu1", nn.ReLU(inplace=True)),
        ("transform", nn.Conv2d(width, width, kernel_size=3, stride=stride, padding=1, bias=False)),
        ("bn2", nn.BatchNorm2d(width)),
        ("relu2", nn.ReLU(inplace=True)),
    ]


class SplitTransformMerge(ResidualBlock):
    """Form (a) of Figure 3: C paths, each 1x1 (in -> d), 3x3 (d -> d), 1x1 (d -> out), summed.

    F(x) = sum_i T_i(x) (Eq. 3), then one batch norm on the sum, the shortcut, and the ReLU.
    Batch norm and ReLU follow each path's first two convolutions (per-channel, so they split
    across paths exactly); after the last 1x1 there is one batch norm on the sum, not one per
    path: normalising each path's output separately is not the same as normalising their sum,
    and that block would not equal forms (b) and (c).

    Args:
        in_channels: the input's maps.
        channels: the block's "channels" as in ``resnet.Bottleneck``: it outputs ``4 * channels``.
        cardinality: C, the number of paths.
        width: d, the maps of each path's 3x3 convolution (the bottleneck width).
        stride: 2 to halve the maps (on each path's 3x3, as ResNeXt does), else 1.
        shortcut: ``"A"``, ``"B"``, ``"C"`` or ``None``, as in ``resnet.Bottleneck``.
    """

    expansion = 4

    def __init__(
        self, in_channels: int, channels: int, cardinality: int, width: int, stride: int = 1,
        shortcut: str | None = "B",
    ) -> None:
        super().__init__()
        check_counts(in_channels=in_channels, channels=channels)
        _check_paths(cardinality, width)
        _check_stride(stride)
        _check_shortcut(shortcut)
        out_channels = channels * self.expansion
        self.shortcut_kind = shortcut
        self.stride = stride
        self.cardinality = cardinality
        self.width = width
        self.out_channels = out_channels
        self.paths = nn.ModuleList(
            nn.Sequential(OrderedDict(_path(in_channels, width, stride)
                                      + [("expand", nn.Conv2d(width, out_channels, kernel_size=1, bias=False))]))
            for _ in range(cardinality)
        )
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut_module(shortcut, in_channels, out_channels, stride)
        _init_weights(self, zero_init_residual=False)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.paths[0](x)              # (N, 4 * channels, H / stride, W / stride): T_1(x)
        for path in self.paths[1:]:
            out = out + path(x)             # (N, 4 * channels, H / stride, W / stride): + T_i(x)
        return self.bn(out)                 # (N, 4 * channels, H / stride, W / stride)

    def last_norm(self) -> nn.BatchNorm2d:
        return self.bn


class EarlyConcatenation(ResidualBlock):
    """Form (b) of Figure 3: C paths of 1x1 (in -> d) and 3x3 (d -> d), concatenated, one 1x1 (C*d -> out).

    The last 1x1 convolution of form (a), applied to each path and summed, is one 1x1
    convolution over the paths' concatenated maps: its weight is the paths' weights side by side.

    Args:
        in_channels: the input's maps.
        channels: the block outputs ``4 * channels``.
        cardinality: C, the number of paths.
        width: d, the maps of each path.
        stride: 2 to halve the maps (on each path's 3x3), else 1.
        shortcut: ``"A"``, ``"B"``, ``"C"`` or ``None``.
    """

    expansion = 4

    def __init__(
        self, in_channels: int, channels: int, cardinality: int, width: int, stride: int = 1,
        shortcut: str | None = "B",
    ) -> None:
        super().__init__()
        check_counts(in_channels=in_channels, channels=channels)
        _check_paths(cardinality, width)
        _check_stride(stride)
        _check_shortcut(shortcut)
        out_channels = channels * self.expansion
        self.shortcut_kind = shortcut
        self.stride = stride
        self.cardinality = cardinality
        self.width = width
        self.out_channels = out_channels
        self.paths = nn.ModuleList(nn.Sequential(OrderedDict(_path(in_channels, width, stride)))
                                   for _ in range(cardinality))
        self.expand = nn.Conv2d(cardinality * width, out_channels, kernel_size=1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut_module(shortcut, in_channels, out_channels, stride)
        _init_weights(self, zero_init_residual=False)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat([path(x) for path in self.paths], dim=1)  # (N, C * d, H / stride, W / stride)
        return self.bn(self.expand(out))                          # (N, 4 * channels, H / stride, W / stride)

    def last_norm(self) -> nn.BatchNorm2d:
        return self.bn


def grouped_block(
    in_channels: int, channels: int, cardinality: int, width: int, stride: int = 1, shortcut: str | None = "B",
) -> Bottleneck:
    """Form (c) of Figure 3: ResNet's bottleneck whose 3x3 is a grouped convolution, C groups of d maps.

    The networks are built from this form: 1x1 (in -> C*d), 3x3 with ``groups=C``, 1x1 (C*d -> out).

    Args:
        in_channels, channels, cardinality, width, stride, shortcut: as ``SplitTransformMerge``.

    Raises:
        ValueError: when torchvision's width rule (``channels * width_per_group // 64 * groups``)
            cannot give C*d maps for this ``channels`` (64*d must be a multiple of ``channels``).
    """
    check_counts(channels=channels)
    _check_paths(cardinality, width)
    if (64 * width) % channels:
        raise ValueError(
            f"a bottleneck of {channels} channels cannot have paths of width {width}: "
            f"64 * width must be a multiple of channels; got 64 * {width} = {64 * width}"
        )
    return Bottleneck(in_channels, channels, stride=stride, shortcut=shortcut, stride_on="3x3",
                      groups=cardinality, width_per_group=64 * width // channels)


def _copy(target: torch.Tensor, source: torch.Tensor) -> None:
    if target.shape != source.shape:
        raise ValueError(f"cannot tie a tensor of shape {tuple(target.shape)} to one of shape {tuple(source.shape)}")
    target.copy_(source)


def _tie_norm(target: nn.BatchNorm2d, source: nn.BatchNorm2d, index: slice | None = None) -> None:
    """Copy ``source``'s scale, shift and running statistics (channels ``index``) into ``target``."""
    for name in ("weight", "bias", "running_mean", "running_var"):
        value = getattr(source, name)
        _copy(getattr(target, name), value if index is None else value[index])
    target.num_batches_tracked.copy_(source.num_batches_tracked)


@torch.no_grad()
def tie_weights(grouped: Bottleneck, form: SplitTransformMerge | EarlyConcatenation) -> None:
    """Copy form (c)'s weights into form (a) or (b), so that all compute the same function.

    Path i gets the i-th d maps of the first 1x1 convolution and of its batch norm, the i-th
    group of the 3x3 convolution and of its batch norm, and (form (a)) the i-th d input
    columns of the last 1x1 convolution; form (b)'s last 1x1 is form (c)'s. The last batch
    norm and the shortcut are copied whole. Running statistics are copied too, so the forms
    agree in evaluation mode as well as in training mode.

    Args:
        grouped: form (c), e.g. from ``grouped_block``.
        form: a ``SplitTransformMerge`` or ``EarlyConcatenation`` of the same shape.

    Raises:
        ValueError: when the two blocks' cardinalities or shapes differ.
    """
    if not isinstance(grouped, Bottleneck) or not isinstance(form, (SplitTransformMerge, EarlyConcatenation)):
        raise ValueError(
            "tie_weights expects a Bottleneck (form (c)) and a SplitTransformMerge or EarlyConcatenation; "
            f"got {type(grouped).__name__} and {type(form).__name__}"
        )
    if grouped.conv2.groups != form.cardinality:
        raise ValueError(f"the blocks' cardinalities differ: {grouped.conv2.groups} groups and {form.cardinality} paths")
    d = form.width
    for i, path in enumerate(form.paths):
        maps = slice(i * d, (i + 1) * d)
        _copy(path.reduce.weight, grouped.conv1.weight[maps])
        _tie_norm(path.bn1, grouped.bn1, maps)
        _copy(path.transform.weight, grouped.conv2.weight[maps])
        _tie_norm(path.bn2, grouped.bn2, maps)
        if isinstance(form, SplitTransformMerge):
            _copy(path.expand.weight, grouped.conv3.weight[:, maps])
    if isinstance(form, EarlyConcatenation):
        _copy(form.expand.weight, grouped.conv3.weight)
    _tie_norm(form.bn, grouped.bn3)
    if (grouped.downsample is None) != (form.downsample is None):
        raise ValueError("one block has a projection shortcut and the other has not")
    if grouped.downsample is not None:
        form.downsample.load_state_dict(grouped.downsample.state_dict())


# --------------------------------------------------------------------------- networks


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


CIFAR_WIDTHS = (64, 128, 256)  # the bottlenecks' "channels" on the 32x32, 16x16, 8x8 maps: outputs 256, 512, 1024


class CifarResNeXt(nn.Module):
    """The CIFAR networks of Xie et al. (2017, Sec. 5.3): a 3x3 convolution, three stages of bottlenecks, pooling, FC.

    9n + 2 weighted layers: the first convolution, 3n convolutions on each of the 32x32, 16x16
    and 8x8 maps (n bottlenecks of 1x1, grouped 3x3, 1x1), and the fully connected layer; the
    paper's networks have n = 3, 29 layers. Each stage's first bottleneck has a projection
    shortcut; in stages 2 and 3 its 3x3 convolution has stride 2.

    Args:
        depth: 9n + 2 (the paper's 29).
        cardinality: C, the paths of each block (the paper's 8 and 16).
        width: d, the maps of each path in the first stage (the paper's 64); it doubles with
            each stage, as the block's widths do.
        num_classes: 10 for CIFAR-10, 100 for CIFAR-100.
        in_channels: image channels.
        zero_init_residual: start every block as the identity (each branch's last scale 0).
    """

    def __init__(
        self,
        depth: int = 29,
        cardinality: int = 8,
        width: int = 64,
        num_classes: int = 10,
        in_channels: int = 3,
        zero_init_residual: bool = False,
    ) -> None:
        super().__init__()
        check_counts(num_classes=num_classes, in_channels=in_channels)
        _check_paths(cardinality, width)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 11 or (depth - 2) % 9:
            raise ValueError(f"depth must be 9n + 2 with n >= 1 (29 is the paper's); got {depth!r}")
        n = (depth - 2) // 9
        self.depth = depth
        self.blocks_per_stage = n
        self.cardinality = cardinality
        self.width = width
        # Two stride-2 layers take 32x32 to 8x8; each maps 1x1 to 1x1, so any size runs.
        self.input_spec = InputSpec(in_channels, (32, 32), fixed=False, min_size=1)
        self.input_size = self.input_spec.shape
        block_kwargs = dict(shortcut="B", stride_on="3x3", groups=cardinality, width_per_group=width)
        expansion = Bottleneck.expansion
        w1, w2, w3 = CIFAR_WIDTHS
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = make_stage(Bottleneck, 64, w1, n, stride=1, **block_kwargs)
        self.layer2 = make_stage(Bottleneck, w1 * expansion, w2, n, stride=2, **block_kwargs)
        self.layer3 = make_stage(Bottleneck, w2 * expansion, w3, n, stride=2, **block_kwargs)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(w3 * expansion, num_classes)
        self.num_features = w3 * expansion
        _init_weights(self, zero_init_residual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.input_spec)
        x = self.relu(self.bn1(self.conv1(x)))  # (N, 64, 32, 32)
        x = self.layer1(x)                      # (N, num_features / 4, 32, 32): 256 maps
        x = self.layer2(x)                      # (N, num_features / 2, 16, 16): 512 maps
        x = self.layer3(x)                      # (N, num_features, 8, 8): 1024 maps
        x = torch.flatten(self.avgpool(x), 1)   # (N, num_features): global average pooling
        return self.fc(x)                       # (N, num_classes)


def _cifar(cardinality: int, width: int):
    def build(num_classes: int = 10, in_channels: int = 3, zero_init_residual: bool = False) -> CifarResNeXt:
        return CifarResNeXt(
            29, cardinality=cardinality, width=width, num_classes=num_classes, in_channels=in_channels,
            zero_init_residual=zero_init_residual,
        )

    build.__doc__ = (
        f"ResNeXt-29 ({cardinality}x{width}d) for CIFAR, Sec. 5.3 and Table 7 of Xie et al. (2017): "
        f"three stages of three bottlenecks, C = {cardinality} paths of d = {width} maps in the first stage."
    )
    return build


resnext29_8x64d = register("resnext29_8x64d")(_cifar(8, 64))
resnext29_16x64d = register("resnext29_16x64d")(_cifar(16, 64))
