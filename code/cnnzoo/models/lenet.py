"""LeNet-5, in two forms: the network as published, and the modern variant taught today.

Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning applied to
document recognition", Proceedings of the IEEE 86(11), 1998, Section II.B and Appendix A.

The idea: alternate convolutions, which detect the same local feature everywhere in the
image with shared weights, with subsampling, which lowers the resolution so that the
exact position of a feature matters less; finish with fully connected layers. Seven
layers, 32x32 input: C1 (conv) - S2 (subsample) - C3 (conv) - S4 (subsample) - C5 (conv)
- F6 (full) - output. The paper names its layers with a letter (C convolution,
S subsampling, F full) and the layer's index; so does this module.

``lenet5_1998`` follows the paper:
    * C3 sees only some of S2's maps, by the connection table of Table I (1,516 parameters
      instead of 2,416 for a full C3);
    * the squashing function is the scaled tanh f(a) = A tanh(S a), A = 1.7159, S = 2/3
      (Appendix A);
    * S2 and S4 add up each 2x2 block, multiply by one trainable coefficient per map, add a
      trainable bias per map and squash;
    * the output layer is made of Euclidean radial basis function (RBF) units,
      y_i = sum_j (x_j - w_ij)^2, whose 84-component centres are fixed +1/-1 codes drawn as
      7x12 bitmaps of the digits;
    * weights start uniform in (-2.4/F, 2.4/F), F being the unit's fan-in (Appendix A).
  It has 60,000 trainable parameters, the number the paper gives; ``PAPER_PARAMETERS`` and
  ``PAPER_CONNECTIONS`` hold the paper's count for each layer.

``lenet5`` is the variant most courses teach: a full C3, ReLU (or plain tanh), max (or
average) pooling without trainable coefficients, and a linear output layer whose scores go
to a softmax. It has 61,706 parameters.

Deviations from the paper (``lenet5_1998``):
    * The RBF centres are our own 7x12 drawings of the digits; the paper's bitmaps are in
      its Figure 3 and not reproduced exactly. For ``num_classes`` other than 10 the
      centres are random +1/-1 codes, which the paper names as an equally valid choice.
    * ``forward`` returns the negated RBF penalties -y_i, so that the largest output is the
      predicted class and ``cross_entropy`` on the output is the paper's loss (eq. 9)
      without its "rubbish class" term (the limit j -> infinity).
    * The paper trains with a stochastic diagonal Levenberg-Marquardt method; the book
      trains both variants with Adam.

Input size: both variants take 32x32 images only (``input_spec.fixed``). C5 is a 5x5
convolution that turns S4's 5x5 maps into 120 single values, and F6 is fully connected to
those 120 values. The paper calls C5 a convolution because on a larger input its maps would
be larger than 1x1 (Sec. II.B), and Section VII runs the network that way, as a sliding
window over a whole word (the space displacement neural network); it never pools the maps
to 1x1 for one classification. An adaptive pooling layer before F6 would be a new network,
not LeNet-5, and quick mode already has 32x32 digits, so the size stays fixed.
"""

from __future__ import annotations

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from . import register
from ._checks import InputSpec, check_counts, check_images

__all__ = [
    "LeNet5",
    "LeNet5Paper",
    "scaled_tanh",
    "Subsampling",
    "PartialConv2d",
    "RBFOutput",
    "C3_CONNECTIONS",
    "DIGIT_BITMAPS",
    "PAPER_PARAMETERS",
    "PAPER_CONNECTIONS",
    "PAPER_TOTAL_PARAMETERS",
    "PAPER_TOTAL_CONNECTIONS",
    "lenet5",
    "lenet5_1998",
]

INPUT_SIZE = (32, 32)

# torch.fx traces check_images as one call in the graph instead of tracing into it (see _checks).
torch.fx.wrap("check_images")

