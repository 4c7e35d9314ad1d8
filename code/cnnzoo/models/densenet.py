"""DenseNet: every layer of a dense block reads the concatenation of all the maps before it.

G. Huang, Z. Liu, L. van der Maaten and K. Q. Weinberger, "Densely Connected Convolutional
Networks", CVPR 2017 (arXiv:1608.06993), Section 3, Tables 1 and 2.

The idea: instead of adding a block's output to its input (ResNet), concatenate. Layer l of a
dense block receives the maps of the block's input and of all l - 1 layers before it,
x_l = H_l([x_0, x_1, ..., x_{l-1}]) (eq. 2), and adds k new maps, the *growth rate*. A block of
n layers on k_0 input maps ends with k_0 + n k maps. Each H_l is batch norm, ReLU and a 3x3
convolution (Sec. 3, "composite function"); DenseNet-B puts a 1x1 "bottleneck" convolution to
4k maps before the 3x3 (BN-ReLU-Conv(1x1)-BN-ReLU-Conv(3x3)). Between blocks a *transition
layer* (BN, 1x1 convolution, 2x2 average pooling) halves the maps' size; DenseNet-C's transition
keeps only a fraction theta of the maps (the compression, 0.5); DenseNet-BC is both.

Every layer is a short path from the loss (through the concatenations), which is the notes'
point about FractalNet and DenseNet: extra shortcut or identity paths that let the gradient
flow from the loss to every layer.

Registered networks (parameters with 1000 or 10 classes):

    ===================  =====================================  ==================================
    name                 structure                              parameters
    ===================  =====================================  ==================================
    densenet121          BC, k = 32, blocks 6, 12, 24, 16       7,978,856 (torchvision's)
    densenet161          BC, k = 48, blocks 6, 12, 36, 24       28,681,000 (torchvision's)
    densenet169          BC, k = 32, blocks 6, 12, 32, 32       14,149,480 (torchvision's)
    densenet201          BC, k = 32, blocks 6, 12, 48, 32       20,013,928 (torchvision's)
    densenet_40_12       L = 40, k = 12, 3 blocks of 12         1,019,722 (Table 2: 1.0 M)
    densenet_bc_100_12   BC, L = 100, k = 12, 3 blocks of 16    769,162 (Table 2: 0.8 M)
    densenet_bc_250_24   BC, L = 250, k = 24, 3 blocks of 41    15,324,406 (Table 2: 15.3 M)
    densenet_bc_190_40   BC, L = 190, k = 40, 3 blocks of 31    25,624,430 (Table 2: 25.6 M)
    ===================  =====================================  ==================================

The ImageNet networks (Table 1) are torchvision's twins: the same parameter names, shapes and
order (``features.conv0``, ``features.denseblock1.denselayer1.norm1``, ...,
``features.transition1.conv``, ``features.norm5``, ``classifier``) and, with the same weights,
the same outputs. They start with 2k maps (a 7x7 convolution with stride 2 and 3x3 max
pooling), and end with batch norm, ReLU, global average pooling and a fully connected layer.

The CIFAR networks (Sec. 3, "Implementation details"): a 3x3 convolution to 16 maps (2k for
DenseNet-BC), three dense blocks of equal size on 32x32, 16x16 and 8x8 maps, transitions
between them, and batch norm, ReLU, global average pooling and a fully connected layer. With L
layers a block has (L - 4) / 3 layers, or (L - 4) / 6 for BC (each layer holds two convolutions).

Memory: a naive dense block keeps, for backward, every layer's concatenated input and its batch-norm
and ReLU outputs, maps that grow with the layer index, so its memory grows quadratically with the
block's depth. ``memory_efficient=True`` (torchvision's option; Pleiss et al. 2017, "Memory-Efficient
Implementation of DenseNets", arXiv:1707.06990) checkpoints the concatenation, the first batch norm,
ReLU and the 1x1 convolution of each layer: they are recomputed in backward instead of kept, which
costs one more forward pass of those operations and gives the same outputs and gradients (and,
unlike torchvision's, updates the batch norms' running statistics once per step, not twice).

Feature reuse (the paper's Figure 5): :func:`source_weights` computes, for a dense block, the mean
absolute weight from each source (the block's input, layer 1, ..., layer L) to each target layer.

Deviations:
    * ``forward`` returns the scores before the soft-max.
    * Dropout (the paper's 0.2 after each convolution on CIFAR without data augmentation) is an
      option, ``dropout``, off by default, placed after each layer's last convolution.
    * Initialisation: He et al.'s normal initialisation (fan in, torchvision's) for the
      convolutions, batch norm 1 and 0, linear biases 0.
    * ``memory_efficient=True``: the recomputation in the backward pass normalises by the batch's
      statistics without updating the running ones again (torchvision's updates them twice per step).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
import torch.fx
import torch.nn.functional as F
import torch.utils.checkpoint
from torch import nn

from . import register
from ._checks import InputSpec, check_counts, check_images, check_probability

__all__ = [
    "DenseLayer", "DenseBlock", "Transition", "DenseNet", "CifarDenseNet",
    "source_weights",
    "densenet121", "densenet161", "densenet169", "densenet201",
    "densenet_40_12", "densenet_bc_100_12", "densenet_bc_250_24", "densenet_bc_190_40",
]

# torch.fx traces check_images as one call in the graph instead of tracing into it (see _checks).
torch.fx.wrap("check_images")


def _check_flag(**flags: object) -> None:
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False; got {value!r}")



class DenseLayer(nn.Module):
    """H_l: BN-ReLU-Conv(3x3) to k maps, with a BN-ReLU-Conv(1x1) bottleneck to ``bn_size * k`` first (DenseNet-B).

    Args:
        in_channels: the maps of everything before it in the block, concatenated.
        growth_rate: k, the maps it adds.
        bn_size: the bottleneck's width in units of k (4 in the paper); ``None``: no bottleneck.
        dropout: the probability of dropping each new value (0: none).
        memory_efficient: recompute the concatenation and the bottleneck (BN-ReLU-Conv 1x1) in backward
            instead of keeping them (torchvision's ``memory_efficient``; Pleiss et al. 2017): same outputs
            and gradients, less memory, more compute. Used in training mode when an input requires grad.
    """

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int | None = 4, dropout: float = 0.0,
                 memory_efficient: bool = False) -> None:
        super().__init__()
        check_counts(in_channels=in_channels, growth_rate=growth_rate)
        check_probability(dropout=dropout)
        _check_flag(memory_efficient=memory_efficient)
        self.memory_efficient = memory_efficient
        self.bottleneck = bn_size is not None
        if self.bottleneck:
            check_counts(bn_size=bn_size)
            self.norm1 = nn.BatchNorm2d(in_channels)
            self.relu1 = nn.ReLU(inplace=True)
            self.conv1 = nn.Conv2d(in_channels, bn_size * growth_rate, kernel_size=1, bias=False)
            middle = bn_size * growth_rate
        else:
            middle = in_channels
        self.norm2 = nn.BatchNorm2d(middle)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(middle, growth_rate, kernel_size=3, padding=1, bias=False)
        self.dropout = dropout

    def bottleneck_function(self, *features: torch.Tensor, update_statistics: bool = True) -> torch.Tensor:
        """The part whose maps grow with the layer's index: the concatenation (and the 1x1 bottleneck).

        ``update_statistics=False`` (the recomputation in backward) normalises by the batch's statistics
        without updating the running ones a second time.
        """
        x = torch.cat(features, 1)  # [x_0, x_1, ..., x_{l-1}]: every map before this layer
        if self.bottleneck:
            norm = self.norm1
            if update_statistics:
                x = norm(x)
            else:
                # momentum 0: the batch's statistics, the running ones left as they are
                x = F.batch_norm(x, norm.running_mean, norm.running_var, norm.weight, norm.bias, True, 0.0, norm.eps)
            x = self.conv1(self.relu1(x))  # (N, bn_size * k, H, W)
        return x

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        if self.memory_efficient and self.training and any(f.requires_grad for f in features):
            # Keep only the inputs (already kept by the block); recompute the rest in backward.
            # Deviation: torchvision's recomputation updates norm1's running statistics a second
            # time; here the first call (forward) updates them and the second (backward) does not.
            calls = []

            def run(*inputs: torch.Tensor) -> torch.Tensor:
                calls.append(1)
                return self.bottleneck_function(*inputs, update_statistics=len(calls) == 1)

            x = torch.utils.checkpoint.checkpoint(run, *features, use_reentrant=False)
        else:
            x = self.bottleneck_function(*features)
        x = self.conv2(self.relu2(self.norm2(x)))      # (N, k, H, W): the k new maps
        if self.dropout > 0:
            x = F.dropout(x, p=self.dropout, training=self.training)
        return x


class DenseBlock(nn.Module):
    """``num_layers`` dense layers; each reads the block's input and every earlier layer's output.

    Args:
        num_layers: the layers of the block.
        in_channels: the block's input maps (k_0).
        growth_rate: k.
        bn_size, dropout, memory_efficient: as ``DenseLayer``.
    """

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bn_size: int | None = 4,
                 dropout: float = 0.0, memory_efficient: bool = False) -> None:
        super().__init__()
        check_counts(num_layers=num_layers)
        for i in range(num_layers):
            layer = DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size=bn_size, dropout=dropout,
                               memory_efficient=memory_efficient)
            self.add_module(f"denselayer{i + 1}", layer)  # torchvision's names
        self.in_channels = in_channels
        self.growth_rate = growth_rate
        self.out_channels = in_channels + num_layers * growth_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.children():
            features.append(layer(features))
        return torch.cat(features, 1)  # (N, k_0 + num_layers * k, H, W)


class Transition(nn.Sequential):
    """Between dense blocks: BN, ReLU, a 1x1 convolution to ``out_channels``, 2x2 average pooling."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        check_counts(in_channels=in_channels, out_channels=out_channels)
        super().__init__(OrderedDict([
            ("norm", nn.BatchNorm2d(in_channels)),
            ("relu", nn.ReLU(inplace=True)),
            ("conv", nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)),
            ("pool", nn.AvgPool2d(kernel_size=2, stride=2)),
        ]))


