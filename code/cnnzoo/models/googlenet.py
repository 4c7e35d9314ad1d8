"""GoogLeNet: the Inception module, the paper's network (Table 1) and torchvision's twin.

C. Szegedy, W. Liu, Y. Jia, P. Sermanet, S. Reed, D. Anguelov, D. Erhan, V. Vanhoucke and
A. Rabinovich, "Going deeper with convolutions", CVPR 2015 (arXiv:1409.4842), Sections 4-5,
Table 1 and Figure 3.

The idea: instead of choosing one filter size per layer, run a 1x1, a 3x3 and a 5x5
convolution and a 3x3 max pooling side by side on the same input and concatenate their
outputs along the depth (the *naive* Inception module, Figure 2(a); ``NaiveInception``).
Stacked, the naive module grows in depth (the pooling branch passes all its input maps on)
and its 5x5 convolutions become expensive. The Inception module of Figure 2(b) (``Inception``)
puts 1x1 convolutions before the 3x3 and 5x5 convolutions ("reduce") and after the pooling
("pool proj"): they shrink the depth first, so that the large filters read few maps. GoogLeNet
stacks nine such modules, 22 layers with parameters (27 with the poolings), and ends with a
global average pooling and one linear layer instead of AlexNet's fully connected layers.

An Inception module is given by a keyword spec, the columns of Table 1 (``InceptionSpec``):
``ch1x1`` (#1x1), ``ch3x3_reduce`` (#3x3 reduce), ``ch3x3`` (#3x3), ``ch5x5_reduce``
(#5x5 reduce), ``ch5x5`` (#5x5) and ``pool_proj`` (pool proj). Its output depth is
ch1x1 + ch3x3 + ch5x5 + pool_proj.

``googlenet_2014`` is the network of Table 1: convolutions with biases and ReLU, no batch
normalisation, local response normalisation where Figure 3 has it (after the first max
pooling, and after the 3x3 convolution before the second), true 5x5 convolutions, and the two
auxiliary classifiers of Section 5 on top of inception (4a) and (4d), each: average pooling
5x5 with stride 3 (14x14 -> 4x4), a 1x1 convolution with 128 filters and ReLU, a fully
connected layer of 1024 units with ReLU, dropout with 70% of the outputs dropped, and a linear
layer to the classes. Their losses are added to the main one with weight 0.3 during training
(``cnnzoo.training.fit(..., aux_weight=0.3)``); at inference they are removed. So in training
mode ``forward`` returns the tuple ``(main, aux1, aux2)``; in eval mode only ``main``.
``TABLE_1`` holds the paper's table as data; the parameters and multiply-adds of our layers
are checked against its params and ops columns in ``tests/test_googlenet.py``.

``googlenet`` is torchvision's GoogLeNet, its twin: the parameter names, shapes and order of
``torchvision.models.googlenet(weights=None)`` (13,004,888 parameters with its auxiliary
heads, 6,624,904 without), so that torchvision's published weights load into it
(``cnnzoo.models.pretrained``) and its outputs equal torchvision's. It departs from the paper
(each departure marked "Deviation" in the code):
    * every convolution is ``BasicConv2d``: convolution without bias, batch normalisation
      (eps = 0.001) and ReLU; no local response normalisation;
    * the branch that Table 1 calls #5x5 has a 3x3 convolution (a known slip in torchvision,
      kept for its published weights: https://github.com/pytorch/vision/issues/906);
    * every max pooling rounds up (``ceil_mode=True``) and the pooling before inception (5a) is
      2x2 with stride 2 (the paper's is 3x3 with stride 2);
    * the auxiliary heads pool with ``adaptive_avg_pool2d`` to 4x4 (not 5x5 with stride 3) and
      use ``BasicConv2d``; the main head's dropout is 0.2 (the paper's 0.4);
    * ``transform_input=True`` maps images normalised with ImageNet's mean and standard
      deviation to the (x - 0.5) / 0.5 scaling the published weights were trained on (their
      loader asks for it);
    * in training mode torchvision returns the named tuple ``GoogLeNetOutputs(logits,
      aux_logits2, aux_logits1)``; ours returns the plain tuple ``(main, aux1, aux2)``, in
      the order ``cnnzoo.training.split_outputs`` reads (main first) and the paper numbers them.

Deviations of ``googlenet_2014`` from the paper:
    * Pooling sizes: the paper gives patch size and stride, not padding. The max poolings round
      up (``ceil_mode=True``, as Caffe does), which gives Table 1's sizes:
      112 -> 56, 56 -> 28, 28 -> 14, 14 -> 7 (rounding down would give 55, 27, 13 and 6).
      Convolutions keep the size ("same" padding: 3 for 7x7 with stride 2, k // 2 otherwise).
    * Local response normalisation: the paper names it (Figure 3, "LocalRespNorm") without
      constants; we use AlexNet's (Krizhevsky et al. 2012, Sec. 3.3; ``alexnet.local_response_norm``).
    * The final "avg pool 7x7/1" is an ``AdaptiveAvgPool2d(1)``: the same average at 224x224,
      where the map is 7x7, and any size above ``min_size`` works. The auxiliary heads keep the
      paper's 5x5 pooling with stride 3 and then an ``AdaptiveAvgPool2d(4)``, the identity at
      224x224 (14x14 -> 4x4 already), so that smaller images work in training mode too.
    * ``forward`` returns scores before the soft-max (the loss applies it).
    * Initialisation: the paper gives none. We use He et al.'s (2015) normal initialisation for
      the convolutions (a deep ReLU network without batch normalisation needs it to train),
      N(0, 0.01^2) for the linear layers and zero biases.

Numbers (checked in ``tests/test_googlenet.py``): our network has 6,998,552 parameters without
and 13,378,280 with its two auxiliary heads (1000 classes). The params column of Table 1 sums
to 6797.7K, with K = 1024 (see ``TABLE_1``): 6,960,845, 0.5% below ours. The ops column sums
to 1.502 G multiply-adds, the "1.5 billion multiply-adds at inference time" of Sec. 1; ours
count 1.583 G at 224x224, the difference being conv1's row (118 M, printed 34M). The
introduction's "12x fewer parameters than" AlexNet (60 M) does not follow from these counts:
60 M / 7.0 M is 8.6.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from . import register
from ._checks import InputSpec, check_counts, check_images, check_probability
from .alexnet import local_response_norm

__all__ = [
    "InceptionSpec",
    "Table1Row",
    "TABLE_1",
    "INCEPTION_SPECS",
    "PAPER_DEPTH",
    "PAPER_MULTIPLY_ADDS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "printed_number",
    "ConvReLU",
    "BasicConv2d",
    "NaiveInception",
    "Inception",
    "InceptionAux",
    "GoogLeNet2014",
    "GoogLeNet",
    "googlenet_2014",
    "googlenet",
]

# torch.fx traces check_images as one call in the graph instead of tracing into it (see _checks).
torch.fx.wrap("check_images")

INPUT_SIZE = (224, 224)  # Table 1's input: "224x224 taking RGB color channels with mean subtraction"
PAPER_DEPTH = 22         # abstract: "a 22 layers deep network" (layers with parameters)
PAPER_MULTIPLY_ADDS = 1.5e9  # Sec. 1: "a computational budget of 1.5 billion multiply-adds at inference time"

# torchvision's ImageNet normalisation, which transform_input undoes (see GoogLeNet).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# --------------------------------------------------------------------------- the paper's table


@dataclass(frozen=True)
class InceptionSpec:
    """The widths of one Inception module: the columns of Table 1 (Figure 2(b)).

    Args:
        ch1x1: "#1x1", the 1x1 convolution branch.
        ch3x3_reduce: "#3x3 reduce", the 1x1 convolution before the 3x3 one.
        ch3x3: "#3x3", the 3x3 convolution.
        ch5x5_reduce: "#5x5 reduce", the 1x1 convolution before the 5x5 one.
        ch5x5: "#5x5", the 5x5 convolution.
        pool_proj: "pool proj", the 1x1 convolution after the 3x3 max pooling.
    """

    ch1x1: int
    ch3x3_reduce: int
    ch3x3: int
    ch5x5_reduce: int
    ch5x5: int
    pool_proj: int

    def __post_init__(self) -> None:
        check_counts(**{field.name: getattr(self, field.name) for field in fields(self)})

    @property
    def out_channels(self) -> int:
        """The depth of the concatenated output: #1x1 + #3x3 + #5x5 + pool proj."""
        return self.ch1x1 + self.ch3x3 + self.ch5x5 + self.pool_proj


