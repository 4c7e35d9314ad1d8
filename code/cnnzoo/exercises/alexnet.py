"""Self-checks for the exercises of the AlexNet and ZFNet chapter (``chapters/alexnet.ipynb``).

Every expected value is computed here from PyTorch or from ``cnnzoo``'s own models (a real
``nn.Conv2d`` with ``groups``, the first layer of ``models.build("zfnet")``), never typed in.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._core import CheckFailed, CheckResult, _call, _function_problem, _value_problem

__all__ = ["GROUPED_SETTINGS", "check_zfnet_layer1", "check_grouped_conv_params", "check_ungrouped_alexnet"]


# --------------------------------------------------------------------------- ZFNet's first layer


def _zfnet_layer1() -> tuple[int, int]:
    """The output width and the parameters of ZFNet's conv1 on a 224x224 image, from the model."""
    from ..models import build

    with torch.device("meta"):  # the layer's settings without allocating the network's 62 million weights
        layer = build("zfnet").conv1
    conv1 = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, stride=layer.stride,
                      padding=layer.padding, bias=layer.bias is not None)
    with torch.no_grad():
        width = conv1(torch.zeros(1, layer.in_channels, 224, 224)).shape[-1]
    return width, sum(p.numel() for p in conv1.parameters())


def check_zfnet_layer1(size: Any, params: Any) -> CheckResult:
    """Exercise: the width of ZFNet's layer-1 maps at 224x224 (``size``) and the layer's parameters.

    Raises:
        CheckFailed: naming the first wrong number and whether it is too large or too small.
    """
    width, count = _zfnet_layer1()
    problem = _value_problem(size, width, "size", 0.0) or _value_problem(params, count, "params", 0.0)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult("Correct: the size of layer 1's maps and its parameters.")


# --------------------------------------------------------------------------- grouped convolutions


def _grouped_params(in_channels: int, out_channels: int, kernel: int, groups: int) -> int:
    """The parameters PyTorch itself gives a grouped convolution, biases included."""
    conv = nn.Conv2d(in_channels, out_channels, kernel, groups=groups, device="meta")
    return sum(p.numel() for p in conv.parameters())


#: (in_channels, out_channels, kernel, groups): AlexNet's conv2, conv4 and conv5 as two towers,
#: its conv3 (one group), ResNeXt-like and depthwise settings, and channels that differ, so that
#: dividing both channel counts by the groups, or adding a bias per group, gives wrong counts.
GROUPED_SETTINGS = [
    (96, 256, 5, 2), (384, 384, 3, 2), (384, 256, 3, 2), (256, 384, 3, 1),
    (128, 128, 3, 32), (64, 64, 3, 64), (6, 12, 1, 3), (8, 4, 5, 4),
]
#: Settings whose groups do not divide a channel count: the function must raise ValueError.
BAD_GROUPED_SETTINGS = [(10, 8, 3, 4), (96, 100, 3, 8)]


def check_grouped_conv_params(function: Any) -> CheckResult:
    """Exercise: ``grouped_conv_params(in_channels, out_channels, kernel, groups)``, biases included.

    The function must also raise ``ValueError`` when ``groups`` does not divide both channel
    counts (PyTorch's ``nn.Conv2d`` refuses those too).

    Raises:
        CheckFailed: at the first call that goes wrong.
    """
    name = "grouped_conv_params"
    cases = [(setting, {}, _grouped_params(*setting)) for setting in GROUPED_SETTINGS]
    problem = _function_problem(function, cases, name)
    if problem:
        raise CheckFailed(problem) from None
    for setting in BAD_GROUPED_SETTINGS:
        call = f"{name}{setting}"
        try:
            result = function(*setting)
        except ValueError:
            continue
        except Exception as error:  # noqa: BLE001 (a student's bug becomes the message)
            raise CheckFailed(f"{call} raised {type(error).__name__}: {error}; ValueError was expected.") from None
        raise CheckFailed(
            f"{call} returned {result!r}: the groups do not divide the channels, so it should raise ValueError."
        ) from None
    return CheckResult(f"Correct: {name} passed all {len(cases) + len(BAD_GROUPED_SETTINGS)} cases.")


# --------------------------------------------------------------------------- AlexNet without towers


def _ungrouped_alexnet_2012() -> tuple[int, int]:
    """(parameters of alexnet_2012, parameters with every convolution made dense), built on meta."""
    from ..models import build

    with torch.device("meta"):
        model = build("alexnet_2012")
    total = sum(p.numel() for p in model.parameters())
    dense = total
    for layer in model.modules():
        if isinstance(layer, nn.Conv2d) and layer.groups > 1:
            grouped = sum(p.numel() for p in layer.parameters())
            dense += _grouped_params(layer.in_channels, layer.out_channels, layer.kernel_size[0], 1) - grouped
    return total, dense


def check_ungrouped_alexnet(params: Any, extra: Any) -> CheckResult:
    """Exercise: the parameters of AlexNet (2012) with its towers joined (``params``) and how many more (``extra``).

    Raises:
        CheckFailed: naming the first wrong number and whether it is too large or too small.
    """
    total, dense = _ungrouped_alexnet_2012()
    problem = _value_problem(params, dense, "params", 0.0) or _value_problem(extra, dense - total, "extra", 0.0)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult("Correct: both counts.")
