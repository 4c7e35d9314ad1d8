"""Self-checks for the exercises of the Stochastic Depth chapter (``chapters/stochastic_depth.ipynb``).

Each expected value is computed by ``cnnzoo`` itself: the expected depth by ``expected_depth``
on real CIFAR ResNets wrapped with ``add_stochastic_depth`` (and by ``linear_decay`` for block
counts that are not a multiple of 3), a block's test-time output by ``StochasticDepth`` in eval
mode on real blocks, the expected saving of training time from ``expected_depth`` too.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ._core import CheckFailed, CheckResult, _call, _is_number, _randomise, _tensor_problem

__all__ = [
    "DEPTH_CASES",
    "TEST_TIME_CASES",
    "SAVING_CASES",
    "check_expected_depth",
    "check_block_at_test_time",
    "check_expected_saving",
]

#: (L, p_L): the networks ``expected_depth`` is asked about (L = 54: ResNet-110; 1, 7 and 10 are
#: not a multiple of 3, so no CIFAR ResNet has them).
DEPTH_CASES = [(54, 0.5), (9, 0.5), (27, 0.8), (3, 0.2), (1, 0.5), (7, 0.5), (10, 0.25), (6, 1.0)]

#: (in_channels, channels, stride, shortcut, p): the blocks ``block_at_test_time`` is run on.
TEST_TIME_CASES = [
    (4, 4, 1, "A", 0.75),
    (4, 8, 2, "A", 0.5),
    (6, 6, 1, "B", 0.9),
    (3, 5, 2, "B", 0.6),
]

#: (L, p_L, fixed): blocks, last survival probability, share of a full step's time outside the blocks.
SAVING_CASES = [(54, 0.5, 0.0), (54, 0.5, 0.1), (9, 0.5, 0.2), (27, 0.8, 0.05), (15, 0.25, 0.3), (6, 1.0, 0.1)]


def _expected_depth(num_blocks: int, p_last: float) -> float:
    """sum_l p_l, from a real wrapped CIFAR ResNet where one has ``num_blocks`` blocks."""
    from ..models import resnet
    from ..models import stochastic_depth as sd

    if num_blocks % 3 == 0:
        model = resnet.CifarResNet(2 * num_blocks + 2, widths=(1, 1, 1))
        return sd.expected_depth(sd.add_stochastic_depth(model, p_last))
    return math.fsum(sd.linear_decay(num_blocks, p_last))


def _number(result: Any) -> Any:
    if isinstance(result, torch.Tensor) and result.numel() == 1:
        return result.item()
    return result


def check_expected_depth(function: Any) -> CheckResult:
    """Exercise: ``expected_depth(L, p_L)``, the expected number of blocks a training step runs.

    The right value is ``models.stochastic_depth.expected_depth`` of a CIFAR ResNet with L
    blocks wrapped with p_L (the sum of the linear decay rule's p_1 ... p_L).

    Raises:
        CheckFailed: at the first case that goes wrong, without the right value.
    """
    name = "expected_depth"
    if not callable(function):
        raise CheckFailed(f"{name} should be a function; got {type(function).__name__}.") from None
    for num_blocks, p_last in DEPTH_CASES:
        call = f"{name}({num_blocks}, {p_last})"
        result, problem = _call(function, (num_blocks, p_last), {})
        if problem:
            raise CheckFailed(f"{call} {problem}") from None
        result = _number(result)
        if not _is_number(result):
            raise CheckFailed(f"{call} returned {result!r}; a number was expected.") from None
        if not math.isclose(result, _expected_depth(num_blocks, p_last), rel_tol=1e-9, abs_tol=1e-9):
            raise CheckFailed(f"{call} returned {result!r}, which is not right. Which l does the sum start "
                              "at, and which block has p_L?") from None
    return CheckResult(f"Correct: {name} passed all {len(DEPTH_CASES)} cases.")


def _random_block(case: tuple, seed: int) -> nn.Module:
    """A ``BasicBlock`` with random weights and batch-norm statistics, in eval mode."""
    from ..models.resnet import BasicBlock

    in_channels, channels, stride, shortcut, _ = case
    return _randomise(BasicBlock(in_channels, channels, stride=stride, shortcut=shortcut), seed).eval()


def check_block_at_test_time(function: Any) -> CheckResult:
    """Exercise: ``block_at_test_time(block, x, p)``, a block's output at test time under stochastic depth.

    Run on real ``BasicBlock`` s (random weights and batch-norm statistics, eval mode; stride 1
    and 2, options A and B) with their survival probability p; the right output is
    ``StochasticDepth(block, p)`` in eval mode.

    Raises:
        CheckFailed: at the first block whose output differs, without the right value.
    """
    from ..models.stochastic_depth import StochasticDepth

    name = "block_at_test_time"
    if not callable(function):
        raise CheckFailed(f"{name} should be a function; got {type(function).__name__}.") from None
    for k, case in enumerate(TEST_TIME_CASES):
        block = _random_block(case, seed=k)
        p = case[4]
        x = torch.relu(torch.randn(2, case[0], 6, 6, generator=torch.Generator().manual_seed(100 + k)))
        with torch.no_grad():
            expected = StochasticDepth(block, p).eval()(x.clone())
            result, problem = _call(function, (block, x.clone(), p), {})
        what = f"{name} on a block {case[0]} -> {case[1]} maps, stride {case[2]}, shortcut {case[3]!r}, p = {p}"
        wrong = _tensor_problem(what, result, problem, expected, "What does p scale, and where is the ReLU?")
        if wrong:
            raise CheckFailed(wrong) from None
    return CheckResult(f"Correct: {name} matches StochasticDepth at test time on all {len(TEST_TIME_CASES)} blocks.")


def check_expected_saving(function: Any) -> CheckResult:
    """Exercise: ``expected_saving(L, p_L, fixed)``, the expected share of training time saved.

    The model of the time: a full training step takes 1; a share ``fixed`` of it is outside the
    residual blocks (the first convolution, the head, the update) and is always paid; the rest
    is spread evenly over the L blocks (a CIFAR ResNet's blocks cost about the same, as the maps
    halve where the filters double). The right value is (1 - fixed)(1 - E / L), with E the
    expected depth from ``models.stochastic_depth``.

    Raises:
        CheckFailed: at the first case that goes wrong, without the right value.
    """
    name = "expected_saving"
    if not callable(function):
        raise CheckFailed(f"{name} should be a function; got {type(function).__name__}.") from None
    for num_blocks, p_last, fixed in SAVING_CASES:
        call = f"{name}({num_blocks}, {p_last}, {fixed})"
        result, problem = _call(function, (num_blocks, p_last, fixed), {})
        if problem:
            raise CheckFailed(f"{call} {problem}") from None
        result = _number(result)
        if not _is_number(result):
            raise CheckFailed(f"{call} returned {result!r}; a number (a fraction, not a percentage) was expected.") from None
        expected = (1 - fixed) * (1 - _expected_depth(num_blocks, p_last) / num_blocks)
        if not math.isclose(result, expected, rel_tol=1e-9, abs_tol=1e-9):
            raise CheckFailed(f"{call} returned {result!r}, which is not right. A saving is the time not "
                              "spent; which part of the step can shrink?") from None
    return CheckResult(f"Correct: {name} passed all {len(SAVING_CASES)} cases.")
