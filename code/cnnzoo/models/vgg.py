"""VGG: very deep networks of small 3x3 convolutions, the six columns of the paper's Table 1.

K. Simonyan and A. Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015 (arXiv:1409.1556), Sections 2 and 3, Tables 1 and 2.

The idea: keep every design choice fixed (3x3 convolutions with stride 1 and padding 1,
2x2 max pooling with stride 2, ReLU after every weight layer, three fully connected layers
at the end) and add depth only. A stack of two 3x3 convolutions sees a 5x5 region and
three see 7x7, with fewer weights than one 5x5 or 7x7 layer (27C^2 against 49C^2 for three
layers of C channels, Sec. 2.3) and one ReLU per layer instead of one in all. Five max
poolings halve the maps, and the width doubles after each pooling, from 64 channels to 512.
The paper compares six networks, the columns of Table 1, from 11 weight layers (A) to 19
(E); D and E are the "VGG-16" and "VGG-19" used everywhere since.

Hyper-parameters in words, with the paper's notation:
    * ``column``: the configuration, a column letter of Table 1 ("A", "A-LRN", "B", "C",
      "D", "E"). Each layer is written as the paper writes it: "conv<k>-<channels>" is a
      k x k convolution ("conv3-64", "conv1-256"), "maxpool" is 2x2 max pooling with stride
      2, "LRN" is local response normalisation, "FC-<width>" a fully connected layer.
    * ``num_classes``: the width of the last layer, FC-1000 in the paper (ILSVRC's classes).
    * ``in_channels``: image channels (3, the paper's RGB input with its mean subtracted).
    * ``batch_norm``: batch normalisation after every convolution (torchvision's ``_bn``
      models; not in the paper, see the deviations).

Registered names (``TABLE_1`` below holds the columns; ``COLUMNS`` maps names to columns):

    ============  ======  ==============  ==========================================
    name          column  weight layers   parameters (1000 classes)
    ============  ======  ==============  ==========================================
    vgg11         A       11              132,863,336 (Table 2: 133 M)
    vgg11_lrn     A-LRN   11              132,863,336 (Table 2: 133 M; LRN has none)
    vgg13         B       13              133,047,848 (Table 2: 133 M)
    vgg16_c       C       16              133,638,952 (Table 2: 134 M)
    vgg16         D       16              138,357,544 (Table 2: 138 M)
    vgg19         E       19              143,667,240 (Table 2: 144 M)
    ============  ======  ==============  ==========================================

``vgg11``, ``vgg13``, ``vgg16`` and ``vgg19`` are torchvision's models of the same names,
parameter for parameter (``features.N``, ``classifier.N``, in the same order), so that
torchvision's published weights load into them (``cnnzoo.models.pretrained``); ``vgg11_bn``,
``vgg13_bn``, ``vgg16_bn`` and ``vgg19_bn`` are torchvision's ``_bn`` twins (132,868,840,
133,053,736, 138,365,992 and 143,678,248 parameters). ``vgg11_lrn`` (column A-LRN: A with
LRN after its first layer) and ``vgg16_c`` (column C: B plus a 1x1 convolution at the end
of the last three stages, 16 weight layers like D) have no torchvision twin.

Input size: the paper trains on 224x224 crops (Sec. 2.1), where five poolings leave 7x7
maps for the first FC layer. At test time it runs the network "densely" over a whole
rescaled image: the FC layers become convolutions (the first a 7x7 one, the other two 1x1)
and the class scores are averaged over the resulting map (Sec. 3.2), so any size works
there. This module keeps torchvision's structure instead: an ``AdaptiveAvgPool2d((7, 7))``
before the classifier, which does nothing at 224x224 and brings other sizes to 7x7. Any
input of at least 32x32 works (``input_spec.min_size``): below that the fifth pooling has
nothing left to pool.

Deviations from the paper:
    * ``AdaptiveAvgPool2d((7, 7))`` before the classifier, torchvision's (see above); the
      paper's own test-time network is the fully convolutional one of Sec. 3.2.
    * ``forward`` returns the scores before the soft-max (the last row of Table 1): the
      soft-max belongs to the loss (``cross_entropy``).
    * Initialisation: He et al.'s (2015) normal initialisation for the convolutions (as
      torchvision does), not the paper's scheme; see ``_init_weights``.
    * ``batch_norm=True`` (the ``_bn`` models) adds ``BatchNorm2d`` between each convolution
      and its ReLU (Ioffe and Szegedy, 2015, published after the paper), as torchvision does.
    * LRN (column A-LRN only) uses ``nn.LocalResponseNorm`` with Krizhevsky et al.'s (2012)
      constants, as Sec. 2.1 says: n = 5, k = 2, alpha = 1e-4, beta = 0.75 in their formula
      b = a / (k + alpha * sum a^2)^beta. PyTorch divides its ``alpha`` by n, so the layer is
      built with ``alpha = 5 * 1e-4``.
"""