def _first_conv(module: nn.Module) -> nn.Module:
    """The layer of ``module`` that reads the concatenated maps: a dense layer's first convolution,
    a transition's convolution, or a linear classifier itself."""
    if isinstance(module, DenseLayer):
        return module.conv1 if module.bottleneck else module.conv2
    if isinstance(module, Transition):
        return module.conv
    if isinstance(module, (nn.Linear, nn.Conv2d)):
        return module
    raise ValueError(f"expected a DenseLayer, Transition, nn.Conv2d or nn.Linear; got {type(module).__name__}")


@torch.no_grad()
def source_weights(block: DenseBlock, after: nn.Module | None = None) -> torch.Tensor:
    """The paper's Figure 5 for one dense block: how strongly each target layer uses each source.

    Entry (s, t) is the mean absolute weight of target t's first convolution over the input maps
    that come from source s: s = 0 is the block's input (k_0 maps), s = 1 ... L the new maps of layer
    s (k each); t = 1 ... L are the block's layers (column t - 1), and ``after``, if given (the
    transition's convolution or the classifier that reads the block's output), is one more column.
    The mean over a source's maps normalises by their number, as the paper's figure does ("the
    average L1 norm (normalized by number of input feature-maps)"). A target reads only the sources
    before it: entries with s >= t are NaN.

    Args:
        block: a ``DenseBlock``.
        after: the module reading the block's output: a ``Transition``, ``nn.Conv2d`` or ``nn.Linear``.

    Returns:
        A tensor of shape (L + 1, L), or (L + 1, L + 1) with ``after``.
    """
    if not isinstance(block, DenseBlock):
        raise ValueError(f"block must be a DenseBlock; got {type(block).__name__}")
    targets = list(block.children()) + ([after] if after is not None else [])
    sizes = [block.in_channels] + [block.growth_rate] * (len(targets) - (after is not None))
    result = torch.full((len(sizes), len(targets)), float("nan"))
    for t, target in enumerate(targets):
        weight = _first_conv(target).weight.detach().abs().float()
        reads = sizes[: t + 1]
        if weight.shape[1] != sum(reads):
            raise ValueError(f"target {t + 1} reads {weight.shape[1]} maps; the block gives it {sum(reads)}")
        for s, part in enumerate(weight.split(reads, dim=1)):
            result[s, t] = part.mean()
    return result