@dataclass(frozen=True)
class Table1Row:
    """One row of Table 1 as printed; ``layers`` names our modules that make it.

    ``params`` and ``ops`` are the paper's strings ("2.7K", "34M"; None where the cell is
    empty); ``printed_number`` reads them. ``spec`` holds the six width columns of an
    inception row; ``reduce`` and ``width`` the "#3x3 reduce" and "#3x3" cells of the second
    convolution row, the only other row that fills them.
    """

    type: str
    patch: str | None
    output: tuple[int, int, int]
    depth: int
    layers: tuple[str, ...]
    params: str | None = None
    ops: str | None = None
    spec: InceptionSpec | None = None


def _inception(name: str, output: tuple[int, int, int], widths: tuple[int, ...], params: str, ops: str) -> Table1Row:
    module = "inception" + name.strip("()")
    return Table1Row(f"inception {name}", None, output, 2, (module,), params, ops, InceptionSpec(*widths))


# Szegedy et al. (2015), Table 1, "GoogLeNet incarnation of the Inception architecture", row by
# row: type, patch size/stride, output size (H, W, depth), depth, then for the inception rows
# #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj; params and ops as printed.
# Provenance: the widths agree with torchvision's googlenet.py and with independent ports found
# by the search; the abstract's "22 layers deep" and the introduction's "12x fewer parameters"
# were read in copies of the paper. The params and ops strings and Sec. 1's 1.5 billion
# multiply-adds could not be read in a copy of the paper during this session (the search
# returned only its first pages): they are typed from the paper and must be checked against
# the PDF once; the tests below pin where they agree with our layers and where they do not.
# The second convolution row prints "#3x3 reduce" 64 and "#3x3" 192: a 1x1 convolution to 64
# maps and a 3x3 one to 192 (our conv2 and conv3).
# Reading the params column: its K is 1024, not 1000. The linear layer's 1024 x 1000 weights
# print as "1000K" (1,024,000 / 1024), conv2 and conv3's 114,688 weights as "112K" (exactly
# 112 x 1024) and inception (3a)'s 163,328 as "159K" (159.5 x 1024); with K = 1000 they would be
# 1024K, 115K and 163K. The ops column's M is 10^6: multiply-adds = weights x output positions.
# Where the table disagrees with its own widths (tests/test_googlenet.py lists the rows):
#   * conv1 prints 2.7K and 34M; a 7x7 convolution from 3 to 64 maps has 9,408 weights and
#     9,408 x 112 x 112 = 118 M multiply-adds;
#   * the params of (4a), (4c), (4d), (4e), (5a) and (5b) are off by more than 1K (e.g. (4c):
#     463K printed, 497.5K from its widths), and (5a) prints 54M where its widths give 51 M
#     (its 1072K x 1024 x 49 positions would give 54 M: the row is consistent with itself but
#     not with its widths, which repeat (4e)'s).
TABLE_1: tuple[Table1Row, ...] = (
    Table1Row("convolution", "7x7/2", (112, 112, 64), 1, ("conv1",), "2.7K", "34M"),
    Table1Row("max pool", "3x3/2", (56, 56, 64), 0, ("maxpool1",)),
    Table1Row("convolution", "3x3/1", (56, 56, 192), 2, ("conv2", "conv3"), "112K", "360M"),
    Table1Row("max pool", "3x3/2", (28, 28, 192), 0, ("maxpool2",)),
    _inception("(3a)", (28, 28, 256), (64, 96, 128, 16, 32, 32), "159K", "128M"),
    _inception("(3b)", (28, 28, 480), (128, 128, 192, 32, 96, 64), "380K", "304M"),
    Table1Row("max pool", "3x3/2", (14, 14, 480), 0, ("maxpool3",)),
    _inception("(4a)", (14, 14, 512), (192, 96, 208, 16, 48, 64), "364K", "73M"),
    _inception("(4b)", (14, 14, 512), (160, 112, 224, 24, 64, 64), "437K", "88M"),
    _inception("(4c)", (14, 14, 512), (128, 128, 256, 24, 64, 64), "463K", "100M"),
    _inception("(4d)", (14, 14, 528), (112, 144, 288, 32, 64, 64), "580K", "119M"),
    _inception("(4e)", (14, 14, 832), (256, 160, 320, 32, 128, 128), "840K", "170M"),
    Table1Row("max pool", "3x3/2", (7, 7, 832), 0, ("maxpool4",)),
    _inception("(5a)", (7, 7, 832), (256, 160, 320, 32, 128, 128), "1072K", "54M"),
    _inception("(5b)", (7, 7, 1024), (384, 192, 384, 48, 128, 128), "1388K", "71M"),
    Table1Row("avg pool", "7x7/1", (1, 1, 1024), 0, ("avgpool",)),
    Table1Row("dropout (40%)", None, (1, 1, 1024), 0, ("dropout",)),
    Table1Row("linear", None, (1, 1, 1000), 1, ("fc",), "1000K", "1M"),
    Table1Row("softmax", None, (1, 1, 1000), 0, ()),  # in the loss, not in forward
)

