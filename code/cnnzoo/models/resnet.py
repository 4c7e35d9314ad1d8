"""ResNet: residual blocks, the five ImageNet networks of Table 1 and the CIFAR-10 family of Sec. 4.2.

K. He, X. Zhang, S. Ren and J. Sun, "Deep Residual Learning for Image Recognition", CVPR 2016
(arXiv:1512.03385), Sections 3 and 4, Tables 1 and 6, Figures 2, 3 and 5.

The idea: instead of asking a few stacked layers to fit a mapping H(x), ask them to fit the
residual F(x) = H(x) - x and add the input back through a shortcut: the block computes
F(x) + x (Sec. 3.1, Figure 2). If the identity is what is best, the layers only have to push
F towards zero. The shortcut adds no parameter and passes the gradient back unchanged.

The blocks (``BasicBlock``, ``Bottleneck``) compute ``relu(residual(x) + shortcut(x))``. Their
two methods are the pieces the later chapters reuse: Wide ResNet and ResNeXt change the widths
and groups of ``residual``; Stochastic Depth drops ``residual`` at random and keeps ``shortcut``.
A block built with ``shortcut=None`` has no addition: the "plain" network of the same shape
(Sec. 4.1, Figure 3 middle).

Shortcuts where the dimensions grow (Sec. 3.3, and Table 3's three options):
    * ``"A"``: the identity, with zero maps added for the new channels and a stride of 2 where
      the maps halve; no parameters. The CIFAR-10 networks use it everywhere (Sec. 4.2).
    * ``"B"``: a 1x1 convolution with stride 2 (and batch norm) where the dimensions change, the
      identity elsewhere. The ImageNet networks of Table 1 (Sec. 4.1, "we use option B") and
      torchvision's.
    * ``"C"``: a 1x1 convolution on every shortcut (Table 3; slightly better, not worth its
      parameters, the paper concludes).
    * ``None``: no shortcut: the plain twin.

Where a downsampling bottleneck strides (``stride_on``): the paper's first 1x1 convolution of
the block has stride 2 ("conv3_1, conv4_1, and conv5_1 with a stride of 2", Table 1's caption;
the authors' released Caffe models put it on the 1x1), ``stride_on="1x1"``, our default.
torchvision moved it to the 3x3 convolution ("ResNet V1.5", its documentation says), which reads
all the input instead of one pixel in four, costs more multiply-adds (4.1 G against 3.9 G for
ResNet-50) and is slightly more accurate: ``stride_on="3x3"``. The parameters are the same
either way. With ``stride_on="3x3"`` the ImageNet networks are torchvision's twins: the same
parameter names, shapes and order (``conv1``, ``bn1``, ``layer1.0.conv1``, ...,
``layer2.0.downsample.0``, ``fc``) and, with the same weights, the same outputs. A basic block
has one stride-2 layer, its first 3x3, either way: ``resnet18`` and ``resnet34`` are twins as
built by default.

Registered networks (parameters with 1000 or 10 classes):

    ===================  ==========================  ============================================
    name                 blocks per stage            parameters
    ===================  ==========================  ============================================
    resnet18             basic 2, 2, 2, 2            11,689,512 (torchvision's)
    resnet34             basic 3, 4, 6, 3            21,797,672 (torchvision's)
    resnet50             bottleneck 3, 4, 6, 3       25,557,032 (torchvision's)
    resnet101            bottleneck 3, 4, 23, 3      44,549,160 (torchvision's)
    resnet152            bottleneck 3, 8, 36, 3      60,192,808 (torchvision's)
    plain18, plain34     as resnet18, resnet34,      11,515,688 and 21,623,848 (Table 2's plain
                         no shortcuts                nets: no projection shortcuts to count)
    resnet20_cifar ...   basic n, n, n (depth 6n+2)  Table 6: 0.27 M (20), 0.46 M (32), 0.66 M
    resnet1202_cifar     widths 16, 32, 64           (44), 0.85 M (56), 1.7 M (110), 19.4 M (1202)
    plain20_cifar ...    the same, no shortcuts      the same as the residual twins (option A
    plain56_cifar                                    has no parameters)
    ===================  ==========================  ============================================

Deviations from the paper:
    * ``forward`` returns the scores before the soft-max (the loss applies it).
    * The global average pooling is ``AdaptiveAvgPool2d(1)``, so any input size works, as the
      paper's fully convolutional testing does (Sec. 3.4).
    * Initialisation: He et al.'s normal initialisation, the paper's reference [13], in
      torchvision's form N(0, 2 / fan_out) for every convolution; batch norm scale 1 and shift
      0; the last layer keeps PyTorch's default. ``zero_init_residual=True`` sets the scale of
      each block's last batch norm to 0, so that every block starts as the identity (Goyal et al.
      2017, Sec. 5.1; torchvision's option of the same name); it is not in the paper.
    * Option A pads the new channels at the end (the paper does not say where the zeros go).

Every registered ResNet takes ``stochastic_depth=p_L`` (Huang et al. 2016; ``models.stochastic_depth``):
its blocks are then dropped at random in training, with survival probabilities decaying to p_L.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from . import register
from ._checks import InputSpec, check_counts, check_images

__all__ = [
    "SHORTCUTS",
    "STRIDE_ON",
    "IMAGENET_LAYERS",
    "CIFAR_DEPTHS",
    "CIFAR_WIDTHS",
    "ZeroPadShortcut",
    "ResidualBlock",
    "BasicBlock",
    "Bottleneck",
    "make_stage",
    "ResNet",
    "CifarResNet",
    "residual_blocks",
]

# torch.fx traces check_images as one call in the graph instead of tracing into it (see _checks).
torch.fx.wrap("check_images")

SHORTCUTS = ("A", "B", "C", None)
STRIDE_ON = ("1x1", "3x3")


def _check_shortcut(shortcut: object) -> None:
    if shortcut not in SHORTCUTS:
        raise ValueError(
            f"shortcut must be 'A' (zero-padded identity), 'B' (projection where the shape changes), "
            f"'C' (projection everywhere) or None (a plain network); got {shortcut!r}"
        )


def _check_stride(stride: object) -> None:
    if stride not in (1, 2):
        raise ValueError(f"stride must be 1 or 2; got {stride!r}")


# --------------------------------------------------------------------------- shortcuts


class ZeroPadShortcut(nn.Module):
    """Option A (Sec. 3.3): the identity, subsampled by ``stride``, with zero maps for the new channels.

    Args:
        in_channels: the input's maps.
        out_channels: the output's maps (>= ``in_channels``); the extra ones are zeros.
        stride: 2 where the block halves the maps (every second pixel is kept), else 1.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        check_counts(in_channels=in_channels, out_channels=out_channels)
        _check_stride(stride)
        if out_channels < in_channels:
            raise ValueError(f"option A can only add channels: out_channels {out_channels} < in_channels {in_channels}")
        self.extra = out_channels - in_channels
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]     # (N, in_channels, H / stride, W / stride)
        return F.pad(x, (0, 0, 0, 0, 0, self.extra))   # (N, out_channels, ...): zeros at the end