# LeCun et al. 1998, Sec. II.B: the trainable parameters and the connections of each layer of
# lenet5_1998, keyed by this module's layer names, and the totals the paper gives.
PAPER_TOTAL_PARAMETERS = 60_000
PAPER_TOTAL_CONNECTIONS = 340_908
PAPER_PARAMETERS: dict[str, int] = {"c1": 156, "s2": 12, "c3": 1_516, "s4": 32, "c5": 48_120, "f6": 10_164}
PAPER_CONNECTIONS: dict[str, int] = {
    "c1": 122_304, "s2": 5_880, "c3": 151_600, "s4": 2_000, "c5": 48_120, "f6": 10_164,
    # The paper prints no count for the output layer: its total, 340,908, exceeds the printed
    # layers by 840, one connection from each of the 84 F6 units to each of the 10 RBF units.
    "output": 840,
}

# --------------------------------------------------------------------------- helpers


def scaled_tanh(x: torch.Tensor, amplitude: float = 1.7159, slope: float = 2 / 3) -> torch.Tensor:
    """The paper's squashing function f(a) = A tanh(S a), A = 1.7159, S = 2/3 (Appendix A).

    These constants make f(1) = 1 and f(-1) = -1, and put the largest second derivative
    of f at a = +-1, where the targets lie.
    """
    return amplitude * torch.tanh(slope * x)


# One node in a traced graph (analysis, diagrams), not three (mul, tanh, mul).
torch.fx.wrap("scaled_tanh")