def _init_weights(model: nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.zeros_(module.bias)


def _dense_stages(features: nn.Sequential, channels: int, block_config: Sequence[int], growth_rate: int,
                  bn_size: int | None, compression: float, dropout: float, memory_efficient: bool) -> int:
    """Append dense blocks and the transitions between them to ``features``; return the maps at the end."""
    for i, num_layers in enumerate(block_config):
        block = DenseBlock(num_layers, channels, growth_rate, bn_size=bn_size, dropout=dropout,
                           memory_efficient=memory_efficient)
        features.add_module(f"denseblock{i + 1}", block)
        channels = block.out_channels
        if i != len(block_config) - 1:
            out_channels = int(channels * compression)
            features.add_module(f"transition{i + 1}", Transition(channels, out_channels))
            channels = out_channels
    return channels


def _check_compression(compression: object) -> None:
    if isinstance(compression, bool) or not isinstance(compression, (int, float)) or not 0 < compression <= 1:
        raise ValueError(f"compression must be in (0, 1] (theta; 0.5 for DenseNet-C); got {compression!r}")


class DenseNet(nn.Module):
    """The ImageNet DenseNet-BC of Table 1 (torchvision's twin).

    Args:
        growth_rate: k (32; 48 for DenseNet-161).
        block_config: the layers of the four dense blocks.
        num_init_features: the first convolution's maps (2k).
        bn_size: the bottleneck's width in units of k (4).
        compression: theta, the fraction of maps a transition keeps (0.5).
        dropout: the probability of dropping each new map value (0: none).
        num_classes: the width of the last layer (1000).
        in_channels: image channels.
        memory_efficient: checkpoint each layer's concatenation and bottleneck (see ``DenseLayer``).
    """

    def __init__(
        self,
        growth_rate: int = 32,
        block_config: Sequence[int] = (6, 12, 24, 16),
        num_init_features: int = 64,
        bn_size: int = 4,
        compression: float = 0.5,
        dropout: float = 0.0,
        num_classes: int = 1000,
        in_channels: int = 3,
        memory_efficient: bool = False,
    ) -> None:
        super().__init__()
        check_counts(growth_rate=growth_rate, num_init_features=num_init_features, num_classes=num_classes,
                     in_channels=in_channels)
        _check_compression(compression)
        if len(block_config) != 4:
            raise ValueError(f"block_config must give the layers of four dense blocks; got {block_config!r}")
        # Three 2x2 average poolings must each find at least 2x2 maps: 32x32 in gives 8 -> 4 -> 2 -> 1.
        self.input_spec = InputSpec(in_channels, (224, 224), fixed=False, min_size=29)
        self.input_size = self.input_spec.shape
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(in_channels, num_init_features, kernel_size=7, stride=2, padding=3, bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]))
        channels = _dense_stages(self.features, num_init_features, block_config, growth_rate, bn_size, compression,
                                 dropout, memory_efficient)
        self.features.add_module("norm5", nn.BatchNorm2d(channels))
        self.classifier = nn.Linear(channels, num_classes)
        self.num_features = channels
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.input_spec)
        x = self.features(x)                             # (N, num_features, 7, 7)
        x = F.relu(x, inplace=True)                      # (N, num_features, 7, 7)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)  # (N, num_features): global average pooling
        return self.classifier(x)                        # (N, num_classes)


