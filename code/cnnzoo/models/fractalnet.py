"""FractalNet: deep networks built by a fractal expansion rule, with no residual connection.

G. Larsson, M. Maire and G. Shakhnarovich, "FractalNet: Ultra-Deep Neural Networks without
Residuals", ICLR 2017 (arXiv:1605.07648), Sections 2-4, Figure 1, Table 1.

The idea: grow a block by one rule and let it hold paths of many depths at once. The base case
is one convolution, f_1(z) = conv(z). The rule (Sec. 2) puts two copies of f_C one after the
other in one path and a single convolution beside them, and joins the two:

    f_{C+1}(z) = [(f_C o f_C)(z)]  (+)  [conv(z)],

where (+) is a *join*: the element-wise mean of its inputs (not a sum, not a concatenation).
A block f_C has C *columns*; column c (counted from 1, shallowest first) has 2^(c-1)
convolutions, so the deepest has 2^(C-1), and the block has 2^C - 1 convolutions in all.
Expanding the rule, the join that ends the second f_C and the join of the rule meet at the
same place; Figure 1 draws them as one join that takes every column that ends there, and so
does this module (``FractalBlock(..., final_join=False)`` is the second f_C, whose columns
flow into the parent's join). A block of C columns has 2^(C-2) joins (C >= 2).

A network stacks B blocks with a 2x2 max pooling after each, and ends with a classifier
(Sec. 4): its deepest path has B * 2^(C-1) convolutions. Nothing in it is an identity: every
signal passes a convolution, batch norm and a ReLU before the next layer sees it.

Drop-path (Sec. 3) regularises the network by dropping whole paths in training:
    * *local*: each join drops each of its inputs with probability ``drop_path`` (0.15 in the
      paper), keeping at least one, and averages what is kept;
    * *global*: one column is chosen for the whole network, and every block runs that column
      alone (a plain chain of convolutions);
    * the paper mixes them, one kind per mini-batch, global with probability ``global_share``
      (50%).
At test time the full network runs and every join averages all its inputs. ``net.column(c)`` (or
``net.forward_column(x, c)``) runs column c alone (0-based: 0 is the shallowest), in training
or eval mode: the "anytime" sub-network of Sec. 4.3, also what a global drop-path step runs.

The randomness of drop-path comes from ``self.generator`` (a ``torch.Generator``; ``None`` uses
torch's global one, which ``training.seed_everything`` seeds). Each join records what it kept in
its last training pass (``Join.last_kept``), and the network the column of its last global step
(``FractalNet.last_column``, ``None`` after a local step), for the chapter's figure.

The CIFAR configuration (Sec. 4, "Implementation details"; the authors' generation script,
github.com/gustavla/fractalnet, ``generation/fractalnet.py``): B = 5 blocks of 64, 128, 256, 512,
512 filters, C = 3 (20 convolutional layers on the deepest path; "FractalNet (20 layers, 38.6M
params)" in Table 1), 3x3 convolutions followed by batch norm and ReLU, dropout per block 0%,
10%, 20%, 30%, 40% in the "+ dropout" rows, local drop-path 0.15, a 50/50 mix of local and
global sampling. Registered as ``fractalnet`` (with drop-path and dropout, the row whose deepest
column Table 1 reports). Parameters: 33,724,618 with 10 classes, not the 38.6 M of Table 1.
Where the channels change we follow the authors' script: in a block of ``in_channels`` ->
``out_channels``, the first convolution of each column changes them (C convolutions of
in x out), the rest keep them (2^C - 1 - C of out x out). We could not find a layout of the
paper's filters that gives 38.6 M; the chapter shows the count block by block.

Deviations:
    * a global average pooling before the classifier, so that any size of at least 2^B works;
      on the paper's 32x32 images the maps are 1x1 after five poolings and it is the identity.
    * the pooling closes each block after its last join; the authors' script pools each
      column before that join (a max pool of a mean is not the mean of the max pools, so the
      two differ slightly in value, not in parameters or shapes).
    * He initialisation of the convolutions (the paper does not state one).
    * ``forward`` returns the scores before the soft-max (the loss applies it).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.fx
from torch import nn

from . import register
from ._checks import InputSpec, check_counts, check_images, check_probability

__all__ = [
    "ConvUnit", "join", "Join", "FractalBlock", "FractalNet", "Column", "fractalnet",
    "CIFAR_CHANNELS", "CIFAR_DROPOUT", "PAPER_TABLE1_PARAMETERS",
    "ANYTIME", "small_fractalnet", "anytime_accuracies", "drop_path_record",
]

torch.fx.wrap("check_images")

CIFAR_CHANNELS = (64, 128, 256, 512, 512)  # Sec. 4: the filters of the five blocks
CIFAR_DROPOUT = (0.0, 0.1, 0.2, 0.3, 0.4)  # Sec. 4: dropout per block in the "+ dropout" rows
PAPER_TABLE1_PARAMETERS = 38_600_000  # Table 1: "FractalNet (20 layers, 38.6M params)", rounded


# --------------------------------------------------------------------------- the pieces


class ConvUnit(nn.Module):
    """One convolution of a column: 3x3 convolution, dropout (if any), batch norm, ReLU.

    The order is the authors' (conv, dropout, batch norm, ReLU); with ``dropout=0`` it is the
    paper's "convolution, batch norm, ReLU".

    Args:
        in_channels, out_channels: the maps in and out.
        dropout: the dropout probability of the block the unit belongs to (0: no dropout layer).
    """

    def __init__(self, in_channels: int, out_channels: int, dropout: float = 0.0) -> None:
        check_counts(in_channels=in_channels, out_channels=out_channels)
        check_probability(dropout=dropout)
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.dropout is not None:
            x = self.dropout(x)
        return self.relu(self.bn(x))


def join(inputs: Sequence[torch.Tensor], kept: Sequence[bool]) -> torch.Tensor:
    """The join layer: the element-wise mean of the inputs that ``kept`` marks (Sec. 2 and 3).

    Args:
        inputs: tensors of one shape, one per path that ends at the join.
        kept: one flag per input; at least one must be ``True``.
    """
    if len(kept) != len(inputs):
        raise ValueError(f"kept needs one flag per input: {len(inputs)} inputs, got {len(kept)} flags")
    chosen = [x for x, keep in zip(inputs, kept) if keep]
    if not chosen:
        raise ValueError("a join must keep at least one of its inputs; got none kept")
    return torch.stack(chosen).mean(dim=0)


class Join(nn.Module):
    """A join of ``num_inputs`` paths: their mean, over the kept ones under local drop-path.

    Args:
        num_inputs: the paths that end here (at least 2).
        drop_path: the probability that local drop-path drops one input (0.15 in the paper).
    """

    def __init__(self, num_inputs: int, drop_path: float = 0.15) -> None:
        super().__init__()
        if isinstance(num_inputs, bool) or not isinstance(num_inputs, int) or num_inputs < 2:
            raise ValueError(f"num_inputs must be an integer >= 2; got {num_inputs!r}")
        check_probability(drop_path=drop_path)
        self.num_inputs = num_inputs
        self.drop_path = float(drop_path)
        self.last_kept: tuple[bool, ...] = (True,) * num_inputs  # what the last local step kept (for figures)

    def draw(self, generator: torch.Generator | None = None) -> tuple[bool, ...]:
        """Local drop-path: drop each input with probability ``drop_path``; if all fall, keep one at random."""
        kept = torch.rand(self.num_inputs, generator=generator, device="cpu") >= self.drop_path
        if not kept.any():
            kept[torch.randint(self.num_inputs, (1,), generator=generator, device="cpu")] = True
        return tuple(kept.tolist())

    def forward(self, inputs: Sequence[torch.Tensor], local: bool = False,
                generator: torch.Generator | None = None) -> torch.Tensor:
        if len(inputs) != self.num_inputs:
            raise ValueError(f"this join takes {self.num_inputs} inputs; got {len(inputs)}")
        kept = self.draw(generator) if local else (True,) * self.num_inputs
        if local:
            self.last_kept = kept
        return join(inputs, kept)

    def extra_repr(self) -> str:
        return f"num_inputs={self.num_inputs}, drop_path={self.drop_path}"


# --------------------------------------------------------------------------- the fractal block


class FractalBlock(nn.Module):
    """f_C, built by the expansion rule f_{C+1}(z) = [(f_C o f_C)(z)] (+) [conv(z)] (Sec. 2, Figure 1).

    ``shallow`` is the single convolution conv(z) (column 0); ``first`` and ``second`` are the two
    copies of f_{C-1}. ``first`` is a whole block, with its join; ``second`` is built with
    ``final_join=False``: its columns end at this block's ``join``, which averages ``shallow``
    and every column of ``second`` (C inputs). The first convolution of each column changes the
    channels (``in_channels`` to ``out_channels``), as in the authors' script.

    Args:
        in_channels, out_channels: the maps in and out.
        columns: C, at least 1 (C = 1 is a single convolution).
        dropout: the dropout probability of every convolution of the block.
        drop_path: the local drop-path probability of its joins.
        final_join: ``False`` for the second copy inside a larger block (its parent joins its columns).
    """

    def __init__(self, in_channels: int, out_channels: int, columns: int, dropout: float = 0.0,
                 drop_path: float = 0.15, final_join: bool = True) -> None:
        super().__init__()
        check_counts(in_channels=in_channels, out_channels=out_channels, columns=columns)
        self.columns = columns
        self.shallow = ConvUnit(in_channels, out_channels, dropout)             # f_1 = conv
        if columns > 1:
            self.first = FractalBlock(in_channels, out_channels, columns - 1, dropout, drop_path)
            self.second = FractalBlock(out_channels, out_channels, columns - 1, dropout, drop_path, final_join=False)
        self.join = Join(columns, drop_path) if columns > 1 and final_join else None

    def column_depths(self) -> list[int]:
        """The convolutions on each column, shallowest first, counted from the module: [1, 2, 4, ...]."""
        if self.columns == 1:
            return [1]
        return [1] + [a + b for a, b in zip(self.first.column_depths(), self.second.column_depths())]

    def paths(self, x: torch.Tensor, local: bool = False,
              generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """The outputs of the columns that end at this block's last join, shallowest first."""
        if self.columns == 1:
            return [self.shallow(x)]
        middle = self.first(x, local=local, generator=generator)            # f_{C-1}(z), joined
        return [self.shallow(x), *self.second.paths(middle, local, generator)]  # conv(z), f_{C-1}'s columns

    def column_units(self, column: int) -> list[ConvUnit]:
        """The convolution units of column ``column`` (0: the single convolution; C - 1: the deepest), in order."""
        if isinstance(column, bool) or not isinstance(column, int) or not 0 <= column < self.columns:
            raise ValueError(f"column must be an integer in 0..{self.columns - 1}; got {column!r}")
        if column == 0:
            return [self.shallow]
        return self.first.column_units(column - 1) + self.second.column_units(column - 1)

    def run_column(self, x: torch.Tensor, column: int) -> torch.Tensor:
        """Column ``column`` alone: its convolutions one after the other, no join (a global drop-path step)."""
        for unit in self.column_units(column):
            x = unit(x)
        return x

    def forward(self, x: torch.Tensor, column: int | None = None, local: bool = False,
                generator: torch.Generator | None = None) -> torch.Tensor:
        if column is not None:
            return self.run_column(x, column)              # global drop-path: one column
        if self.columns == 1:
            return self.shallow(x)                          # f_1 = conv
        if self.join is None:
            raise ValueError("this block's columns end at its parent's join; call paths() instead")
        return self.join(self.paths(x, local, generator), local, generator)  # the mean of the kept columns

    def extra_repr(self) -> str:
        return f"columns={self.columns}"


