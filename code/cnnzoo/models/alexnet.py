"""AlexNet, in two forms (the 2012 paper's two-tower network and torchvision's single tower), and ZFNet.

A. Krizhevsky, I. Sutskever and G. E. Hinton, "ImageNet classification with deep convolutional
neural networks", NIPS 2012 (Sections 3.1-3.5, 4.2 and 5). A. Krizhevsky, "One weird trick for
parallelizing convolutional neural networks", arXiv:1404.5997, 2014 (torchvision's AlexNet).
M. D. Zeiler and R. Fergus, "Visualizing and understanding convolutional networks", ECCV 2014
(Sections 2 and 3, Figure 3; Sec. 4.1, "Architecture Selection", for the changes to AlexNet's
first layers; Tables 2 and 3 for the wider variant).

The idea: LeNet-5's recipe (convolution, pooling, fully connected layers) made wide and deep
enough for 1.2 million ImageNet photographs: five convolutional layers and three fully connected
ones, 60 million parameters, trained on two GPUs. What made it train: ReLU units instead of
tanh (Sec. 3.1), which learn several times faster; local response normalisation across kernel
maps (Sec. 3.3); overlapping max pooling, 3x3 windows two pixels apart (Sec. 3.4); dropout in
the first two fully connected layers (Sec. 4.2); and data augmentation (Sec. 4.1, not a part of
the network).

``alexnet_2012`` is the network of the 2012 paper (Sec. 3.5, Figure 2):
    * conv1: 96 kernels 11x11x3, stride 4; ReLU; response normalisation; max pool 3x3, stride 2;
    * conv2: 256 kernels 5x5x48; ReLU; response normalisation; max pool 3x3, stride 2;
    * conv3: 384 kernels 3x3x256; conv4: 384 kernels 3x3x192; conv5: 256 kernels 3x3x192;
      ReLU after each; max pool 3x3, stride 2 after conv5;
    * fc6, fc7: 4096 ReLU units each, with dropout 0.5 on their outputs; fc8: 1000 scores.
  The network ran on two GPUs, half of every layer's kernels on each. "The kernels of the second,
  fourth, and fifth convolutional layers are connected only to those kernel maps in the previous
  layer which reside on the same GPU" (Sec. 3.5): that is why conv2's kernels are 5x5x48 (48 of
  conv1's 96 maps) and conv4's and conv5's are 3x3x192. Here those layers are grouped
  convolutions with ``groups=2``: the first half of the output maps reads only the first half of
  the input maps, the second half only the second. conv3 and the fully connected layers read
  both towers (``groups=1``). This is the book's first grouped convolution. LeNet-5's C3 (its
  Table I, ``lenet.C3_CONNECTIONS``) was the first sparse connection between maps, chosen by
  hand to break symmetry; AlexNet's groups were forced by GPU memory; ResNeXt (Xie et al.
  2017) makes the number of groups, its "cardinality", a design choice of its own.
  It has 60,965,224 parameters; the paper says "60 million" (abstract, Sec. 4).

``alexnet`` is torchvision's AlexNet, its twin: a single tower with 64-192-384-256-256 kernels,
no response normalisation, the layer names and order of ``torchvision.models.alexnet``, so that
torchvision's published weights load into it (``cnnzoo.models.pretrained``). 61,100,840
parameters.

``zfnet`` is Zeiler and Fergus' network (their Figure 3): AlexNet on one GPU (dense connections
throughout: no groups) with a smaller, denser first layer, chosen by looking at its filters
(Sec. 4.1, "Architecture Selection"): 96 filters of 7x7 with stride 2 instead of 11x11 with
stride 4, which left dead filters and aliasing, and conv2 with stride 2. Each of layers 1 and 2
is convolution, ReLU, max pooling 3x3 with stride 2, then "contrast normalized across feature
maps" (Figure 3's caption); layers 3-5 keep AlexNet's 384-384-256 maps. Sizes in Figure 3:
224 -> 110 -> 55 -> 26 -> 13 -> 13 -> 13 -> 13 -> 6, and fc6 reads 6x6x256 = 9216 values.
62,357,608 parameters (the paper prints none).
``zfnet(variant="wide")`` has 512-1024-512 maps in layers 3-5: the ZF paper trains it in its
Table 2 of ImageNet 2012 error rates (row "(b)", "1 convnet as per Fig. 3 but with layers 3,4,5:
512,1024,512 maps") and in its Table 3 of architecture changes ("Adjust layers 3,4,5:
512,1024,512 maps"); it is not the network of Figure 3. CS231n's lecture slides call this
wider network ZFNet ("CONV3,4,5: instead of 384, 384, 256 filters use 512, 1024, 512", beside
"CONV1: change from (11x11 stride 4) to (7x7 stride 2)"); the 7x7 stride-2 layer is in the ZF
paper's Figure 3 and its Sec. 4.1.

Hyper-parameters in words, with the papers' symbols:
    * response normalisation (Sec. 3.3): b^i = a^i / (k + alpha * sum_j (a^j)^2)^beta, the sum
      over the n maps j around map i (from max(0, i - n/2) to min(N - 1, i + n/2), N maps in the
      layer); k = 2, n = 5, alpha = 1e-4, beta = 0.75 (``PAPER_LRN``);
    * pooling (Sec. 3.4): windows of z x z = 3x3 units spaced s = 2 apart; z > s overlaps;
    * ``dropout``: the probability of dropping a unit of fc6 and fc7, 0.5 (Sec. 4.2).

Deviations:
    * Input size (``alexnet_2012``): the paper says 224x224x3 (Sec. 3.5; its Figure 2 gives the
      input as 150,528 = 224 * 224 * 3 values), but an 11x11 kernel with stride 4 and no padding
      fits floor((224 - 11) / 4) + 1 = 54 times into 224 pixels, not the figure's 55. We keep the
      paper's layer sizes (55-27-27-13-13-13-13-6 of Figure 2) and take 227x227 images, on which
      conv1 gives (227 - 11) / 4 + 1 = 55 exactly without padding (Caffe's choice). torchvision
      takes the other way out: 224x224 with 2 pixels of padding, floor((224 + 4 - 11) / 4) + 1 = 55.
      The paper names no padding; conv2 (5x5) needs 2 and conv3-5 (3x3) need 1 to keep
      27x27 and 13x13, as Figure 2 shows.
    * Adaptive pooling (``alexnet_2012``, ``zfnet``): an ``AdaptiveAvgPool2d((6, 6))`` before
      fc6, as torchvision has. At the paper's input size its input is already 6x6 and it is the
      identity; it lets quick mode feed smaller images (down to ``min_size``). The papers have
      no such layer.
    * Initialisation (``alexnet_2012``) is the paper's (Sec. 5): weights from N(0, 0.01^2),
      biases 1 in conv2, conv4, conv5, fc6 and fc7 ("to accelerate the early stages of learning
      by providing the ReLUs with positive inputs"), 0 elsewhere. ``alexnet`` keeps PyTorch's
      default initialisation, as torchvision's does.
    * torchvision's twin (``alexnet``) drops the inputs of fc6 and fc7 (dropout before each),
      where the 2012 paper drops the outputs of fc6 and fc7; it has no response normalisation,
      other widths, 2 pixels of padding in conv1, and adaptive pooling. The twin keeps all of
      this: it must equal torchvision's model, whose weights are published.
    * ZFNet's padding and pooling: Figure 3 names no padding. Its sizes follow from 1 pixel of
      padding in conv1 (floor((224 + 2 - 7) / 2) + 1 = 110), none in conv2 ((55 - 5) / 2 + 1 = 26),
      1 in conv3-5, and pooling that keeps a last, partial window (``ceil_mode=True``:
      110 -> 55, 26 -> 13, 13 -> 6; PyTorch's default floor would give 54, 12 and 6).
    * ZFNet's normalisation: the paper says "a local contrast operation that normalizes the
      responses across feature maps" (Sec. 2), pointing to Krizhevsky et al. and to Jarrett et
      al. (2009), without constants. We use AlexNet's response normalisation with AlexNet's
      constants, after the pooling as Figure 3 draws it (AlexNet normalises before pooling).
    * ZFNet's initialisation: "All weights are initialized to 10^-2 and biases are set to 0"
      (Sec. 3). Equal weights would make every filter of a layer identical for ever, so we read
      10^-2 as the standard deviation of normal weights, as in AlexNet. The paper's renormalisation
      of filters whose RMS exceeds 0.1 during training is ``renormalize_filters``, a function to
      call after each optimiser step, not a part of the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from . import register
from ._checks import InputSpec, check_counts, check_images, check_probability

__all__ = [
    "AlexNet",
    "AlexNet2012",
    "ZFNet",
    "ZFWidths",
    "local_response_norm",
    "renormalize_filters",
    "PAPER_LRN",
    "PAPER_KERNELS",
    "PAPER_NEURONS",
    "PAPER_TOTAL_PARAMETERS",
    "PAPER_TOTAL_NEURONS",
    "ZF_WIDTHS",
    "alexnet",
    "alexnet_2012",
    "zfnet",
]

# torch.fx traces check_images as one call in the graph instead of tracing into it (see _checks).
torch.fx.wrap("check_images")

TORCHVISION_INPUT_SIZE = (224, 224)  # torchvision's AlexNet (and its published weights)
PAPER_INPUT_SIZE = (227, 227)        # gives Figure 2's 55x55 first layer (see Deviations)
ZF_INPUT_SIZE = (224, 224)           # Zeiler and Fergus, Figure 3

# Krizhevsky et al. 2012, Sec. 3.3: the response normalisation's constants.
PAPER_LRN: dict[str, float] = {"k": 2.0, "n": 5, "alpha": 1e-4, "beta": 0.75}

# Krizhevsky et al. 2012, Sec. 3.5: each layer's kernels, (number, depth, height, width). A depth
# below the previous layer's maps (48 of 96, 192 of 384) is the two-GPU split.
PAPER_KERNELS: dict[str, tuple[int, int, int, int]] = {
    "conv1": (96, 3, 11, 11),
    "conv2": (256, 48, 5, 5),
    "conv3": (384, 256, 3, 3),
    "conv4": (384, 192, 3, 3),
    "conv5": (256, 192, 3, 3),
}

# Krizhevsky et al. 2012, Figure 2's caption: "the number of neurons in the network's remaining
# layers is given by 253,440-186,624-64,896-64,896-43,264-4096-4096-1000". The first number is
# not conv1's 55 * 55 * 96 = 290,400 (the figure itself draws 55x55x48 on each GPU); the others
# are the outputs of conv2 (27 * 27 * 256), conv3, conv4 (13 * 13 * 384), conv5 (13 * 13 * 256)
# and the fully connected layers.
PAPER_NEURONS: dict[str, int] = {
    "conv1": 253_440, "conv2": 186_624, "conv3": 64_896, "conv4": 64_896, "conv5": 43_264,
    "fc6": 4096, "fc7": 4096, "fc8": 1000,
}
PAPER_TOTAL_NEURONS = 650_000        # abstract: "60 million parameters and 650,000 neurons"
PAPER_TOTAL_PARAMETERS = 60_000_000  # abstract and Sec. 4: "60 million parameters"

# --------------------------------------------------------------------------- helpers


def local_response_norm(
    n: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0
) -> nn.LocalResponseNorm:
    """Response normalisation across kernel maps, with the paper's symbols (Sec. 3.3).

    b^i = a^i / (k + alpha * sum_j (a^j)^2)^beta, j from max(0, i - n/2) to min(N - 1, i + n/2).
    PyTorch's ``nn.LocalResponseNorm`` divides its ``alpha`` by ``size`` (it averages the squares
    over the window, zeros beyond the first and last map), so it is given ``alpha * n``.

    Args:
        n: the number of adjacent maps summed over (odd, so that the window is centred).
        alpha, beta, k: the paper's constants (defaults: Sec. 3.3).
    """
    if not (isinstance(n, int) and n > 0 and n % 2 == 1):
        raise ValueError(f"n must be a positive odd int (a window centred on the map); got {n!r}")
    return nn.LocalResponseNorm(size=n, alpha=alpha * n, beta=beta, k=k)


def renormalize_filters(model: nn.Module, radius: float = 0.1) -> None:
    """Scale each convolution filter whose RMS exceeds ``radius`` back to ``radius`` (ZF, Sec. 3).

    Zeiler and Fergus renormalise the filters during training so that a few first-layer filters
    cannot dominate; call it after each optimiser step. A filter is one output map's weights.

    Args:
        model: any network; its ``nn.Conv2d`` layers are renormalised in place.
        radius: the largest RMS a filter keeps (the paper's 10^-1).
    """
    if not radius > 0:
        raise ValueError(f"radius must be positive; got {radius!r}")
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                rms = module.weight.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt()
                module.weight.mul_(torch.clamp(radius / rms, max=1.0))


def _init_paper(module: nn.Module) -> None:
    """Weights from N(0, 0.01^2) and zero biases (Krizhevsky et al. 2012, Sec. 5; ZF Sec. 3).

    The biases that AlexNet starts at 1 are set by its own ``_init_weights``.
    """
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.normal_(module.weight, mean=0.0, std=0.01)
        nn.init.zeros_(module.bias)


# --------------------------------------------------------------------------- networks


class AlexNet(nn.Module):
    """torchvision's AlexNet, parameter for parameter (the twin; see the module docstring).

    Args:
        num_classes: the number of output scores.
        in_channels: image channels (torchvision's weights need 3).
        dropout: the probability of dropping each input of the first two fully connected layers.
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> None:
        super().__init__()
        check_counts(num_classes=num_classes, in_channels=in_channels)
        check_probability(dropout=dropout)
        self.in_channels = in_channels
        # 63x63 is the smallest input whose maps stay non-empty (torchvision's "min_size" too).
        self.input_spec = InputSpec(in_channels, TORCHVISION_INPUT_SIZE, fixed=False, min_size=63)
        self.input_size = self.input_spec.shape
        # The names and order of torchvision.models.alexnet: features.0, .3, .6, .8, .10; classifier.1, .4, .6.
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),  # Deviation (torchvision): drops fc6's inputs, not its outputs
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )
        # Initialisation: PyTorch's defaults, as torchvision's AlexNet (no init of its own).

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.input_spec)
        x = self.features(x)         # (N, 256, 6, 6)
        x = self.avgpool(x)          # (N, 256, 6, 6)
        x = torch.flatten(x, 1)      # (N, 9216)
        return self.classifier(x)    # (N, num_classes)


