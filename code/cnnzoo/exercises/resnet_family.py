"""Self-checks for the exercises of the ResNet family chapter (``chapters/resnet_family.ipynb``).

Each expected value is computed from ``cnnzoo`` itself: the weighted layers of a ResNet by
counting the convolutions and linear layers of a real ``ResNet`` on its main path, a
bottleneck's parameters from a real ``Bottleneck``, a stage's multiply-adds by
``analysis.count_macs`` on a real ``make_stage``. Shapes-only work runs on the "meta" device.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._core import CheckFailed, CheckResult, _function_problem

__all__ = [
    "DEPTH_CASES",
    "BOTTLENECK_CASES",
    "STAGE_CASES",
    "check_resnet_depth",
    "check_bottleneck_params",
    "check_stage_macs",
]

#: (block, blocks per stage): Table 1's five rows and others, so that a constant or a factor
#: that fits one row only shows.
DEPTH_CASES = [
    ("basic", (2, 2, 2, 2)),
    ("basic", (3, 4, 6, 3)),
    ("bottleneck", (3, 4, 6, 3)),
    ("bottleneck", (3, 4, 23, 3)),
    ("bottleneck", (3, 8, 36, 3)),
    ("basic", (1, 1, 1, 1)),
    ("bottleneck", (2, 1, 5, 1)),
]

#: (in_channels, channels, stride): a bottleneck reads in_channels maps and outputs 4 * channels;
#: with and without a projection shortcut.
BOTTLENECK_CASES = [
    (256, 64, 1),
    (64, 64, 1),
    (256, 128, 2),
    (1024, 256, 1),
    (512, 256, 2),
    (12, 3, 1),
    (8, 5, 2),
]

#: (in_channels, channels, blocks, size, stride): a stage of basic blocks on size x size input maps.
STAGE_CASES = [
    (64, 64, 3, 56, 1),
    (64, 128, 4, 56, 2),
    (128, 256, 2, 28, 2),
    (16, 16, 3, 32, 1),
    (16, 32, 1, 32, 2),
    (8, 8, 2, 6, 1),
]

_BLOCKS = ("basic", "bottleneck")


def _block_class(block: str):
    from ..models.resnet import BasicBlock, Bottleneck

    return {"basic": BasicBlock, "bottleneck": Bottleneck}[block]


def _weighted_layers(block: str, layers: tuple[int, ...]) -> int:
    """Convolutions and linear layers on the main path of a real ResNet (shortcut projections left out)."""
    from ..models.resnet import ResNet

    with torch.device("meta"):
        model = ResNet(block=_block_class(block), layers=layers)
    return sum(
        isinstance(module, (nn.Conv2d, nn.Linear)) and ".downsample" not in name
        for name, module in model.named_modules()
    )


def check_resnet_depth(function: Any) -> CheckResult:
    """Exercise: ``resnet_depth(block, blocks_per_stage)``.

    The number of weighted layers (convolutions and fully connected layers, shortcut
    projections not counted, as the paper counts) of an ImageNet ResNet whose four stages
    have ``blocks_per_stage`` blocks of kind ``block`` (``"basic"`` or ``"bottleneck"``).

    Raises:
        CheckFailed: at the first call that goes wrong, without the right value.
    """
    name = "resnet_depth"
    cases = [((block, layers), {}, _weighted_layers(block, layers)) for block, layers in DEPTH_CASES]
    problem = _function_problem(function, cases, name)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult(f"Correct: {name} passed all {len(cases)} cases.")


def _bottleneck_params(in_channels: int, channels: int, stride: int) -> int:
    from ..models.resnet import Bottleneck

    with torch.device("meta"):
        block = Bottleneck(in_channels, channels, stride=stride, shortcut="B")
    return sum(p.numel() for p in block.parameters())


def check_bottleneck_params(function: Any) -> CheckResult:
    """Exercise: ``bottleneck_params(in_channels, channels, stride=1)``.

    The trainable parameters of a bottleneck block (1x1 to ``channels``, 3x3, 1x1 to
    ``4 * channels``, no biases, batch norm after each convolution) with option B's shortcut:
    a 1x1 projection with batch norm where the shape changes. Called with and without ``stride``.

    Raises:
        CheckFailed: at the first call that goes wrong, without the right value.
    """
    name = "bottleneck_params"
    cases = []
    for in_channels, channels, stride in BOTTLENECK_CASES:
        expected = _bottleneck_params(in_channels, channels, stride)
        if stride == 1:
            cases.append(((in_channels, channels), {}, expected))
        cases.append(((in_channels, channels), {"stride": stride}, expected))
    problem = _function_problem(function, cases, name)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult(f"Correct: {name} passed all {len(cases)} cases.")


def _stage_macs(in_channels: int, channels: int, blocks: int, size: int, stride: int) -> int:
    from ..analysis import count_macs
    from ..models.resnet import BasicBlock, make_stage

    with torch.device("meta"):
        stage = make_stage(BasicBlock, in_channels, channels, blocks, stride=stride, shortcut="B")
    return count_macs(stage, (1, in_channels, size, size))


def check_stage_macs(function: Any) -> CheckResult:
    """Exercise: ``stage_macs(in_channels, channels, blocks, size, stride)``.

    The multiply-adds of one stage of ``blocks`` basic blocks (two 3x3 convolutions each, padding
    1) on a ``size`` x ``size`` input of ``in_channels`` maps, the first block with ``stride``,
    with option B's 1x1 projection (stride ``stride``) where the shape changes; ``size`` is
    even. The right value is ``analysis.count_macs`` on a real ``make_stage``.

    Raises:
        CheckFailed: at the first call that goes wrong, without the right value.
    """
    name = "stage_macs"
    cases = [(case, {}, _stage_macs(*case)) for case in STAGE_CASES]
    problem = _function_problem(function, cases, name)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult(f"Correct: {name} passed all {len(cases)} cases.")
