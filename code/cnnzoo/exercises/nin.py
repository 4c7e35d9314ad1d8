"""Self-checks for the exercises of the Network in Network chapter (``chapters/nin.ipynb``).

Each expected value is computed by PyTorch itself: the parameters of a head from real
``nn.Linear`` layers (built on the "meta" device, so a large layer costs nothing), and a 1x1
convolution's output from ``torch.nn.functional.conv2d`` on random weights and images.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ._core import CheckFailed, CheckResult, _call, _function_problem

__all__ = [
    "HEAD_CASES",
    "CONV1X1_CASES",
    "check_fc_head_parameters",
    "check_conv1x1",
]

#: (channels, height, width, num_classes): NiN's class maps at 32x32 and 16x16, a conventional
#: head on 192 maps, and shapes where height and width differ, so that a swapped or left-out
#: factor shows.
HEAD_CASES = [(10, 8, 8, 10), (10, 4, 4, 10), (192, 8, 8, 10), (100, 8, 8, 100), (7, 3, 5, 4), (1, 1, 1, 2)]

#: (batch, in_channels, out_channels, height, width): images and 1x1 layers of several shapes,
#: non-square maps and in_channels != out_channels, so that a transposed weight shows.
CONV1X1_CASES = [(2, 3, 5, 4, 6), (1, 8, 8, 3, 3), (3, 6, 2, 5, 1), (2, 1, 4, 2, 7)]


def _linear_parameters(in_features: int, out_features: int) -> int:
    with torch.device("meta"):
        layer = nn.Linear(in_features, out_features)
    return sum(p.numel() for p in layer.parameters())


def check_fc_head_parameters(function: Any) -> CheckResult:
    """Exercise: ``fc_head_parameters(channels, height, width, num_classes)``.

    The parameters (weights and biases) of one fully connected layer from ``channels`` maps of
    ``height`` x ``width`` to ``num_classes`` scores; the right value is a real ``nn.Linear``'s count.

    Raises:
        CheckFailed: at the first call that goes wrong, without the right value.
    """
    name = "fc_head_parameters"
    cases = [((c, h, w, k), {}, _linear_parameters(c * h * w, k)) for c, h, w, k in HEAD_CASES]
    problem = _function_problem(function, cases, name)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult(f"Correct: {name} passed all {len(cases)} cases.")


def _conv1x1_problem(function: Any) -> str | None:
    name = "conv1x1"
    if not callable(function):
        return f"{name} should be a function; got {type(function).__name__}."
    generator = torch.Generator().manual_seed(0)
    for batch, in_channels, out_channels, height, width in CONV1X1_CASES:
        x = torch.randn(batch, in_channels, height, width, generator=generator)
        weight = torch.randn(out_channels, in_channels, generator=generator)
        bias = torch.randn(out_channels, generator=generator)
        expected = F.conv2d(x, weight.view(out_channels, in_channels, 1, 1), bias)
        call = f"{name}(x of shape {tuple(x.shape)}, weight of shape {tuple(weight.shape)}, bias)"
        result, problem = _call(function, (x.clone(), weight.clone(), bias.clone()), {})
        if problem:
            return f"{call} {problem}"
        if not isinstance(result, torch.Tensor):
            return f"{call} returned a {type(result).__name__}; a tensor was expected."
        if tuple(result.shape) != tuple(expected.shape):
            return f"{call} returned shape {tuple(result.shape)}, which is not right."
        if not torch.allclose(result, expected, atol=1e-5):
            return f"{call} returned the right shape but wrong values. Check the weight's layout and the bias."
    return None


def check_conv1x1(function: Any) -> CheckResult:
    """Exercise: ``conv1x1(x, weight, bias)``, a 1x1 convolution written as a per-pixel linear layer.

    ``x`` is (N, C_in, H, W), ``weight`` (C_out, C_in), ``bias`` (C_out,); the right output is
    ``F.conv2d`` with the weight as a (C_out, C_in, 1, 1) kernel, on random inputs.

    Raises:
        CheckFailed: at the first case that goes wrong (its shape or its values), without the right values.
    """
    problem = _conv1x1_problem(function)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult(f"Correct: conv1x1 passed all {len(CONV1X1_CASES)} cases.")