class Subsampling(nn.Module):
    """S2 and S4: sum each 2x2 block, times a trainable coefficient, plus a trainable bias.

    One coefficient and one bias per feature map, so 2 parameters a map (S2: 6 maps,
    12 parameters; S4: 16 maps, 32 parameters). The blocks do not overlap (stride 2).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.kernel_size = 2
        self.stride = 2
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block_sum = F.avg_pool2d(x, kernel_size=2, stride=2) * 4  # sum of each 2x2 block
        return block_sum * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return f"channels={self.weight.numel()}, kernel_size=2, stride=2"

    def diagram_label(self) -> tuple[str, str]:
        return "pool", "subsample 2×2, /2\n(trainable)"


# Table I of the paper: which S2 maps (rows 0-5) each C3 map (columns 0-15) reads.
# Maps 0-5 read 3 neighbouring maps, 6-11 read 4 neighbouring maps, 12-14 read 4 maps
# that are not all neighbours, and map 15 reads all 6.
C3_CONNECTIONS: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


class PartialConv2d(nn.Module):
    """A convolution in which output map k reads only the input maps ``connections[k]``.

    It is one small ``Conv2d`` per output map, so the parameter count is exactly the
    number of connections the table allows (C3: 1,516).
    """

    def __init__(self, connections: tuple[tuple[int, ...], ...], kernel_size: int) -> None:
        super().__init__()
        self.connections = tuple(tuple(c) for c in connections)
        self.in_channels = max(max(c) for c in self.connections) + 1
        self.out_channels = len(self.connections)
        self.kernel_size = (kernel_size, kernel_size)
        self.stride = (1, 1)
        self.padding = (0, 0)
        self.maps = nn.ModuleList(nn.Conv2d(len(c), 1, kernel_size) for c in self.connections)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = [conv(x[:, list(inputs)]) for conv, inputs in zip(self.maps, self.connections)]
        return torch.cat(outputs, dim=1)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, connections=Table I"

    def diagram_label(self) -> tuple[str, str]:
        return "conv", f"conv {self.kernel_size[0]}×{self.kernel_size[1]}, {self.out_channels}\n(Table I)"


# 7x12 drawings of the digits ('#' = +1, '.' = -1): the centres of the RBF output units.
DIGIT_BITMAPS: dict[int, tuple[str, ...]] = {
    0: (".......", "..###..", ".#...#.", "#.....#", "#.....#", "#.....#",
        "#.....#", "#.....#", "#.....#", ".#...#.", "..###..", "......."),
    1: (".......", "...#...", "..##...", ".#.#...", "...#...", "...#...",
        "...#...", "...#...", "...#...", "...#...", ".#####.", "......."),
    2: (".......", "..###..", ".#...#.", "#.....#", "......#", ".....#.",
        "....#..", "...#...", "..#....", ".#.....", "#######", "......."),
    3: (".......", ".#####.", "#.....#", "......#", "......#", "..####.",
        "......#", "......#", "......#", "#.....#", ".#####.", "......."),
    4: (".......", ".....#.", "....##.", "...#.#.", "..#..#.", ".#...#.",
        "#....#.", "#######", ".....#.", ".....#.", ".....#.", "......."),
    5: (".......", "#######", "#......", "#......", "#......", "######.",
        "......#", "......#", "......#", "#.....#", ".#####.", "......."),
    6: (".......", "..####.", ".#.....", "#......", "#......", "######.",
        "#.....#", "#.....#", "#.....#", "#.....#", ".#####.", "......."),
    7: (".......", "#######", "......#", ".....#.", ".....#.", "....#..",
        "....#..", "...#...", "...#...", "..#....", "..#....", "......."),
    8: (".......", ".#####.", "#.....#", "#.....#", "#.....#", ".#####.",
        "#.....#", "#.....#", "#.....#", "#.....#", ".#####.", "......."),
    9: (".......", ".#####.", "#.....#", "#.....#", "#.....#", "#.....#",
        ".######", "......#", "......#", ".....#.", ".####..", "......."),
}


def digit_codes() -> torch.Tensor:
    """The 10 RBF centres as a (10, 84) tensor of +1/-1, one 7x12 bitmap per row."""
    rows = []
    for digit in range(10):
        bitmap = "".join(DIGIT_BITMAPS[digit])
        rows.append([1.0 if pixel == "#" else -1.0 for pixel in bitmap])
    return torch.tensor(rows)


class RBFOutput(nn.Module):
    """Euclidean RBF units: y_i = sum_j (x_j - w_ij)^2, with fixed centres w_i (Section II.B).

    The centres are a buffer, not parameters: the paper chose them by hand and kept them
    fixed. The output is the penalty y_i; a small y_i means "x looks like class i".
    """

    def __init__(self, centres: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("centres", centres.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        difference = x.unsqueeze(1) - self.centres.unsqueeze(0)  # (N, classes, 84)
        return difference.pow(2).sum(dim=-1)                    # (N, classes)

    def extra_repr(self) -> str:
        classes, features = self.centres.shape
        return f"in_features={features}, out_features={classes}, centres=fixed"

    def diagram_label(self) -> tuple[str, str]:
        return "fc", f"RBF {self.centres.shape[0]}"


# --------------------------------------------------------------------------- networks


class LeNet5(nn.Module):
    """The modern LeNet-5: full C3, ReLU or tanh, max or average pooling, linear output.

    Args:
        num_classes: the number of output scores (10 digits).
        in_channels: image channels (1 for grey digits).
        activation: ``"relu"`` (default) or ``"tanh"``.
        pool: ``"max"`` (default) or ``"avg"``: 2x2 pooling with stride 2, no parameters.
    """

    def __init__(
        self, num_classes: int = 10, in_channels: int = 1, activation: str = "relu", pool: str = "max"
    ) -> None:
        super().__init__()
        activations = {"relu": F.relu, "tanh": torch.tanh}
        pools = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}
        if activation not in activations:
            raise ValueError(f"activation must be one of {sorted(activations)}; got {activation!r}")
        if pool not in pools:
            raise ValueError(f"pool must be one of {sorted(pools)}; got {pool!r}")
        check_counts(num_classes=num_classes, in_channels=in_channels)
        self.in_channels = in_channels
        self.input_spec = InputSpec(in_channels, INPUT_SIZE)  # 32x32 only: C5 and F6 fix the size
        self.input_size = self.input_spec.shape  # (C, H, W) the network is built for
        self.activation = activation
        self.act = activations[activation]
        self.c1 = nn.Conv2d(in_channels, 6, kernel_size=5)
        self.s2 = pools[pool](kernel_size=2, stride=2)
        self.c3 = nn.Conv2d(6, 16, kernel_size=5)
        self.s4 = pools[pool](kernel_size=2, stride=2)
        self.c5 = nn.Linear(16 * 5 * 5, 120)  # the same 48,120 weights as a 5x5 convolution on 5x5 maps
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.input_spec)
        x = self.act(self.c1(x))      # (N, 6, 28, 28)
        x = self.s2(x)                # (N, 6, 14, 14)
        x = self.act(self.c3(x))      # (N, 16, 10, 10)
        x = self.s4(x)                # (N, 16, 5, 5)
        x = torch.flatten(x, 1)       # (N, 400)
        x = self.act(self.c5(x))      # (N, 120)
        x = self.act(self.f6(x))      # (N, 84)
        return self.output(x)         # (N, num_classes): scores for a softmax


class LeNet5Paper(nn.Module):
    """LeNet-5 as published in 1998 (see the module docstring for every difference).

    Args:
        num_classes: the number of RBF output units (10 digits, with the bitmap centres).
        in_channels: image channels (1 for grey digits).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        check_counts(num_classes=num_classes, in_channels=in_channels)
        self.in_channels = in_channels
        self.input_spec = InputSpec(in_channels, INPUT_SIZE)  # 32x32 only: C5 and F6 fix the size
        self.input_size = self.input_spec.shape  # (C, H, W) the network is built for
        self.c1 = nn.Conv2d(in_channels, 6, kernel_size=5)
        self.s2 = Subsampling(6)
        self.c3 = PartialConv2d(C3_CONNECTIONS, kernel_size=5)
        self.s4 = Subsampling(16)
        self.c5 = nn.Conv2d(16, 120, kernel_size=5)
        self.f6 = nn.Linear(120, 84)
        if num_classes == 10:
            centres = digit_codes()
        else:  # Deviation: random +1/-1 codes, which the paper names as a valid choice.
            generator = torch.Generator().manual_seed(0)
            centres = torch.randint(0, 2, (num_classes, 84), generator=generator).float() * 2 - 1
        self.output = RBFOutput(centres)
        self.apply(_init_weights_1998)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.input_spec)
        x = scaled_tanh(self.c1(x))   # (N, 6, 28, 28)
        x = scaled_tanh(self.s2(x))   # (N, 6, 14, 14)
        x = scaled_tanh(self.c3(x))   # (N, 16, 10, 10)
        x = scaled_tanh(self.s4(x))   # (N, 16, 5, 5)
        x = scaled_tanh(self.c5(x))   # (N, 120, 1, 1)
        x = torch.flatten(x, 1)       # (N, 120)
        x = scaled_tanh(self.f6(x))   # (N, 84)
        penalties = self.output(x)    # (N, num_classes): distance to each class's centre
        return -penalties             # Deviation: negated, so that the largest is the prediction