class AlexNet2012(nn.Module):
    """The network of Krizhevsky et al. (2012), its two GPUs as groups (see the module docstring).

    Args:
        num_classes: the number of output scores (1000 ImageNet classes).
        in_channels: image channels.
        dropout: the probability of dropping each output of fc6 and fc7 (Sec. 4.2: 0.5).
    """

    towers = 2  # the two GPUs of Sec. 3.2

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> None:
        super().__init__()
        check_counts(num_classes=num_classes, in_channels=in_channels)
        check_probability(dropout=dropout)
        self.in_channels = in_channels
        self.input_spec = InputSpec(in_channels, PAPER_INPUT_SIZE, fixed=False, min_size=67)
        self.input_size = self.input_spec.shape
        pool = {"kernel_size": 3, "stride": 2}  # overlapping pooling: z = 3 > s = 2 (Sec. 3.4)
        self.conv1 = nn.Conv2d(in_channels, 96, kernel_size=11, stride=4)  # Deviation: 227x227 input, no padding
        self.norm1 = local_response_norm()
        self.pool1 = nn.MaxPool2d(**pool)
        self.conv2 = nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=self.towers)   # 5x5x48: its own tower
        self.norm2 = local_response_norm()
        self.pool2 = nn.MaxPool2d(**pool)
        self.conv3 = nn.Conv2d(256, 384, kernel_size=3, padding=1)                      # 3x3x256: both towers
        self.conv4 = nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=self.towers)  # 3x3x192
        self.conv5 = nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=self.towers)  # 3x3x192
        self.pool5 = nn.MaxPool2d(**pool)
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))  # Deviation: the identity at 227x227
        self.fc6 = nn.Linear(256 * 6 * 6, 4096)
        self.dropout6 = nn.Dropout(p=dropout)
        self.fc7 = nn.Linear(4096, 4096)
        self.dropout7 = nn.Dropout(p=dropout)
        self.fc8 = nn.Linear(4096, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        """N(0, 0.01^2) weights; biases 1 in conv2, conv4, conv5, fc6, fc7, 0 elsewhere (Sec. 5)."""
        self.apply(_init_paper)
        for layer in (self.conv2, self.conv4, self.conv5, self.fc6, self.fc7):
            nn.init.ones_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.input_spec)
        x = F.relu(self.conv1(x))         # (N, 96, 55, 55)
        x = self.norm1(x)                 # (N, 96, 55, 55)
        x = self.pool1(x)                 # (N, 96, 27, 27)
        x = F.relu(self.conv2(x))         # (N, 256, 27, 27): each tower's 128 maps read its own 48
        x = self.norm2(x)                 # (N, 256, 27, 27)
        x = self.pool2(x)                 # (N, 256, 13, 13)
        x = F.relu(self.conv3(x))         # (N, 384, 13, 13): the towers talk
        x = F.relu(self.conv4(x))         # (N, 384, 13, 13)
        x = F.relu(self.conv5(x))         # (N, 256, 13, 13)
        x = self.pool5(x)                 # (N, 256, 6, 6)
        x = self.avgpool(x)               # (N, 256, 6, 6)
        x = torch.flatten(x, 1)           # (N, 9216)
        x = self.dropout6(F.relu(self.fc6(x)))  # (N, 4096)
        x = self.dropout7(F.relu(self.fc7(x)))  # (N, 4096)
        return self.fc8(x)                # (N, num_classes)