class CifarDenseNet(nn.Module):
    """The CIFAR DenseNets of Sec. 3 ("Implementation details"): three dense blocks of equal size.

    Args:
        depth: L, the network's layers: (L - 4) / 3 per block, or (L - 4) / 6 with ``bottleneck``.
        growth_rate: k (12, 24 or 40 in Table 2).
        bottleneck: DenseNet-B's 1x1 convolutions (to 4k maps) before each 3x3.
        compression: theta (1 for DenseNet, 0.5 for DenseNet-C / -BC).
        dropout: the probability of dropping each new map value (the paper's 0.2 without augmentation).
        num_classes: 10 for CIFAR-10.
        in_channels: image channels.
        memory_efficient: checkpoint each layer's concatenation and bottleneck (see ``DenseLayer``).
    """

    def __init__(
        self,
        depth: int = 40,
        growth_rate: int = 12,
        bottleneck: bool = False,
        compression: float = 1.0,
        dropout: float = 0.0,
        num_classes: int = 10,
        in_channels: int = 3,
        memory_efficient: bool = False,
    ) -> None:
        super().__init__()
        check_counts(growth_rate=growth_rate, num_classes=num_classes, in_channels=in_channels)
        _check_compression(compression)
        per_layer = 6 if bottleneck else 3
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 4 + per_layer or (depth - 4) % per_layer:
            kind = "(L - 4) / 6 with bottleneck" if bottleneck else "(L - 4) / 3"
            raise ValueError(f"depth must give a whole number of layers per block, {kind} >= 1; got {depth!r}")
        layers = (depth - 4) // per_layer
        self.depth = depth
        self.layers_per_block = layers
        self.input_spec = InputSpec(in_channels, (32, 32), fixed=False, min_size=4)
        self.input_size = self.input_spec.shape
        first = 2 * growth_rate if bottleneck else 16
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(in_channels, first, kernel_size=3, padding=1, bias=False)),
        ]))
        channels = _dense_stages(self.features, first, (layers,) * 3, growth_rate, 4 if bottleneck else None,
                                 compression, dropout, memory_efficient)
        self.features.add_module("norm_final", nn.BatchNorm2d(channels))
        self.classifier = nn.Linear(channels, num_classes)
        self.num_features = channels
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.input_spec)
        x = self.features(x)                               # (N, num_features, 8, 8)
        x = F.relu(x)                                      # (N, num_features, 8, 8)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)  # (N, num_features): global average pooling
        return self.classifier(x)                          # (N, num_classes)


