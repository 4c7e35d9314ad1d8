"""Network in Network: mlpconv layers and global average pooling, for CIFAR-10.

M. Lin, Q. Chen and S. Yan, "Network In Network", ICLR 2014 (arXiv:1312.4400), Sections 3 and
4.1-4.2, Figure 2.

The idea: a convolution is a generalised linear model of each image patch, followed by a
nonlinearity. NiN replaces it with a small multilayer perceptron slid over the image, the
"mlpconv" layer: an ordinary convolution followed by 1x1 convolutions, each with ReLU
(Sec. 3.1, eq. 2). The paper calls the 1x1 layers "cascaded cross channel parametric pooling"
(cccp): at every position they mix the channels with learned weights. The last mlpconv layer
produces one feature map per class; the network ends with global average pooling of each map
(Sec. 3.2) instead of fully connected layers: no parameters to overfit, and each map reads as
a confidence map of its class.

``nin`` is the CIFAR-10 network of Sec. 4.2 (Figure 2 shows its structure): "three stacked
mlpconv layers", each followed by "a spatial max pooling layer which downsamples the input
image by a factor of two" (Sec. 4.1) except the last, which is followed by the global average
pooling; "dropout is applied on the outputs of all but the last mlpconv layers" (Sec. 4.1).
The paper does not print the layers' widths or kernels (its Sec. 4.1 points to the authors'
code). They come from two copies found by our search, not from the original files:
    * mlpconv 1: a copy of the authors' cuda-convnet layer definition (its header cites
      https://github.com/mavenlin/cuda-convnet/tree/master/NIN): conv1, 192 filters of 5x5
      with padding 2; cccp1, 160 outputs; cccp2, 96 outputs; ReLU after each; max pooling
      3x3 with stride 2; dropout 0.5. We could read only this part of it.
    * mlpconv 2 and 3: a third-party PyTorch port of the same model, which agrees with the
      first layer above: 192 filters of 5x5 (padding 2), then 192 and 192 outputs; 192 filters
      of 3x3 (padding 1), then 192 outputs and the class maps. Treat these as checked against
      a port, not against the authors' file.
The number of maps of the last layer, one per class, is the paper's (Sec. 3.2).

ImageNet: the paper trains NiN on CIFAR-10, CIFAR-100, SVHN and MNIST only; it describes no
ImageNet network, so none is built here (an "NIN ImageNet" model later appeared in the Caffe
model zoo, outside the paper).

Hyper-parameters in words, with the paper's terms:
    * ``num_classes``: the number of maps of the last mlpconv layer, one per class (10 for
      CIFAR-10);
    * ``dropout``: the probability of dropping each output of the first two mlpconv layers
      (after their pooling; 0.5 in the authors' definition).
    * ``head``: ``"gap"`` (the paper's) averages each class map; ``"fc"`` puts a fully connected
      layer from all the class maps' values to the scores instead, the "NIN + fully connected
      layers" of the paper's comparison (Sec. 4.6, "the other parts kept the same"). The paper
      does not give that layer's shape: one linear layer from the flattened class maps is our
      reading. It fixes the input size (``input_size``).
    * ``layers``: the three mlpconv layers' widths (``MLPCONV_LAYERS`` by default; the chapter's
      experiment passes narrower ones to train on a CPU).
    * ``input_size``: the images' size, which the ``"fc"`` head needs (default CIFAR-10's 32x32).

Deviations:
    * Pooling rounds up (``ceil_mode=True``, as cuda-convnet and Caffe do): 32 -> 16 -> 8
      with 3x3 windows and stride 2 (rounding down would give 15 and 7).
    * The second pooling is a max pooling, as Sec. 4.1 says of every mlpconv layer; we could
      not read the authors' definition of it (some ports average there).
    * Global average pooling is ``AdaptiveAvgPool2d(1)``: the mean of each whole map, at any
      input size.
    * ``forward`` returns the pooled class maps as scores for a soft-max (the loss applies it).
      The last cccp layer keeps its ReLU (eq. 2 puts one after every layer of the mlpconv), so
      the scores are >= 0.
    * Initialisation: the paper gives none; we use He et al.'s (2015) normal initialisation
      for every convolution and zero biases.

966,986 parameters with 10 classes (the paper prints no count).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from . import register
from ._checks import InputSpec, check_counts, check_images, check_probability

__all__ = ["MLPConvSpec", "MLPCONV_LAYERS", "HEADS", "MLPConv", "NiN", "nin"]

# torch.fx traces check_images as one call in the graph instead of tracing into it (see _checks).
torch.fx.wrap("check_images")

INPUT_SIZE = (32, 32)  # CIFAR-10's images


@dataclass(frozen=True)
class MLPConvSpec:
    """One mlpconv layer: a ``kernel_size`` convolution to ``conv`` maps, then 1x1 layers to
    ``cccp1`` and ``cccp2`` maps (``cccp2=None``: as many maps as classes)."""

    kernel_size: int
    conv: int
    cccp1: int
    cccp2: int | None


# The CIFAR-10 network's three mlpconv layers (see the module docstring for the sources).
MLPCONV_LAYERS: tuple[MLPConvSpec, ...] = (
    MLPConvSpec(kernel_size=5, conv=192, cccp1=160, cccp2=96),   # the authors' definition (a copy)
    MLPConvSpec(kernel_size=5, conv=192, cccp1=192, cccp2=192),  # a third-party port (see above)
    MLPConvSpec(kernel_size=3, conv=192, cccp1=192, cccp2=None),  # one map per class
)


class MLPConv(nn.Module):
    """An mlpconv layer (Sec. 3.1): a convolution and two 1x1 convolutions, each with ReLU.

    The convolution keeps the map size (padding ``kernel_size // 2``).

    Args:
        in_channels: the input's maps.
        kernel_size: the first convolution's kernel.
        conv, cccp1, cccp2: the numbers of output maps of the three layers.
    """

    def __init__(self, in_channels: int, kernel_size: int, conv: int, cccp1: int, cccp2: int) -> None:
        super().__init__()
        check_counts(in_channels=in_channels, kernel_size=kernel_size, conv=conv, cccp1=cccp1, cccp2=cccp2)
        self.out_channels = cccp2
        self.conv = nn.Conv2d(in_channels, conv, kernel_size, padding=kernel_size // 2)
        self.cccp1 = nn.Conv2d(conv, cccp1, kernel_size=1)
        self.cccp2 = nn.Conv2d(cccp1, cccp2, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv(x))   # (N, conv, H, W)
        x = F.relu(self.cccp1(x))  # (N, cccp1, H, W): a perceptron layer at every position
        return F.relu(self.cccp2(x))  # (N, cccp2, H, W)


HEADS = ("gap", "fc")


def _pooled(size: int) -> int:
    """The side of a map after a 3x3, stride-2 max pooling that rounds up (ceil_mode)."""
    return math.ceil((size - 3) / 2) + 1


def _check_layers(layers: object) -> None:
    """Three ``MLPConvSpec``, the last with ``cccp2=None`` (its maps are the classes')."""
    if not (isinstance(layers, tuple) and len(layers) == 3 and all(isinstance(s, MLPConvSpec) for s in layers)):
        raise ValueError(f"layers must be a tuple of three MLPConvSpec; got {layers!r}")
    if layers[2].cccp2 is not None or any(s.cccp2 is None for s in layers[:2]):
        raise ValueError(
            "layers: the last MLPConvSpec must have cccp2=None (one map per class) and the others a width; "
            f"got cccp2={[s.cccp2 for s in layers]}"
        )


class NiN(nn.Module):
    """Network in Network for CIFAR-10 (Sec. 4.2; see the module docstring).

    Args:
        num_classes: the number of classes, and of maps of the last mlpconv layer.
        in_channels: image channels.
        dropout: the probability of dropping each output of the first two mlpconv layers.
        head: ``"gap"``, global average pooling (the paper's), or ``"fc"``, a fully connected layer.
        layers: the widths of the three mlpconv layers.
        input_size: the (height, width) of the images; the ``"fc"`` head accepts only this size.
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 3,
        dropout: float = 0.5,
        head: str = "gap",
        layers: tuple[MLPConvSpec, ...] = MLPCONV_LAYERS,
        input_size: tuple[int, int] = INPUT_SIZE,
    ) -> None:
        super().__init__()
        check_counts(num_classes=num_classes, in_channels=in_channels)
        check_probability(dropout=dropout)
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}; got {head!r}")
        _check_layers(layers)
        self.in_channels = in_channels
        self.head = head
        if head == "gap":
            # 4x4 is the smallest input the two poolings (rounding up) leave a map: 4 -> 2 -> 1.
            self.input_spec = InputSpec(in_channels, input_size, fixed=False, min_size=4)
        else:
            self.input_spec = InputSpec(in_channels, input_size, fixed=True)  # the fc layer fixes the size
            if min(input_size) < 4:
                raise ValueError(f"input_size must be at least 4x4 (two poolings); got {input_size!r}")
        self.input_size = self.input_spec.shape
        first, second, third = layers
        pool = {"kernel_size": 3, "stride": 2, "ceil_mode": True}  # Deviation: ceil, as cuda-convnet
        self.mlpconv1 = MLPConv(in_channels, first.kernel_size, first.conv, first.cccp1, first.cccp2)
        self.pool1 = nn.MaxPool2d(**pool)
        self.dropout1 = nn.Dropout(p=dropout)
        self.mlpconv2 = MLPConv(first.cccp2, second.kernel_size, second.conv, second.cccp1, second.cccp2)
        self.pool2 = nn.MaxPool2d(**pool)
        self.dropout2 = nn.Dropout(p=dropout)
        self.mlpconv3 = MLPConv(second.cccp2, third.kernel_size, third.conv, third.cccp1, num_classes)
        if head == "gap":
            self.global_pool = nn.AdaptiveAvgPool2d(1)  # global average pooling (Sec. 3.2)
        else:
            height, width = (_pooled(_pooled(side)) for side in input_size)
            self.fc = nn.Linear(num_classes * height * width, num_classes)  # Sec. 4.6's alternative
        self.apply(_init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.input_spec)
        x = self.mlpconv1(x)              # (N, 96, 32, 32)
        x = self.pool1(x)                 # (N, 96, 16, 16)
        x = self.dropout1(x)              # (N, 96, 16, 16)
        x = self.mlpconv2(x)              # (N, 192, 16, 16)
        x = self.pool2(x)                 # (N, 192, 8, 8)
        x = self.dropout2(x)              # (N, 192, 8, 8)
        x = self.mlpconv3(x)              # (N, num_classes, 8, 8): one confidence map per class
        if self.head == "fc":  # Sec. 4.6's alternative: every value of every map, weighted, gives the scores
            return self.fc(torch.flatten(x, 1))
        x = self.global_pool(x)           # (N, num_classes, 1, 1): each map's mean
        return torch.flatten(x, 1)        # (N, num_classes)


def _init_weights(module: nn.Module) -> None:
    """He et al.'s normal initialisation for convolutions, zero biases (the paper gives none).

    The ``"fc"`` head's linear layer keeps PyTorch's default initialisation.

    N(0, 2 / fan_out), fan_out = out_channels x k x k (K. He, X. Zhang, S. Ren and J. Sun,
    "Delving deep into rectifiers", ICCV 2015, Sec. 2.2).
    """
    if isinstance(module, nn.Conv2d):
        nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(module.bias)


@register("nin")
def nin(
    num_classes: int = 10,
    in_channels: int = 3,
    dropout: float = 0.5,
    head: str = "gap",
    layers: tuple[MLPConvSpec, ...] = MLPCONV_LAYERS,
    input_size: tuple[int, int] = INPUT_SIZE,
) -> NiN:
    """Network in Network for CIFAR-10 (Lin et al. 2014): 966,986 parameters with 10 classes.

    ``head="fc"`` replaces the global average pooling by a fully connected layer (Sec. 4.6).
    """
    return NiN(num_classes=num_classes, in_channels=in_channels, dropout=dropout, head=head,
               layers=layers, input_size=input_size)