# The nine modules' widths, by our module names ("inception3a", ...), read from TABLE_1.
INCEPTION_SPECS: dict[str, InceptionSpec] = {row.layers[0]: row.spec for row in TABLE_1 if row.spec is not None}

_PRINTED = re.compile(r"(?P<digits>\d+(?:\.(?P<decimals>\d+))?)(?P<unit>[KMG])")


def printed_number(text: str, base: int = 1000) -> tuple[float, float]:
    """A count as Table 1 prints it, and one unit of its last printed digit.

    "2.7K" -> (2700.0, 100.0); with ``base=1024`` (the params column), K is 1024 and M 1024^2:
    "112K" -> (114688.0, 1024.0).

    Args:
        text: the printed count, digits followed by K, M or G.
        base: 1000 (the ops column) or 1024 (the params column).
    """
    match = _PRINTED.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"expected a count such as '2.7K' or '360M'; got {text!r}")
    if base not in (1000, 1024):
        raise ValueError(f"base must be 1000 or 1024; got {base!r}")
    unit = float(base ** "KMG".index(match.group("unit")) * base)
    decimals = len(match.group("decimals") or "")
    return float(match.group("digits")) * unit, unit / 10**decimals


# --------------------------------------------------------------------------- blocks


class ConvReLU(nn.Module):
    """A convolution with bias followed by ReLU: every convolution of the paper's network (Sec. 5).

    Args:
        in_channels, out_channels: input and output maps.
        kernel_size, stride, padding: as in ``nn.Conv2d``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv(x))


class BasicConv2d(nn.Module):
    """torchvision's convolution block: convolution without bias, batch norm (eps 0.001), ReLU.

    Args:
        in_channels, out_channels: input and output maps.
        kernel_size, stride, padding: as in ``nn.Conv2d``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)  # Deviation: batch norm is not in the paper

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