# --------------------------------------------------------------------------- the network


class FractalNet(nn.Module):
    """B fractal blocks of C columns, a 2x2 max pooling after each, then a linear classifier (Sec. 4).

    Args:
        channels: the filters of each block (B = ``len(channels)``); the paper's CIFAR net: 64, 128, 256, 512, 512.
        columns: C, the columns of every block (3 or 4 in the paper).
        num_classes: the classifier's outputs.
        in_channels: the image channels.
        drop_path: the probability that local drop-path drops one input of a join (0.15); 0 turns
            drop-path off (local and global).
        global_share: the share of training mini-batches that use global drop-path (0.5).
        dropout: one dropout probability per block (the paper's 0, 0.1, 0.2, 0.3, 0.4), or ``None``.
        generator: the ``torch.Generator`` drop-path draws from (``None``: torch's global one).
    """

    def __init__(self, channels: Sequence[int] = CIFAR_CHANNELS, columns: int = 3, num_classes: int = 10,
                 in_channels: int = 3, drop_path: float = 0.15, global_share: float = 0.5,
                 dropout: Sequence[float] | None = None, generator: torch.Generator | None = None) -> None:
        super().__init__()
        check_counts(columns=columns, num_classes=num_classes, in_channels=in_channels)
        channels = tuple(channels)
        if not channels or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in channels):
            raise ValueError(f"channels must be a non-empty sequence of positive integers; got {channels!r}")
        dropout = (0.0,) * len(channels) if dropout is None else tuple(dropout)
        if len(dropout) != len(channels):
            raise ValueError(f"dropout needs one probability per block ({len(channels)}); got {len(dropout)}")
        check_probability(drop_path=drop_path, global_share=global_share)
        self.columns = columns
        self.drop_path = float(drop_path)
        self.global_share = float(global_share)
        self.generator = generator
        self.last_column: int | None = None  # the column of the last global drop-path step; None after a local one
        self.num_features = channels[-1]
        self.input_spec = InputSpec(in_channels, (32, 32), fixed=False, min_size=2 ** len(channels))
        self.input_size = self.input_spec.shape
        widths = (in_channels, *channels)
        self.blocks = nn.ModuleList(
            FractalBlock(widths[i], widths[i + 1], columns, dropout[i], drop_path) for i in range(len(channels))
        )
        self.pool = nn.MaxPool2d(2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.num_features, num_classes)
        self.apply(_init_weights)

    def column_depths(self) -> list[int]:
        """The convolutions on each column of the whole network, shallowest first: B * 2^(c-1)."""
        return [depth * len(self.blocks) for depth in self.blocks[0].column_depths()]

    def _draw_column(self) -> int | None:
        """One training mini-batch's choice: a column (global drop-path) or ``None`` (local)."""
        if torch.rand((), generator=self.generator, device="cpu") >= self.global_share:
            return None
        return int(torch.randint(self.columns, (), generator=self.generator, device="cpu"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.input_spec)
        column, local = None, False  # eval mode, or no drop-path: every join averages all its inputs
        if self.training and self.drop_path > 0:
            column = self._draw_column()  # global drop-path: one column; None: local drop-path
            self.last_column = column
            local = column is None
        for block in self.blocks:
            x = self.pool(block(x, column=column, local=local, generator=self.generator))  # (N, num_features, 1, 1) after the last
        x = torch.flatten(self.avgpool(x), 1)  # (N, num_features): 1x1 maps already at the paper's size
        return self.fc(x)                      # (N, num_classes)

    def forward_column(self, x: torch.Tensor, column: int) -> torch.Tensor:
        """The network restricted to column ``column`` of every block: a plain chain of B * 2^column convolutions."""
        check_images(x, self.input_spec)
        if isinstance(column, bool) or not isinstance(column, int) or not 0 <= column < self.columns:
            raise ValueError(f"column must be an integer in 0..{self.columns - 1}; got {column!r}")
        for block in self.blocks:
            x = self.pool(block.run_column(x, column))
        return self.fc(torch.flatten(self.avgpool(x), 1))

    def column(self, column: int) -> "Column":
        """Column ``column`` alone as a module that shares this network's weights (Sec. 4.3's sub-networks)."""
        return Column(self, column)


class Column(nn.Module):
    """One column of a ``FractalNet`` as a network: ``net.forward_column(x, column)``, the same weights.

    Args:
        net: the fractal network.
        column: 0 (the shallowest) to C - 1 (the deepest).
    """

    def __init__(self, net: FractalNet, column: int) -> None:
        super().__init__()
        if isinstance(column, bool) or not isinstance(column, int) or not 0 <= column < net.columns:
            raise ValueError(f"column must be an integer in 0..{net.columns - 1}; got {column!r}")
        self.net = net
        self.index = column

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.forward_column(x, self.index)

    def extra_repr(self) -> str:
        return f"column={self.index}"


def _init_weights(module: nn.Module) -> None:
    """He et al. 2015 (normal, fan-out) for the convolutions; batch norm at 1 and 0."""
    if isinstance(module, nn.Conv2d):
        nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


# --------------------------------------------------------------------------- builders


@register("fractalnet")
def fractalnet(num_classes: int = 10, in_channels: int = 3, drop_path: float = 0.15, global_share: float = 0.5,
               dropout: Sequence[float] | None = CIFAR_DROPOUT, columns: int = 3) -> FractalNet:
    """The CIFAR FractalNet of Sec. 4 and Table 1: B = 5 blocks, C = 3 columns (20 layers), drop-path and dropout.

    33,724,618 parameters with 10 classes (Table 1 prints 38.6 M: see the module docstring).
    ``drop_path=0`` and ``dropout=None`` give Table 1's plain "FractalNet" row; ``columns=4``
    the 40-layer network.
    """
    return FractalNet(CIFAR_CHANNELS, columns, num_classes, in_channels, drop_path, global_share, dropout)


# --------------------------------------------------------------------------- the chapter's helpers

#: The chapter's anytime experiment (the notebook and tests/test_claims_fractalnet.py read it): the
#: 12x12 digits, B = 3 blocks of 8, 16, 32 filters, C = 3 columns, ``steps`` steps of Adam.
ANYTIME = {"image_size": 12, "channels": (8, 16, 32), "columns": 3, "steps": 120, "batch_size": 32, "lr": 3e-3}


def small_fractalnet(drop_path: float, seed: int, in_channels: int = 1, num_classes: int = 10) -> FractalNet:
    """The chapter's small network (``ANYTIME``): weights from ``torch.manual_seed(seed)``, drop-path from a generator seeded with ``seed``.

    Args:
        drop_path: 0.15 (the paper's, with global drop-path in half the mini-batches) or 0 (none).
        seed: the seed of the weights and of the drop-path draws.
        in_channels, num_classes: the images' channels and the classes.
    """
    torch.manual_seed(seed)
    return FractalNet(ANYTIME["channels"], ANYTIME["columns"], num_classes, in_channels, drop_path=drop_path,
                      generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def anytime_accuracies(net: FractalNet, train_images: torch.Tensor, images: torch.Tensor,
                       labels: torch.Tensor) -> list[float]:
    """Test accuracy of each column alone, shallowest first, then of the whole network.

    Each is measured on a copy whose batch norms are recomputed for that sub-network on
    ``train_images`` (``experiments.recalibrate_batch_norm``): the running statistics of a
    drop-path network are averaged over a mix of sub-networks, and a column alone sees other
    statistics than the full network. ``net`` is not changed.

    Args:
        net: a trained fractal network.
        train_images: training images for the statistics.
        images, labels: the test set.
    """
    import copy

    from ..experiments import accuracy, recalibrate_batch_norm  # experiments imports the models

    results = []
    for column in [*range(net.columns), None]:
        twin = copy.deepcopy(net)
        twin.drop_path = 0.0  # the full network, every join averaging all its inputs, in training mode too
        sub = twin if column is None else twin.column(column)
        recalibrate_batch_norm(sub, train_images)
        results.append(accuracy(sub, images, labels))
    return results


@torch.no_grad()
def drop_path_record(net: FractalNet, images: torch.Tensor, steps: int) -> list[tuple[int | None, list[tuple[bool, ...]]]]:
    """What ``steps`` training-mode passes kept: per pass, (the global column or ``None``, each join's kept inputs).

    The joins are listed in ``net.modules()`` order; after a global pass they ran not at all and
    are listed as ``()``. The passes update batch norm's running statistics; the mode is restored.

    Args:
        net: a fractal network with drop-path.
        images: one mini-batch.
        steps: the number of passes.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}")
    joins = [m for m in net.modules() if isinstance(m, Join)]
    was_training = net.training
    net.train()
    rows = []
    try:
        for _ in range(steps):
            net(images)
            column = net.last_column
            rows.append((column, [() if column is not None else join.last_kept for join in joins]))
    finally:
        net.train(was_training)
    return rows
