"""Self-checks for the exercises of the GoogLeNet chapter (``chapters/googlenet.ipynb``).

Each expected value is computed from PyTorch or ``cnnzoo`` itself: a convolution's
multiplications by ``analysis.count_macs`` on a real ``nn.Conv2d``, a naive Inception module's
output depth by running ``cnnzoo.models.googlenet.NaiveInception`` on a small input, a
bottlenecked module's cost by ``count_macs`` on a real ``Inception`` module.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._core import CheckFailed, CheckResult, _function_problem

__all__ = [
    "CONV_OPS_CASES",
    "NAIVE_DEPTH_CASES",
    "check_conv_multiplies",
    "check_naive_depth",
]

#: (height, width, in_channels, kernel, out_channels): "same" convolutions of the lecture's
#: example (28x28x256 in) and others, so that a factor left out or squared shows.
CONV_OPS_CASES = [
    (28, 28, 192, 1, 64),
    (14, 14, 480, 3, 208),
    (7, 7, 32, 5, 128),
    (56, 28, 3, 7, 16),
    (10, 10, 5, 1, 1),
    (9, 12, 16, 3, 4),
]

#: (in_channels, ch1x1, ch3x3, ch5x5, modules): a stack of ``modules`` naive modules with the
#: same widths, each reading the previous one's output.
NAIVE_DEPTH_CASES = [
    (192, 128, 192, 96, 2),
    (256, 64, 128, 32, 1),
    (3, 1, 1, 1, 3),
    (16, 8, 4, 2, 4),
    (100, 20, 30, 10, 5),
]


def _conv_macs(height: int, width: int, in_channels: int, kernel: int, out_channels: int) -> int:
    """Multiplications of a stride-1 "same" convolution, counted by ``analysis.count_macs``."""
    from ..analysis import count_macs

    conv = nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2, bias=False)
    return count_macs(conv, (1, in_channels, height, width))


def check_conv_multiplies(function: Any) -> CheckResult:
    """Exercise: ``conv_multiplies(height, width, in_channels, kernel, out_channels)``.

    The multiplications of a convolution with stride 1 and "same" padding (the output is
    height x width x out_channels), as the lecture counts them; the right value is what
    ``analysis.count_macs`` counts on a real ``nn.Conv2d``.

    Raises:
        CheckFailed: at the first call that goes wrong, without the right value.
    """
    name = "conv_multiplies"
    cases = [(case, {}, _conv_macs(*case)) for case in CONV_OPS_CASES]
    problem = _function_problem(function, cases, name)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult(f"Correct: {name} passed all {len(cases)} cases.")


def _naive_depth(in_channels: int, ch1x1: int, ch3x3: int, ch5x5: int, modules: int) -> int:
    """The output depth of ``modules`` stacked ``NaiveInception`` modules, by running them."""
    from ..models.googlenet import NaiveInception

    x = torch.zeros(1, in_channels, 3, 3)
    with torch.no_grad():
        for _ in range(modules):
            x = NaiveInception(x.shape[1], ch1x1, ch3x3, ch5x5)(x)
    return x.shape[1]


def check_naive_depth(function: Any) -> CheckResult:
    """Exercise: ``naive_depth(in_channels, ch1x1, ch3x3, ch5x5, modules=1)``.

    The depth after ``modules`` naive Inception modules (Figure 2(a)) stacked, each with the
    same numbers of 1x1, 3x3 and 5x5 filters; called with and without ``modules``. The right
    value is the depth of the output of real ``NaiveInception`` modules.

    Raises:
        CheckFailed: at the first call that goes wrong, without the right value.
    """
    name = "naive_depth"
    cases = []
    for in_channels, ch1x1, ch3x3, ch5x5, modules in NAIVE_DEPTH_CASES:
        cases.append(((in_channels, ch1x1, ch3x3, ch5x5), {}, _naive_depth(in_channels, ch1x1, ch3x3, ch5x5, 1)))
        cases.append(((in_channels, ch1x1, ch3x3, ch5x5), {"modules": modules},
                      _naive_depth(in_channels, ch1x1, ch3x3, ch5x5, modules)))
    problem = _function_problem(function, cases, name)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult(f"Correct: {name} passed all {len(cases)} cases.")