def _shortcut_module(shortcut: str | None, in_channels: int, out_channels: int, stride: int) -> nn.Module | None:
    """The module on the shortcut path (``None``: the identity, or no shortcut at all)."""
    changes = stride != 1 or in_channels != out_channels
    if shortcut == "A" and changes:
        return ZeroPadShortcut(in_channels, out_channels, stride)
    if (shortcut == "B" and changes) or shortcut == "C":
        return nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
            nn.BatchNorm2d(out_channels),
        )
    return None


# --------------------------------------------------------------------------- blocks


class ResidualBlock(nn.Module):
    """What every residual block does: ``relu(residual(x) + shortcut(x))`` (Figure 2).

    A subclass builds its layers and writes ``residual``, the branch F(x) up to its last batch
    norm. ``self.shortcut_kind`` is ``None`` in a plain block: then there is no addition.
    ``self.downsample`` is the shortcut's module, or ``None`` for the identity (torchvision's name).
    """

    shortcut_kind: str | None
    downsample: nn.Module | None

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """F(x): the block's layers, before the addition and the last ReLU."""
        raise NotImplementedError

    def last_norm(self) -> nn.BatchNorm2d:
        """The batch norm at the end of the residual branch (``zero_init_residual`` zeroes its scale)."""
        raise NotImplementedError

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        """The shortcut path: x itself, or its projection / zero padding where the shape changes."""
        return x if self.downsample is None else self.downsample(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.residual(x)
        if self.shortcut_kind is not None:
            out = out + self.shortcut(x)  # H(x) = F(x) + x
        return self.relu(out)


class BasicBlock(ResidualBlock):
    """Two 3x3 convolutions with batch norm (Figure 5 left): "building block" for ResNet-18/34 and CIFAR.

    Args:
        in_channels: the input's maps.
        channels: the maps of both convolutions and of the output.
        stride: 2 to halve the maps (on the first convolution and the shortcut), else 1.
        shortcut: ``"A"``, ``"B"``, ``"C"`` or ``None`` (see the module docstring).
    """

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1, shortcut: str | None = "B") -> None:
        super().__init__()
        check_counts(in_channels=in_channels, channels=channels)
        _check_stride(stride)
        _check_shortcut(shortcut)
        self.shortcut_kind = shortcut
        self.stride = stride
        self.out_channels = channels
        self.conv1 = nn.Conv2d(in_channels, channels, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = _shortcut_module(shortcut, in_channels, channels, stride)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))  # (N, channels, H / stride, W / stride)
        return self.bn2(self.conv2(out))          # (N, channels, H / stride, W / stride)

    def last_norm(self) -> nn.BatchNorm2d:
        return self.bn2