from __future__ import annotations

import re
from typing import Sequence

import torch
import torch.fx
from torch import nn

from . import register
from ._checks import InputSpec, check_counts, check_images
from .alexnet import local_response_norm  # A-LRN uses Krizhevsky et al.'s LRN and constants (Sec. 2.1)

__all__ = [
    "VGG",
    "TABLE_1",
    "PAPER_PARAMETERS_MILLIONS",
    "COLUMNS",
    "make_features",
    "make_classifier",
    "weight_layers",
    "vgg11",
    "vgg11_bn",
    "vgg11_lrn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg16_c",
    "vgg19",
    "vgg19_bn",
]

INPUT_SIZE = (224, 224)

# torch.fx traces check_images as one call in the graph instead of tracing into it (see _checks).
torch.fx.wrap("check_images")

# --------------------------------------------------------------------------- helpers


def _conv_layer(layer: str) -> tuple[int, int] | None:
    """ "conv3-64" -> (3, 64): kernel size and output channels; None for any other layer."""
    match = re.fullmatch(r"conv(\d+)-(\d+)", layer)
    return (int(match.group(1)), int(match.group(2))) if match else None


def weight_layers(column: Sequence[str]) -> int:
    """The number of weight layers (convolutions and FC layers) in a column of Table 1."""
    return sum(1 for layer in column if layer.startswith(("conv", "FC-")))