def _imagenet(growth_rate: int, block_config: tuple[int, ...], num_init_features: int):
    def build(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.0,
              memory_efficient: bool = False) -> DenseNet:
        return DenseNet(growth_rate, block_config, num_init_features, num_classes=num_classes,
                        in_channels=in_channels, dropout=dropout, memory_efficient=memory_efficient)

    depth = 2 * sum(block_config) + 5  # two convolutions per layer, conv0, three transitions, the classifier
    build.__doc__ = (
        f"DenseNet-{depth} (BC, k = {growth_rate}, blocks {block_config}), Table 1 of Huang et al. (2017); "
        "torchvision's twin."
    )
    return build


def _cifar(depth: int, growth_rate: int, bc: bool, table_2: str):
    def build(num_classes: int = 10, in_channels: int = 3, dropout: float = 0.0,
              memory_efficient: bool = False) -> CifarDenseNet:
        return CifarDenseNet(depth, growth_rate, bottleneck=bc, compression=0.5 if bc else 1.0,
                             num_classes=num_classes, in_channels=in_channels, dropout=dropout,
                             memory_efficient=memory_efficient)

    build.__doc__ = (f"DenseNet{'-BC' if bc else ''} (L = {depth}, k = {growth_rate}) for CIFAR, Table 2 of "
                     f"Huang et al. (2017): {table_2} parameters.")
    return build


# Table 1 (ImageNet): growth rate, layers per block, the first convolution's maps.
densenet121 = register("densenet121")(_imagenet(32, (6, 12, 24, 16), 64))
densenet161 = register("densenet161")(_imagenet(48, (6, 12, 36, 24), 96))
densenet169 = register("densenet169")(_imagenet(32, (6, 12, 32, 32), 64))
densenet201 = register("densenet201")(_imagenet(32, (6, 12, 48, 32), 64))

# Table 2 (CIFAR): L, k, BC, and the "Params" column.
densenet_40_12 = register("densenet_40_12")(_cifar(40, 12, False, "1.0 M"))
densenet_bc_100_12 = register("densenet_bc_100_12")(_cifar(100, 12, True, "0.8 M"))
densenet_bc_250_24 = register("densenet_bc_250_24")(_cifar(250, 24, True, "15.3 M"))
densenet_bc_190_40 = register("densenet_bc_190_40")(_cifar(190, 40, True, "25.6 M"))