class Bottleneck(ResidualBlock):
    """1x1, 3x3, 1x1 convolutions (Figure 5 right): reduce the maps, convolve, restore four times as many.

    Args:
        in_channels: the input's maps.
        channels: the maps of the 3x3 convolution (the "64" of "1x1, 64 / 3x3, 64 / 1x1, 256");
            the block outputs ``4 * channels``.
        stride: 2 to halve the maps, else 1.
        shortcut: ``"A"``, ``"B"``, ``"C"`` or ``None``.
        stride_on: ``"1x1"`` (the paper: the first 1x1 convolution strides) or ``"3x3"``
            (torchvision's "V1.5").
        groups: the 3x3 convolution's groups (1 here; ResNeXt's cardinality).
        width_per_group: the 3x3 convolution's maps per group for ``channels == 64`` (64 here;
            ResNeXt's bottleneck width d, Wide ResNet-50-2's 128): its width is
            ``channels * width_per_group // 64 * groups``, torchvision's rule.
    """

    expansion = 4

    def __init__(
        self,
        in_channels: int,
        channels: int,
        stride: int = 1,
        shortcut: str | None = "B",
        stride_on: str = "1x1",
        groups: int = 1,
        width_per_group: int = 64,
    ) -> None:
        super().__init__()
        check_counts(in_channels=in_channels, channels=channels, groups=groups, width_per_group=width_per_group)
        _check_stride(stride)
        _check_shortcut(shortcut)
        if stride_on not in STRIDE_ON:
            raise ValueError(f"stride_on must be '1x1' (the paper) or '3x3' (torchvision's V1.5); got {stride_on!r}")
        width = int(channels * (width_per_group / 64.0)) * groups
        out_channels = channels * self.expansion
        self.shortcut_kind = shortcut
        self.stride = stride
        self.stride_on = stride_on
        self.out_channels = out_channels
        stride_1x1, stride_3x3 = (stride, 1) if stride_on == "1x1" else (1, stride)
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=1, stride=stride_1x1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, kernel_size=3, stride=stride_3x3, padding=1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut_module(shortcut, in_channels, out_channels, stride)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))    # (N, width, H / stride, W / stride) if stride_on "1x1"
        out = self.relu(self.bn2(self.conv2(out)))  # (N, width, H / stride, W / stride)
        return self.bn3(self.conv3(out))            # (N, 4 * channels, H / stride, W / stride)

    def last_norm(self) -> nn.BatchNorm2d:
        return self.bn3