def make_features(column: Sequence[str], in_channels: int = 3, batch_norm: bool = False) -> nn.Sequential:
    """The convolutional part of a column of Table 1: everything before its first FC layer.

    Every convolution has stride 1 and keeps the map size (padding 1 for 3x3, 0 for 1x1),
    and is followed by a ReLU (Sec. 2.1); with ``batch_norm``, by ``BatchNorm2d`` and then
    the ReLU. The layers are numbered as in torchvision's ``make_layers``.

    Args:
        column: the column's layers, as the paper writes them ("conv3-64", "maxpool", ...).
        in_channels: the image channels.
        batch_norm: insert batch normalisation after each convolution (not in the paper).
    """
    layers: list[nn.Module] = []
    channels = in_channels
    for layer in column:
        if layer.startswith("FC-"):
            break
        conv = _conv_layer(layer)
        if conv is not None:
            kernel_size, out_channels = conv
            layers.append(nn.Conv2d(channels, out_channels, kernel_size, padding=kernel_size // 2))
            if batch_norm:  # Deviation: batch norm is not in the paper (torchvision's _bn models)
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.ReLU(inplace=True))
            channels = out_channels
        elif layer == "maxpool":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        elif layer == "LRN":  # after the first layer's ReLU, as in Krizhevsky et al. (2012)
            layers.append(local_response_norm())
        else:
            raise ValueError(f"unknown layer {layer!r}: expected 'conv<k>-<channels>', 'maxpool', 'LRN' or 'FC-<width>'")
    return nn.Sequential(*layers)


def make_classifier(column: Sequence[str], in_features: int, num_classes: int = 1000) -> nn.Sequential:
    """The fully connected part of a column: FC-4096, FC-4096, FC-1000 in every column.

    The hidden FC layers are followed by a ReLU and dropout with ratio 0.5 (Sec. 3.1: "dropout
    regularisation for the first two fully-connected layers"); the last one, FC-1000 in the
    paper, has ``num_classes`` outputs.

    Args:
        column: the column's layers, as the paper writes them.
        in_features: the number of inputs of the first FC layer (512 x 7 x 7 = 25,088).
        num_classes: the width of the last layer.
    """
    widths = [int(layer[len("FC-"):]) for layer in column if layer.startswith("FC-")]
    if not widths:
        raise ValueError(f"a column needs at least one 'FC-<width>' layer; got {list(column)}")
    layers: list[nn.Module] = []
    for width in widths[:-1]:
        layers += [nn.Linear(in_features, width), nn.ReLU(inplace=True), nn.Dropout(p=0.5)]
        in_features = width
    layers.append(nn.Linear(in_features, num_classes))  # FC-1000 in the paper
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- the network


class VGG(nn.Module):
    """A VGG network built from one column of the paper's Table 1.

    Args:
        column: the column's letter(s) in Table 1: "A", "A-LRN", "B", "C", "D" or "E".
        num_classes: the width of the last FC layer (1000 ILSVRC classes in the paper).
        in_channels: image channels (3 for RGB).
        batch_norm: batch normalisation after each convolution (torchvision's ``_bn`` models;
            not in the paper).
    """

    def __init__(self, column: str = "D", num_classes: int = 1000, in_channels: int = 3, batch_norm: bool = False) -> None:
        super().__init__()
        if column not in TABLE_1:
            raise ValueError(f"column must be one of Table 1's {list(TABLE_1)}; got {column!r}")
        check_counts(num_classes=num_classes, in_channels=in_channels)
        layers = TABLE_1[column]
        self.column = column
        self.in_channels = in_channels
        # Each 2x2 pooling with stride 2 halves the size, rounding down: 2^5 = 32 is the
        # smallest size that leaves the fifth pooling a 1x1 map (31 would leave it nothing).
        min_size = 2 ** layers.count("maxpool")
        self.input_spec = InputSpec(in_channels, INPUT_SIZE, fixed=False, min_size=min_size)
        self.input_size = self.input_spec.shape  # (C, H, W) the network is described for
        last_channels = [conv[1] for layer in layers if (conv := _conv_layer(layer))][-1]
        self.features = make_features(layers, in_channels, batch_norm)
        # Deviation: torchvision's adaptive pooling to the 7x7 maps the first FC layer was
        # made for; identity at 224x224 (the paper's test-time network is convolutional, Sec. 3.2).
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = make_classifier(layers, last_channels * 7 * 7, num_classes)
        self.apply(_init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.input_spec)
        x = self.features(x)          # (N, 512, 7, 7): five stages of convolutions and poolings
        x = self.avgpool(x)           # (N, 512, 7, 7): 7x7 whatever the input size
        x = torch.flatten(x, 1)       # (N, 25088)
        return self.classifier(x)     # (N, num_classes): scores for a soft-max


def _init_weights(module: nn.Module) -> None:
    """He et al.'s normal initialisation for convolutions, as torchvision initialises VGG.

    Convolutions: N(0, 2 / fan_out), fan_out = out_channels x k x k (K. He, X. Zhang, S. Ren
    and J. Sun, "Delving deep into rectifiers", ICCV 2015, Sec. 2.2); FC layers: N(0, 0.01^2);
    biases 0; batch norm: scale 1, shift 0.

    The paper's own scheme (Sec. 3.1) does not fit one builder: it drew the weights of
    network A from a normal distribution with zero mean and variance 1e-2 and zero biases,
    trained A, and then started the deeper networks with A's first four convolutions and
    its three FC layers, the other layers drawn at random, because "bad initialisation can
    stall learning due to the instability of gradient in deep nets". It adds that, after
    submission, it found that Glorot and Bengio's (2010) random initialisation trains them
    without pre-training. He et al.'s scheme is Glorot's corrected for the ReLU (a factor 2),
    and He et al. train 22- and 30-layer VGG-like networks from scratch with it, where
    Glorot's stalls at 30 layers (their Sec. 2.2); it is also torchvision's, so our twins
    start from the same distribution.
    """
    if isinstance(module, nn.Conv2d):
        nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.01)
        nn.init.zeros_(module.bias)


# --------------------------------------------------------------------------- Table 1

_FC = ("FC-4096", "FC-4096", "FC-1000", "soft-max")  # the last rows, the same in every column