@dataclass(frozen=True)
class ZFWidths:
    """The number of feature maps of ZFNet's five convolutional layers (layer1 ... layer5)."""

    layer1: int
    layer2: int
    layer3: int
    layer4: int
    layer5: int


# Zeiler and Fergus 2014: "figure3" is Figure 3; "wide" is the row "1 convnet as per Fig. 3 but
# with layers 3,4,5: 512,1024,512 maps - (b)" of their Table 2 (ImageNet 2012 error rates).
ZF_WIDTHS: dict[str, ZFWidths] = {
    "figure3": ZFWidths(96, 256, 384, 384, 256),  # 62,357,608 parameters
    "wide": ZFWidths(96, 256, 512, 1024, 512),    # 107,627,624 parameters
}


class ZFNet(nn.Module):
    """Zeiler and Fergus' network (their Figure 3; see the module docstring).

    Args:
        num_classes: the number of output scores.
        in_channels: image channels.
        variant: ``"figure3"`` (the paper's Figure 3) or ``"wide"`` (512-1024-512 maps in layers 3-5).
        dropout: the probability of dropping each output of layers 6 and 7 (0.5, Sec. 3).
    """

    def __init__(
        self, num_classes: int = 1000, in_channels: int = 3, variant: str = "figure3", dropout: float = 0.5
    ) -> None:
        super().__init__()
        check_counts(num_classes=num_classes, in_channels=in_channels)
        if variant not in ZF_WIDTHS:
            raise ValueError(f"variant must be one of {sorted(ZF_WIDTHS)}; got {variant!r}")
        check_probability(dropout=dropout)
        widths = ZF_WIDTHS[variant]
        self.variant = variant
        self.in_channels = in_channels
        self.input_spec = InputSpec(in_channels, ZF_INPUT_SIZE, fixed=False, min_size=47)
        self.input_size = self.input_spec.shape
        pool = {"kernel_size": 3, "stride": 2, "ceil_mode": True}  # Deviation: ceil gives Figure 3's sizes
        self.conv1 = nn.Conv2d(in_channels, widths.layer1, kernel_size=7, stride=2, padding=1)
        self.pool1 = nn.MaxPool2d(**pool)
        self.norm1 = local_response_norm()  # Deviation: AlexNet's constants for ZF's contrast normalisation
        self.conv2 = nn.Conv2d(widths.layer1, widths.layer2, kernel_size=5, stride=2)
        self.pool2 = nn.MaxPool2d(**pool)
        self.norm2 = local_response_norm()
        self.conv3 = nn.Conv2d(widths.layer2, widths.layer3, kernel_size=3, padding=1)
        self.conv4 = nn.Conv2d(widths.layer3, widths.layer4, kernel_size=3, padding=1)
        self.conv5 = nn.Conv2d(widths.layer4, widths.layer5, kernel_size=3, padding=1)
        self.pool5 = nn.MaxPool2d(**pool)
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))  # Deviation: the identity at 224x224
        self.fc6 = nn.Linear(widths.layer5 * 6 * 6, 4096)
        self.dropout6 = nn.Dropout(p=dropout)
        self.fc7 = nn.Linear(4096, 4096)
        self.dropout7 = nn.Dropout(p=dropout)
        self.fc8 = nn.Linear(4096, num_classes)
        self.apply(_init_paper)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.input_spec)
        x = F.relu(self.conv1(x))         # (N, 96, 110, 110)
        x = self.pool1(x)                 # (N, 96, 55, 55)
        x = self.norm1(x)                 # (N, 96, 55, 55)
        x = F.relu(self.conv2(x))         # (N, 256, 26, 26)
        x = self.pool2(x)                 # (N, 256, 13, 13)
        x = self.norm2(x)                 # (N, 256, 13, 13)
        x = F.relu(self.conv3(x))         # (N, 384, 13, 13)
        x = F.relu(self.conv4(x))         # (N, 384, 13, 13)
        x = F.relu(self.conv5(x))         # (N, 256, 13, 13)
        x = self.pool5(x)                 # (N, 256, 6, 6)
        x = self.avgpool(x)               # (N, 256, 6, 6)
        x = torch.flatten(x, 1)           # (N, 9216)
        x = self.dropout6(F.relu(self.fc6(x)))  # (N, 4096)
        x = self.dropout7(F.relu(self.fc7(x)))  # (N, 4096)
        return self.fc8(x)                # (N, num_classes)


# --------------------------------------------------------------------------- builders


@register("alexnet")
def alexnet(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> AlexNet:
    """torchvision's AlexNet, its twin: 61,100,840 parameters with 1000 classes."""
    return AlexNet(num_classes=num_classes, in_channels=in_channels, dropout=dropout)


@register("alexnet_2012")
def alexnet_2012(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> AlexNet2012:
    """AlexNet as in Krizhevsky et al. (2012): 60,965,224 parameters with 1000 classes ("60 million")."""
    return AlexNet2012(num_classes=num_classes, in_channels=in_channels, dropout=dropout)


@register("zfnet")
def zfnet(num_classes: int = 1000, in_channels: int = 3, variant: str = "figure3", dropout: float = 0.5) -> ZFNet:
    """ZFNet as in Zeiler and Fergus (2014), Figure 3: 62,357,608 parameters with 1000 classes."""
    return ZFNet(num_classes=num_classes, in_channels=in_channels, variant=variant, dropout=dropout)
