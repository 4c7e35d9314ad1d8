"""Self-checks for the exercises of the comparison chapter (``chapters/comparison.ipynb``).

Each expected value is computed by ``cnnzoo`` itself: a convolution's multiply-adds by counting a
real ``nn.Conv2d`` with :func:`cnnzoo.analysis.count_macs`, the memory of VGG-16's first block
from the shapes of its traced graph (:func:`cnnzoo.graph.trace`).
"""

from __future__ import annotations

import functools
from typing import Any

from torch import nn

from ._core import CheckFailed, CheckResult, _function_problem, _value_problem

__all__ = ["CONV_MACS_CASES", "check_conv_macs", "check_vgg_block1_mib"]

#: (in_channels, out_channels, kernel_size, out_size, groups): VGG's first layer, ResNet's 1x1,
#: AlexNet's grouped conv2 (two towers), a ResNeXt 3x3 with 32 groups, and small uneven ones.
CONV_MACS_CASES = [(3, 64, 3, 224, 1), (256, 64, 1, 56, 1), (96, 256, 5, 27, 2), (128, 128, 3, 56, 32),
                   (6, 9, 3, 5, 3), (4, 4, 1, 7, 4), (5, 7, 5, 1, 1)]


@functools.cache
def _macs(in_channels: int, out_channels: int, kernel_size: int, out_size: int, groups: int) -> int:
    """Multiply-adds of a real convolution making ``out_size`` x ``out_size`` maps from one image."""
    from ..analysis import count_macs

    conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, groups=groups, bias=False)
    return count_macs(conv.to("meta"), (1, in_channels, out_size, out_size))


def check_conv_macs(function: Any) -> CheckResult:
    """Exercise: ``conv_macs(in_channels, out_channels, kernel_size, out_size, groups=1)``.

    The multiply-adds of one image through a convolution with square ``kernel_size`` kernels and
    ``groups`` groups whose output maps are ``out_size`` x ``out_size``. The right value is
    ``analysis.count_macs`` of such an ``nn.Conv2d``.

    Raises:
        CheckFailed: at the first case that goes wrong, without the right value.
    """
    cases = [((c, k, s, o), {"groups": g}, _macs(c, k, s, o, g)) for c, k, s, o, g in CONV_MACS_CASES]
    problem = _function_problem(function, cases, "conv_macs")
    if problem:
        raise CheckFailed(problem + " How many input channels does one filter see when there are groups, "
                          "and is a multiply-add one operation or two?") from None
    return CheckResult(f"Correct: conv_macs passed all {len(cases)} cases.")


@functools.cache
def _vgg_block1_mib() -> float:
    """MiB of the outputs of VGG-16's first two convolutions for one float32 image at 224x224."""
    from .. import models
    from ..graph import trace

    model = models.build("vgg16").to("meta")
    convs = [n for n in trace(model, (1, 3, 224, 224)).nodes if isinstance(n.module, nn.Conv2d)][:2]
    elements = sum(int(n.shape[0] * n.shape[1] * n.shape[2] * n.shape[3]) for n in convs)
    return elements * 4 / 2**20


def check_vgg_block1_mib(value: Any) -> CheckResult:
    """Exercise: the MiB VGG-16's first block (conv1_1, conv1_2; ReLUs in place) writes for one image.

    Float32, one 224x224 image, as the chapter's activation column counts it. The right value is
    computed from the shapes of the traced ``vgg16``; answers within 0.05 MiB pass.

    Raises:
        CheckFailed: if the answer is not a number or not close, saying only too large or too small.
    """
    problem = _value_problem(value, _vgg_block1_mib(), "vgg_block1_mib", tolerance=0.05)
    if problem:
        raise CheckFailed(problem + " How many bytes is a float32, how many bytes is a MiB, "
                          "and does an in-place ReLU write a new tensor?") from None
    return CheckResult("Correct: vgg_block1_mib.")