def _init_weights_1998(module: nn.Module) -> None:
    """Uniform in (-2.4/F, 2.4/F), F the fan-in of the unit (LeCun et al. 1998, Appendix A).

    Biases, which the paper does not mention, start at zero.
    """
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        fan_in = module.weight[0].numel()
        nn.init.uniform_(module.weight, -2.4 / fan_in, 2.4 / fan_in)
        nn.init.zeros_(module.bias)
    elif isinstance(module, Subsampling):
        fan_in = 4  # a 2x2 block
        nn.init.uniform_(module.weight, -2.4 / fan_in, 2.4 / fan_in)
        nn.init.zeros_(module.bias)


# --------------------------------------------------------------------------- builders


@register("lenet5")
def lenet5(num_classes: int = 10, in_channels: int = 1, activation: str = "relu", pool: str = "max") -> LeNet5:
    """The modern LeNet-5 (61,706 parameters with 10 classes)."""
    return LeNet5(num_classes=num_classes, in_channels=in_channels, activation=activation, pool=pool)


@register("lenet5_1998")
def lenet5_1998(num_classes: int = 10, in_channels: int = 1) -> LeNet5Paper:
    """LeNet-5 as in LeCun et al. (1998): 60,000 trainable parameters with 10 classes."""
    return LeNet5Paper(num_classes=num_classes, in_channels=in_channels)