# Simonyan and Zisserman (2015), Table 1: the ConvNet configurations, one column each, top
# to bottom, each layer as the paper writes it (ReLUs not shown, as in the paper).
TABLE_1: dict[str, tuple[str, ...]] = {
    # Table 1, column "A": 11 weight layers
    "A": (
        "conv3-64", "maxpool",
        "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
        *_FC,
    ),
    # Table 1, column "A-LRN": 11 weight layers
    "A-LRN": (
        "conv3-64", "LRN", "maxpool",
        "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
        *_FC,
    ),
    # Table 1, column "B": 13 weight layers
    "B": (
        "conv3-64", "conv3-64", "maxpool",
        "conv3-128", "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
        *_FC,
    ),
    # Table 1, column "C": 16 weight layers
    "C": (
        "conv3-64", "conv3-64", "maxpool",
        "conv3-128", "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "conv1-256", "maxpool",
        "conv3-512", "conv3-512", "conv1-512", "maxpool",
        "conv3-512", "conv3-512", "conv1-512", "maxpool",
        *_FC,
    ),
    # Table 1, column "D": 16 weight layers
    "D": (
        "conv3-64", "conv3-64", "maxpool",
        "conv3-128", "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "conv3-256", "maxpool",
        "conv3-512", "conv3-512", "conv3-512", "maxpool",
        "conv3-512", "conv3-512", "conv3-512", "maxpool",
        *_FC,
    ),
    # Table 1, column "E": 19 weight layers
    "E": (
        "conv3-64", "conv3-64", "maxpool",
        "conv3-128", "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "conv3-256", "conv3-256", "maxpool",
        "conv3-512", "conv3-512", "conv3-512", "conv3-512", "maxpool",
        "conv3-512", "conv3-512", "conv3-512", "conv3-512", "maxpool",
        *_FC,
    ),
}

# Simonyan and Zisserman (2015), Table 2: parameters in millions, as printed (rounded).
PAPER_PARAMETERS_MILLIONS: dict[str, int] = {"A": 133, "A-LRN": 133, "B": 133, "C": 134, "D": 138, "E": 144}

# Registered name -> column of Table 1 (the _bn models use the same columns).
COLUMNS: dict[str, str] = {
    "vgg11": "A", "vgg11_lrn": "A-LRN", "vgg13": "B", "vgg16_c": "C", "vgg16": "D", "vgg19": "E",
}

# --------------------------------------------------------------------------- builders


@register("vgg11")
def vgg11(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """Column A: 8 convolutions and 3 FC layers; torchvision's ``vgg11`` (132,863,336 parameters)."""
    return VGG("A", num_classes=num_classes, in_channels=in_channels)


@register("vgg11_bn")
def vgg11_bn(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """Column A with batch norm; torchvision's ``vgg11_bn`` (132,868,840 parameters)."""
    return VGG("A", num_classes=num_classes, in_channels=in_channels, batch_norm=True)


@register("vgg11_lrn")
def vgg11_lrn(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """Column A-LRN: A with LRN after the first convolution (132,863,336 parameters; no twin)."""
    return VGG("A-LRN", num_classes=num_classes, in_channels=in_channels)


@register("vgg13")
def vgg13(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """Column B: 10 convolutions and 3 FC layers; torchvision's ``vgg13`` (133,047,848 parameters)."""
    return VGG("B", num_classes=num_classes, in_channels=in_channels)


@register("vgg13_bn")
def vgg13_bn(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """Column B with batch norm; torchvision's ``vgg13_bn`` (133,053,736 parameters)."""
    return VGG("B", num_classes=num_classes, in_channels=in_channels, batch_norm=True)


@register("vgg16_c")
def vgg16_c(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """Column C: B plus three 1x1 convolutions, 16 weight layers (133,638,952 parameters; no twin)."""
    return VGG("C", num_classes=num_classes, in_channels=in_channels)


@register("vgg16")
def vgg16(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """Column D, "VGG-16": 13 convolutions and 3 FC layers; torchvision's ``vgg16`` (138,357,544 parameters)."""
    return VGG("D", num_classes=num_classes, in_channels=in_channels)


@register("vgg16_bn")
def vgg16_bn(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """Column D with batch norm; torchvision's ``vgg16_bn`` (138,365,992 parameters)."""
    return VGG("D", num_classes=num_classes, in_channels=in_channels, batch_norm=True)


@register("vgg19")
def vgg19(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """Column E, "VGG-19": 16 convolutions and 3 FC layers; torchvision's ``vgg19`` (143,667,240 parameters)."""
    return VGG("E", num_classes=num_classes, in_channels=in_channels)


@register("vgg19_bn")
def vgg19_bn(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """Column E with batch norm; torchvision's ``vgg19_bn`` (143,678,248 parameters)."""
    return VGG("E", num_classes=num_classes, in_channels=in_channels, batch_norm=True)