class NaiveInception(nn.Module):
    """The naive Inception module (Figure 2(a)): 1x1, 3x3 and 5x5 convolutions and 3x3 max
    pooling side by side on the same input, concatenated along the depth. No 1x1 reductions:
    the 3x3 and 5x5 convolutions read every input map, and the pooling passes all of them on,
    so the output is deeper than the input: ch1x1 + ch3x3 + ch5x5 + in_channels.

    Args:
        in_channels: the input's depth.
        ch1x1, ch3x3, ch5x5: the number of 1x1, 3x3 and 5x5 filters.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3: int, ch5x5: int) -> None:
        super().__init__()
        check_counts(in_channels=in_channels, ch1x1=ch1x1, ch3x3=ch3x3, ch5x5=ch5x5)
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + in_channels
        self.branch1 = ConvReLU(in_channels, ch1x1, kernel_size=1)
        self.branch2 = ConvReLU(in_channels, ch3x3, kernel_size=3, padding=1)
        self.branch3 = ConvReLU(in_channels, ch5x5, kernel_size=5, padding=2)
        self.branch4 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [
            self.branch1(x),  # (N, ch1x1, H, W)
            self.branch2(x),  # (N, ch3x3, H, W)
            self.branch3(x),  # (N, ch5x5, H, W)
            self.branch4(x),  # (N, in_channels, H, W)
        ]
        return torch.cat(branches, dim=1)  # (N, out_channels, H, W): the filter concatenation


class Inception(nn.Module):
    """The Inception module with dimension reductions (Figure 2(b)), from a keyword spec.

    Four branches on the same input, concatenated along the depth: a 1x1 convolution; a 1x1
    "reduce" then a 3x3 convolution; a 1x1 "reduce" then a 5x5 convolution; a 3x3 max pooling
    (stride 1) then a 1x1 "pool proj". The branches' names and layout are torchvision's
    (``branch1``, ``branch2.0``/``.1``, ``branch3.0``/``.1``, ``branch4.1``).

    Args:
        in_channels: the input's depth.
        spec: the widths, Table 1's columns.
        conv: the convolution block: ``ConvReLU`` (the paper) or ``BasicConv2d`` (torchvision).
        kernel_5x5: the kernel of the branch the paper calls #5x5: 5 (the paper); torchvision's
            twin has 3 there (see the module docstring).
        ceil_mode: whether the branch's max pooling rounds up (torchvision's does; with stride 1
            and padding 1 it changes nothing).
    """

    def __init__(
        self,
        in_channels: int,
        spec: InceptionSpec,
        conv: type[nn.Module] = ConvReLU,
        kernel_5x5: int = 5,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        check_counts(in_channels=in_channels)
        if not isinstance(spec, InceptionSpec):
            raise ValueError(f"spec must be an InceptionSpec(ch1x1=..., ...); got {spec!r}")
        if kernel_5x5 not in (3, 5):
            raise ValueError(f"kernel_5x5 must be 5 (the paper) or 3 (torchvision); got {kernel_5x5!r}")
        self.spec = spec
        self.out_channels = spec.out_channels
        self.branch1 = conv(in_channels, spec.ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            conv(in_channels, spec.ch3x3_reduce, kernel_size=1),
            conv(spec.ch3x3_reduce, spec.ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            conv(in_channels, spec.ch5x5_reduce, kernel_size=1),
            conv(spec.ch5x5_reduce, spec.ch5x5, kernel_size=kernel_5x5, padding=kernel_5x5 // 2),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=ceil_mode),
            conv(in_channels, spec.pool_proj, kernel_size=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [
            self.branch1(x),  # (N, ch1x1, H, W)
            self.branch2(x),  # (N, ch3x3, H, W)
            self.branch3(x),  # (N, ch5x5, H, W)
            self.branch4(x),  # (N, pool_proj, H, W)
        ]
        return torch.cat(branches, dim=1)  # (N, out_channels, H, W): the filter concatenation


class InceptionAux(nn.Module):
    """An auxiliary classifier (Sec. 5): average pooling, 1x1 conv 128, FC 1024, dropout, linear.

    Args:
        in_channels: the depth of the module it sits on (512 for (4a), 528 for (4d)).
        num_classes: the number of output scores.
        conv: the 1x1 convolution block (``ConvReLU`` or ``BasicConv2d``).
        paper_pooling: ``True`` for the paper's 5x5 average pooling with stride 3 (then an
            adaptive pooling to 4x4, the identity at 224x224); ``False`` for torchvision's
            ``adaptive_avg_pool2d`` to 4x4.
        dropout: the fraction of the FC layer's outputs dropped (the paper's 70%).
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        conv: type[nn.Module] = ConvReLU,
        paper_pooling: bool = True,
        dropout: float = 0.7,
    ) -> None:
        super().__init__()
        check_counts(in_channels=in_channels, num_classes=num_classes)
        check_probability(dropout=dropout)
        self.paper_pooling = paper_pooling
        self.conv = conv(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(128 * 4 * 4, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.paper_pooling:
            x = F.avg_pool2d(x, kernel_size=5, stride=3)  # (N, C, 4, 4) from 14x14
        # After the paper's pooling: the identity at 224x224. Deviation (torchvision): its only pooling.
        x = F.adaptive_avg_pool2d(x, (4, 4))  # (N, C, 4, 4)
        x = self.conv(x)                      # (N, 128, 4, 4)
        x = torch.flatten(x, 1)               # (N, 2048)
        x = F.relu(self.fc1(x))               # (N, 1024)
        x = self.dropout(x)                   # (N, 1024)
        return self.fc2(x)                    # (N, num_classes)


# --------------------------------------------------------------------------- networks


class GoogLeNet2014(nn.Module):
    """GoogLeNet as in Table 1 and Sec. 5 of the paper (see the module docstring).

    In training mode ``forward`` returns ``(main, aux1, aux2)``, the scores of the main
    classifier and of the auxiliary ones on (4a) and (4d); in eval mode the main scores only.

    Args:
        num_classes: the number of output scores (1000 ImageNet classes).
        in_channels: image channels.
        dropout: the fraction of the pooled features dropped before the linear layer (40%).
        dropout_aux: the fraction of the auxiliary heads' FC outputs dropped (70%).
    """

    def __init__(
        self, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.4, dropout_aux: float = 0.7
    ) -> None:
        super().__init__()
        check_counts(num_classes=num_classes, in_channels=in_channels)
        check_probability(dropout=dropout, dropout_aux=dropout_aux)
        self.in_channels = in_channels
        # 79x79 is the smallest input on which inception (4a) is 5x5, the auxiliary heads' pooling.
        self.input_spec = InputSpec(in_channels, INPUT_SIZE, fixed=False, min_size=79)
        self.input_size = self.input_spec.shape
        pool = {"kernel_size": 3, "stride": 2, "ceil_mode": True}  # Deviation: ceil gives Table 1's sizes
        self.conv1 = ConvReLU(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(**pool)
        self.norm1 = local_response_norm()  # Deviation: AlexNet's constants (the paper gives none)
        self.conv2 = ConvReLU(64, 64, kernel_size=1)  # Table 1: "#3x3 reduce" 64
        self.conv3 = ConvReLU(64, 192, kernel_size=3, padding=1)
        self.norm2 = local_response_norm()
        self.maxpool2 = nn.MaxPool2d(**pool)
        specs = INCEPTION_SPECS
        self.inception3a = Inception(192, specs["inception3a"])
        self.inception3b = Inception(specs["inception3a"].out_channels, specs["inception3b"])
        self.maxpool3 = nn.MaxPool2d(**pool)
        self.inception4a = Inception(specs["inception3b"].out_channels, specs["inception4a"])
        self.inception4b = Inception(specs["inception4a"].out_channels, specs["inception4b"])
        self.inception4c = Inception(specs["inception4b"].out_channels, specs["inception4c"])
        self.inception4d = Inception(specs["inception4c"].out_channels, specs["inception4d"])
        self.inception4e = Inception(specs["inception4d"].out_channels, specs["inception4e"])
        self.maxpool4 = nn.MaxPool2d(**pool)
        self.inception5a = Inception(specs["inception4e"].out_channels, specs["inception5a"])
        self.inception5b = Inception(specs["inception5a"].out_channels, specs["inception5b"])
        self.aux1 = InceptionAux(specs["inception4a"].out_channels, num_classes, dropout=dropout_aux)
        self.aux2 = InceptionAux(specs["inception4d"].out_channels, num_classes, dropout=dropout_aux)
        self.avgpool = nn.AdaptiveAvgPool2d(1)  # Deviation: "avg pool 7x7/1", the same at 224x224
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(specs["inception5b"].out_channels, num_classes)
        self.apply(_init_paper)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        check_images(x, self.input_spec)
        x = self.conv1(x)                 # (N, 64, 112, 112)
        x = self.maxpool1(x)              # (N, 64, 56, 56)
        x = self.norm1(x)                 # (N, 64, 56, 56)
        x = self.conv2(x)                 # (N, 64, 56, 56)
        x = self.conv3(x)                 # (N, 192, 56, 56)
        x = self.norm2(x)                 # (N, 192, 56, 56)
        x = self.maxpool2(x)              # (N, 192, 28, 28)
        x = self.inception3a(x)           # (N, 256, 28, 28)
        x = self.inception3b(x)           # (N, 480, 28, 28)
        x = self.maxpool3(x)              # (N, 480, 14, 14)
        x = self.inception4a(x)           # (N, 512, 14, 14)
        aux1 = self.aux1(x) if self.training else None  # (N, num_classes): training only
        x = self.inception4b(x)           # (N, 512, 14, 14)
        x = self.inception4c(x)           # (N, 512, 14, 14)
        x = self.inception4d(x)           # (N, 528, 14, 14)
        aux2 = self.aux2(x) if self.training else None  # (N, num_classes): training only
        x = self.inception4e(x)           # (N, 832, 14, 14)
        x = self.maxpool4(x)              # (N, 832, 7, 7)
        x = self.inception5a(x)           # (N, 832, 7, 7)
        x = self.inception5b(x)           # (N, 1024, 7, 7)
        x = self.avgpool(x)               # (N, 1024, 1, 1)
        x = torch.flatten(x, 1)           # (N, 1024)
        x = self.dropout(x)               # (N, 1024)
        x = self.fc(x)                    # (N, num_classes)
        if self.training:
            return x, aux1, aux2          # the auxiliary scores join the loss (weight 0.3)
        return x


class GoogLeNet(nn.Module):
    """torchvision's GoogLeNet, parameter for parameter (the twin; see the module docstring).

    In training mode with ``aux_logits=True``, ``forward`` returns the plain tuple
    ``(main, aux1, aux2)`` (torchvision: ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``);
    otherwise the main scores only.

    Args:
        num_classes: the number of output scores.
        in_channels: image channels (torchvision's weights need 3).
        aux_logits: build the two auxiliary heads (torchvision's default, ``True``).
        transform_input: rescale images normalised with ImageNet's mean and standard deviation
            to (x - 0.5) / 0.5 per channel, as torchvision's published weights expect (3 channels).
        dropout: the dropout before the last layer (torchvision's 0.2).
        dropout_aux: the auxiliary heads' dropout (0.7).
    """

    def __init__(
        self,
        num_classes: int = 1000,
        in_channels: int = 3,
        aux_logits: bool = True,
        transform_input: bool = False,
        dropout: float = 0.2,
        dropout_aux: float = 0.7,
    ) -> None:
        super().__init__()
        check_counts(num_classes=num_classes, in_channels=in_channels)
        check_probability(dropout=dropout, dropout_aux=dropout_aux)
        for flag, value in (("aux_logits", aux_logits), ("transform_input", transform_input)):
            if not isinstance(value, bool):
                raise ValueError(f"{flag} must be True or False; got {value!r}")
        if transform_input and in_channels != 3:
            raise ValueError(f"transform_input=True rescales 3 RGB channels; got in_channels={in_channels}")
        self.in_channels = in_channels
        self.aux_logits = aux_logits
        self.transform_input = transform_input
        # torchvision's published "min_size" is 15x15; the auxiliary heads pool adaptively.
        self.input_spec = InputSpec(in_channels, INPUT_SIZE, fixed=False, min_size=15)
        self.input_size = self.input_spec.shape
        pool = {"kernel_size": 3, "stride": 2, "ceil_mode": True}
        block = {"conv": BasicConv2d, "kernel_5x5": 3, "ceil_mode": True}  # Deviation: 3x3 in the "5x5" branch
        specs = INCEPTION_SPECS
        self.conv1 = BasicConv2d(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(**pool)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)  # Deviation: no response normalisation
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(**pool)
        self.inception3a = Inception(192, specs["inception3a"], **block)
        self.inception3b = Inception(256, specs["inception3b"], **block)
        self.maxpool3 = nn.MaxPool2d(**pool)
        self.inception4a = Inception(480, specs["inception4a"], **block)
        self.inception4b = Inception(512, specs["inception4b"], **block)
        self.inception4c = Inception(512, specs["inception4c"], **block)
        self.inception4d = Inception(512, specs["inception4d"], **block)
        self.inception4e = Inception(528, specs["inception4e"], **block)
        self.maxpool4 = nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)  # Deviation: 2x2 (paper: 3x3/2)
        self.inception5a = Inception(832, specs["inception5a"], **block)
        self.inception5b = Inception(832, specs["inception5b"], **block)
        if aux_logits:  # Deviation: adaptive 4x4 pooling and BasicConv2d in the heads
            self.aux1 = InceptionAux(512, num_classes, conv=BasicConv2d, paper_pooling=False, dropout=dropout_aux)
            self.aux2 = InceptionAux(528, num_classes, conv=BasicConv2d, paper_pooling=False, dropout=dropout_aux)
        else:
            self.aux1 = None
            self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)  # Deviation: 0.2 (the paper's 0.4)
        self.fc = nn.Linear(1024, num_classes)
        self.apply(_init_torchvision)

    def _transform_input(self, x: torch.Tensor) -> torch.Tensor:
        """(x * std + mean - 0.5) / 0.5 per channel: from ImageNet normalisation to [-1, 1] scaling."""
        if not self.transform_input:
            return x
        channels = [
            x[:, c : c + 1] * (IMAGENET_STD[c] / 0.5) + (IMAGENET_MEAN[c] - 0.5) / 0.5 for c in range(3)
        ]
        return torch.cat(channels, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        check_images(x, self.input_spec)
        x = self._transform_input(x)      # only with transform_input: rescaled per channel
        x = self.conv1(x)                 # (N, 64, 112, 112)
        x = self.maxpool1(x)              # (N, 64, 56, 56)
        x = self.conv2(x)                 # (N, 64, 56, 56)
        x = self.conv3(x)                 # (N, 192, 56, 56)
        x = self.maxpool2(x)              # (N, 192, 28, 28)
        x = self.inception3a(x)           # (N, 256, 28, 28)
        x = self.inception3b(x)           # (N, 480, 28, 28)
        x = self.maxpool3(x)              # (N, 480, 14, 14)
        x = self.inception4a(x)           # (N, 512, 14, 14)
        with_aux = self.training and self.aux1 is not None
        aux1 = self.aux1(x) if with_aux else None  # (N, num_classes): training only
        x = self.inception4b(x)           # (N, 512, 14, 14)
        x = self.inception4c(x)           # (N, 512, 14, 14)
        x = self.inception4d(x)           # (N, 528, 14, 14)
        aux2 = self.aux2(x) if with_aux else None  # (N, num_classes): training only
        x = self.inception4e(x)           # (N, 832, 14, 14)
        x = self.maxpool4(x)              # (N, 832, 7, 7)
        x = self.inception5a(x)           # (N, 832, 7, 7)
        x = self.inception5b(x)           # (N, 1024, 7, 7)
        x = self.avgpool(x)               # (N, 1024, 1, 1)
        x = torch.flatten(x, 1)           # (N, 1024)
        x = self.dropout(x)               # (N, 1024)
        x = self.fc(x)                    # (N, num_classes)
        if with_aux:
            return x, aux1, aux2          # Deviation: torchvision returns (logits, aux2, aux1), named
        return x


def _init_paper(module: nn.Module) -> None:
    """He et al.'s normal initialisation for convolutions, N(0, 0.01^2) for linear layers, zero biases.

    The paper gives no initialisation. Convolutions: N(0, 2 / fan_out), fan_out = out_channels
    x k x k (K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers", ICCV 2015,
    Sec. 2.2), the scheme that trains deep ReLU networks without batch normalisation.
    """
    if isinstance(module, nn.Conv2d):
        nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.01)
        nn.init.zeros_(module.bias)


def _init_torchvision(module: nn.Module) -> None:
    """torchvision's GoogLeNet initialisation: weights from N(0, 0.01^2) truncated to [-2, 2];
    batch norm scale 1 and shift 0; the linear layers' biases keep PyTorch's default."""
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.trunc_normal_(module.weight, mean=0.0, std=0.01, a=-2, b=2)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


# --------------------------------------------------------------------------- builders


@register("googlenet_2014")
def googlenet_2014(
    num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.4, dropout_aux: float = 0.7
) -> GoogLeNet2014:
    """GoogLeNet as in Szegedy et al. (2015), Table 1, with both auxiliary classifiers (Sec. 5):
    13,378,280 parameters with 1000 classes (6,998,552 without the auxiliary heads)."""
    return GoogLeNet2014(num_classes=num_classes, in_channels=in_channels, dropout=dropout, dropout_aux=dropout_aux)


@register("googlenet")
def googlenet(
    num_classes: int = 1000,
    in_channels: int = 3,
    aux_logits: bool = True,
    transform_input: bool = False,
    dropout: float = 0.2,
    dropout_aux: float = 0.7,
) -> GoogLeNet:
    """torchvision's GoogLeNet, its twin: 13,004,888 parameters with its auxiliary heads and
    1000 classes (6,624,904 with ``aux_logits=False``, the count torchvision publishes)."""
    return GoogLeNet(
        num_classes=num_classes, in_channels=in_channels, aux_logits=aux_logits,
        transform_input=transform_input, dropout=dropout, dropout_aux=dropout_aux,
    )