def make_stage(
    block: type[ResidualBlock], in_channels: int, channels: int, blocks: int, stride: int, **block_kwargs
) -> nn.Sequential:
    """``blocks`` blocks of one stage (a "conv2_x" of Table 1); the first takes ``stride``.

    Args:
        block: ``BasicBlock`` or ``Bottleneck`` (or a subclass).
        in_channels: the maps entering the stage.
        channels: the blocks' ``channels`` (each outputs ``channels * block.expansion``).
        blocks: how many blocks.
        stride: the first block's stride (2 halves the maps; 1 keeps them).
        block_kwargs: passed to every block (``shortcut``, ``stride_on``, ``groups``, ...).
    """
    check_counts(blocks=blocks)
    layers = [block(in_channels, channels, stride=stride, **block_kwargs)]
    for _ in range(blocks - 1):
        layers.append(block(channels * block.expansion, channels, stride=1, **block_kwargs))
    return nn.Sequential(*layers)


def residual_blocks(model: nn.Module) -> list[tuple[str, ResidualBlock]]:
    """(name, block) of every residual block of ``model``, in order (plain blocks included)."""
    return [(name, module) for name, module in model.named_modules() if isinstance(module, ResidualBlock)]


def _init_weights(model: nn.Module, zero_init_residual: bool) -> None:
    """He et al.'s normal initialisation (torchvision's form), optionally zeroing each branch's last scale."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    if zero_init_residual:
        for _, block in residual_blocks(model):
            nn.init.zeros_(block.last_norm().weight)


# --------------------------------------------------------------------------- networks

# Table 1: the block and the number of blocks in conv2_x ... conv5_x, for each depth.
IMAGENET_LAYERS: dict[int, tuple[type[ResidualBlock], tuple[int, int, int, int]]] = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}
IMAGENET_WIDTHS = (64, 128, 256, 512)  # the blocks' "channels" in conv2_x ... conv5_x (Table 1)


class ResNet(nn.Module):
    """The ImageNet networks of Table 1: a 7x7/2 convolution and 3x3/2 max pooling, four stages, average pooling, FC.

    Args:
        depth: 18, 34, 50, 101 or 152 (the rows of Table 1), or use ``block`` and ``layers``.
        num_classes: the width of the last layer (1000 for ImageNet).
        in_channels: image channels.
        shortcut: ``"B"`` (the paper's and torchvision's), ``"A"``, ``"C"``, or ``None`` (plain).
        stride_on: bottlenecks only: ``"1x1"`` (the paper) or ``"3x3"`` (torchvision's V1.5).
        zero_init_residual: start every block as the identity (each branch's last scale 0).
        groups, width_per_group: the bottlenecks' 3x3 groups and width (ResNeXt, Wide ResNet).
        block, layers: another block type and blocks per stage than ``depth``'s.
    """

    def __init__(
        self,
        depth: int = 50,
        num_classes: int = 1000,
        in_channels: int = 3,
        shortcut: str | None = "B",
        stride_on: str = "1x1",
        zero_init_residual: bool = False,
        groups: int = 1,
        width_per_group: int = 64,
        block: type[ResidualBlock] | None = None,
        layers: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        check_counts(num_classes=num_classes, in_channels=in_channels)
        _check_shortcut(shortcut)
        if stride_on not in STRIDE_ON:
            raise ValueError(f"stride_on must be '1x1' (the paper) or '3x3' (torchvision's V1.5); got {stride_on!r}")
        if block is None:
            if depth not in IMAGENET_LAYERS:
                raise ValueError(f"depth must be one of Table 1's {sorted(IMAGENET_LAYERS)}; got {depth!r}")
            block, layers = IMAGENET_LAYERS[depth]
        if layers is None or len(layers) != 4:
            raise ValueError(f"layers must give the number of blocks of the four stages; got {layers!r}")
        block_kwargs: dict = {"shortcut": shortcut}
        if issubclass(block, Bottleneck):
            block_kwargs.update(stride_on=stride_on, groups=groups, width_per_group=width_per_group)
        elif (groups, width_per_group) != (1, 64):
            raise ValueError("groups and width_per_group apply to bottleneck blocks only")
        self.shortcut_kind = shortcut
        self.stride_on = stride_on
        # The five stride-2 layers take 32x32 to 1x1; each of them maps 1x1 to 1x1, so any size runs.
        self.input_spec = InputSpec(in_channels, (224, 224), fixed=False, min_size=1)
        self.input_size = self.input_spec.shape
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        widths = IMAGENET_WIDTHS
        self.layer1 = make_stage(block, 64, widths[0], layers[0], stride=1, **block_kwargs)
        self.layer2 = make_stage(block, widths[0] * block.expansion, widths[1], layers[1], stride=2, **block_kwargs)
        self.layer3 = make_stage(block, widths[1] * block.expansion, widths[2], layers[2], stride=2, **block_kwargs)
        self.layer4 = make_stage(block, widths[2] * block.expansion, widths[3], layers[3], stride=2, **block_kwargs)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[3] * block.expansion, num_classes)
        self.num_features = widths[3] * block.expansion
        _init_weights(self, zero_init_residual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.input_spec)
        x = self.relu(self.bn1(self.conv1(x)))  # (N, 64, 112, 112): conv1
        x = self.maxpool(x)                     # (N, 64, 56, 56)
        x = self.layer1(x)                      # (N, num_features / 8, 56, 56): conv2_x
        x = self.layer2(x)                      # (N, num_features / 4, 28, 28): conv3_x
        x = self.layer3(x)                      # (N, num_features / 2, 14, 14): conv4_x
        x = self.layer4(x)                      # (N, num_features, 7, 7): conv5_x
        x = torch.flatten(self.avgpool(x), 1)   # (N, num_features): global average pooling
        return self.fc(x)                       # (N, num_classes)


CIFAR_DEPTHS = (20, 32, 44, 56, 110, 1202)  # Sec. 4.2 and Table 6: n = 3, 5, 7, 9, 18, 200
CIFAR_WIDTHS = (16, 32, 64)  # the filters on the 32x32, 16x16 and 8x8 maps (Sec. 4.2)


class CifarResNet(nn.Module):
    """The CIFAR-10 networks of Sec. 4.2: a 3x3 convolution, three stages of n basic blocks, average pooling, FC.

    6n + 2 weighted layers: the first convolution, 2n convolutions on each of the 32x32, 16x16
    and 8x8 maps (16, 32 and 64 filters), and the fully connected layer.

    Args:
        depth: 6n + 2 (20, 32, 44, 56, 110 and 1202 are the paper's).
        num_classes: 10 for CIFAR-10.
        in_channels: image channels.
        shortcut: ``"A"`` (the paper's choice on CIFAR-10), ``"B"``, ``"C"`` or ``None`` (plain).
        widths: the filters of the three stages (the paper's 16, 32, 64; the chapter's
            experiments pass narrower ones to train on a CPU).
        zero_init_residual: start every block as the identity (each branch's last scale 0).
    """

    def __init__(
        self,
        depth: int = 20,
        num_classes: int = 10,
        in_channels: int = 3,
        shortcut: str | None = "A",
        widths: Sequence[int] = CIFAR_WIDTHS,
        zero_init_residual: bool = False,
    ) -> None:
        super().__init__()
        check_counts(num_classes=num_classes, in_channels=in_channels)
        _check_shortcut(shortcut)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
            raise ValueError(f"depth must be 6n + 2 with n >= 1 (20, 32, 44, 56, 110, 1202, ...); got {depth!r}")
        widths = tuple(widths)
        if len(widths) != 3:
            raise ValueError(f"widths must give the filters of the three stages; got {widths!r}")
        check_counts(**{f"widths[{i}]": w for i, w in enumerate(widths)})
        n = (depth - 2) // 6
        self.depth = depth
        self.blocks_per_stage = n
        self.shortcut_kind = shortcut
        # Two stride-2 layers take 32x32 to 8x8; each maps 1x1 to 1x1, so any size runs.
        self.input_spec = InputSpec(in_channels, (32, 32), fixed=False, min_size=1)
        self.input_size = self.input_spec.shape
        self.conv1 = nn.Conv2d(in_channels, widths[0], kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = make_stage(BasicBlock, widths[0], widths[0], n, stride=1, shortcut=shortcut)
        self.layer2 = make_stage(BasicBlock, widths[0], widths[1], n, stride=2, shortcut=shortcut)
        self.layer3 = make_stage(BasicBlock, widths[1], widths[2], n, stride=2, shortcut=shortcut)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[2], num_classes)
        self.num_features = widths[2]
        _init_weights(self, zero_init_residual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.input_spec)
        x = self.relu(self.bn1(self.conv1(x)))  # (N, num_features / 4, 32, 32)
        x = self.layer1(x)                      # (N, num_features / 4, 32, 32): 2n layers, 16 filters
        x = self.layer2(x)                      # (N, num_features / 2, 16, 16): 2n layers, 32 filters
        x = self.layer3(x)                      # (N, num_features, 8, 8): 2n layers, 64 filters
        x = torch.flatten(self.avgpool(x), 1)   # (N, num_features): global average pooling
        return self.fc(x)                       # (N, num_classes)


# --------------------------------------------------------------------------- builders


def _with_stochastic_depth(model: nn.Module, p_last: float | None) -> nn.Module:
    """``model``, its blocks wrapped for stochastic depth with p_L = ``p_last`` (None: unchanged)."""
    if p_last is None:
        return model
    from .stochastic_depth import add_stochastic_depth  # that module builds on this one

    return add_stochastic_depth(model, p_last)


def _imagenet(depth: int, shortcut: str | None = "B"):
    def build(
        num_classes: int = 1000,
        in_channels: int = 3,
        stride_on: str = "1x1",
        zero_init_residual: bool = False,
        stochastic_depth: float | None = None,
    ) -> ResNet:
        model = ResNet(
            depth, num_classes=num_classes, in_channels=in_channels, shortcut=shortcut,
            stride_on=stride_on, zero_init_residual=zero_init_residual,
        )
        return _with_stochastic_depth(model, stochastic_depth)

    kind = f"ResNet-{depth}" if shortcut else f"plain-{depth} (no shortcuts)"
    block, layers = IMAGENET_LAYERS[depth]
    build.__doc__ = (
        f"{kind}, Table 1 of He et al. (2016): {block.__name__} x {layers}. ``stride_on='3x3'``: "
        "torchvision's V1.5 (a twin of torchvision's model of the same name). ``stochastic_depth=p_L``: "
        "blocks dropped at random in training (``models.stochastic_depth``)."
    )
    return build


def _cifar(depth: int, shortcut: str | None = "A"):
    def build(
        num_classes: int = 10, in_channels: int = 3, zero_init_residual: bool = False,
        stochastic_depth: float | None = None,
    ) -> CifarResNet:
        model = CifarResNet(
            depth, num_classes=num_classes, in_channels=in_channels, shortcut=shortcut,
            zero_init_residual=zero_init_residual,
        )
        return _with_stochastic_depth(model, stochastic_depth)

    kind = f"ResNet-{depth} (option A shortcuts)" if shortcut else f"plain-{depth} (no shortcuts)"
    build.__doc__ = (
        f"{kind} for CIFAR-10, Sec. 4.2 of He et al. (2016): n = {(depth - 2) // 6} blocks per stage. "
        "``stochastic_depth=p_L``: blocks dropped at random in training (``models.stochastic_depth``)."
    )
    return build


resnet18 = register("resnet18")(_imagenet(18))
resnet34 = register("resnet34")(_imagenet(34))
resnet50 = register("resnet50")(_imagenet(50))
resnet101 = register("resnet101")(_imagenet(101))
resnet152 = register("resnet152")(_imagenet(152))
plain18 = register("plain18")(_imagenet(18, shortcut=None))
plain34 = register("plain34")(_imagenet(34, shortcut=None))

resnet20_cifar = register("resnet20_cifar")(_cifar(20))
resnet32_cifar = register("resnet32_cifar")(_cifar(32))
resnet44_cifar = register("resnet44_cifar")(_cifar(44))
resnet56_cifar = register("resnet56_cifar")(_cifar(56))
resnet110_cifar = register("resnet110_cifar")(_cifar(110))
resnet1202_cifar = register("resnet1202_cifar")(_cifar(1202))
plain20_cifar = register("plain20_cifar")(_cifar(20, shortcut=None))
plain32_cifar = register("plain32_cifar")(_cifar(32, shortcut=None))
plain44_cifar = register("plain44_cifar")(_cifar(44, shortcut=None))
plain56_cifar = register("plain56_cifar")(_cifar(56, shortcut=None))
