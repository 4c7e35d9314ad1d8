"""Self-checks for the exercises of the Wide ResNet chapter (``chapters/wide_resnet.ipynb``).

Each expected value is computed by PyTorch or ``cnnzoo`` itself: a WRN-d-k's parameters by
counting a real ``WideResNet`` built on the meta device, the widening factor that meets a
budget by counting the candidates, a pre-activation block's output by ``PreActBlock.forward``
on real blocks (eval mode, and training mode with dropout under a fixed seed).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import torch
from torch import nn

from ._core import CheckFailed, CheckResult, _call, _is_int, _randomise, _tensor_problem

__all__ = [
    "WRN_PARAMETER_CASES",
    "WIDEN_BUDGET_CASES",
    "PREACT_BLOCK_CASES",
    "check_wrn_parameters",
    "check_widen_for_budget",
    "check_preact_forward",
]

#: (depth, k, num_classes): the networks ``wrn_parameters`` is asked about. k = 1 has no projection
#: in the first group (16 -> 16 maps at stride 1); every k > 1 has three.
WRN_PARAMETER_CASES = [
    (16, 8, 10), (28, 10, 10), (40, 4, 10), (10, 1, 10), (22, 1, 10), (40, 1, 10),
    (16, 2, 100), (52, 3, 10), (10, 5, 7),
]

#: (depth, budget as (depth, k) of a reference WRN or a number): ``widen_for_budget(depth, budget)``
#: must return the k from 1 to MAX_WIDEN whose WRN-depth-k has the count closest to the budget.
WIDEN_BUDGET_CASES = [
    (16, ("wrn", 40, 4)), (16, ("wrn", 28, 10)), (10, ("wrn", 40, 1)), (28, ("wrn", 16, 4)),
    (16, 300_000), (10, 150_000), (28, 2_000_000),
]
MAX_WIDEN = 16

#: (in_channels, channels, stride, dropout): the blocks ``preact_forward`` is run on.
PREACT_BLOCK_CASES = [
    (8, 8, 1, 0.0),
    (4, 8, 2, 0.0),
    (6, 10, 1, 0.0),
    (8, 8, 1, 0.3),
    (4, 6, 2, 0.3),
]


@functools.lru_cache(maxsize=None)
def _wrn_count(depth: int, widen_factor: int, num_classes: int = 10) -> int:
    """Parameters of WRN-depth-widen_factor, counted on a real model built on the meta device (cached)."""
    from ..models.wide_resnet import WideResNet

    with torch.device("meta"):
        model = WideResNet(depth, widen_factor, num_classes=num_classes)
    return sum(p.numel() for p in model.parameters())


def check_wrn_parameters(function: Any) -> CheckResult:
    """Exercise: ``wrn_parameters(depth, k, num_classes)``, the parameters of WRN-d-k, from the structure.

    The right value is the parameter count of ``WideResNet(depth, k, num_classes=num_classes)``
    (counted on the meta device), on the networks of ``WRN_PARAMETER_CASES``.

    Raises:
        CheckFailed: at the first network whose count is wrong, without the right count.
    """
    name = "wrn_parameters"
    if not callable(function):
        raise CheckFailed(f"{name} should be a function; got {type(function).__name__}.") from None
    for depth, k, num_classes in WRN_PARAMETER_CASES:
        call = f"{name}({depth}, {k}, num_classes={num_classes})"
        result, problem = _call(function, (depth, k), {"num_classes": num_classes})
        if problem:
            raise CheckFailed(f"{call} {problem}") from None
        if isinstance(result, torch.Tensor) and result.numel() == 1:
            result = result.item()
        if isinstance(result, float) and result.is_integer():
            result = int(result)
        if not _is_int(result):
            raise CheckFailed(f"{call} returned {result!r}; a whole number was expected.") from None
        expected = _wrn_count(depth, k, num_classes)
        if result != expected:
            hint = "too many" if result > expected else "too few"
            raise CheckFailed(f"{call} returned {result:,}, {hint}. Count every convolution (the 1x1 projections "
                              "too: where are they?), every batch norm's scale and shift, and the classifier.") from None
    return CheckResult(f"Correct: {name} matches the model on all {len(WRN_PARAMETER_CASES)} networks.")


def _budget(budget: Any) -> int:
    if isinstance(budget, tuple):
        _, depth, k = budget
        return _wrn_count(depth, k)
    return budget


def _closest_widen(depth: int, budget: int) -> int:
    counts = {k: _wrn_count(depth, k) for k in range(1, MAX_WIDEN + 1)}
    return min(counts, key=lambda k: abs(counts[k] - budget))


def check_widen_for_budget(function: Any) -> CheckResult:
    """Exercise: ``widen_for_budget(depth, budget)``, the k whose WRN-depth-k is closest to a budget.

    ``budget`` is a number of parameters; the right answer is the k from 1 to ``MAX_WIDEN`` whose
    WRN-depth-k (10 classes) has the parameter count closest to it, found by counting real models.

    Raises:
        CheckFailed: at the first budget whose answer is wrong, without the right k.
    """
    name = "widen_for_budget"
    if not callable(function):
        raise CheckFailed(f"{name} should be a function; got {type(function).__name__}.") from None
    for depth, budget in WIDEN_BUDGET_CASES:
        budget = _budget(budget)
        call = f"{name}({depth}, {budget:_})"
        result, problem = _call(function, (depth, budget), {})
        if problem:
            raise CheckFailed(f"{call} {problem}") from None
        if isinstance(result, float) and result.is_integer():
            result = int(result)
        if not _is_int(result):
            raise CheckFailed(f"{call} returned {result!r}; a whole number k was expected.") from None
        if result != _closest_widen(depth, budget):
            raise CheckFailed(f"{call} returned k = {result}, which is not the closest. Parameters grow "
                              "about as k squared, but not exactly: compare the counts on both sides.") from None
    return CheckResult(f"Correct: {name} finds the closest k for all {len(WIDEN_BUDGET_CASES)} budgets.")


def _random_preact_block(case: tuple[int, int, int, float], seed: int) -> nn.Module:
    """A ``PreActBlock`` with random weights, batch-norm scales, shifts and running statistics."""
    from ..models.wide_resnet import PreActBlock

    in_channels, channels, stride, dropout = case
    return _randomise(PreActBlock(in_channels, channels, stride=stride, dropout=dropout), seed)


def check_preact_forward(function: Any) -> CheckResult:
    """Exercise: ``preact_forward(block, x)``, a pre-activation block's forward pass from its layers.

    Run on real ``PreActBlock`` s (random weights and batch-norm statistics; identity and 1x1
    projection shortcuts; with and without dropout), in eval mode and in training mode (each
    call under the same random seed, on a fresh copy of the block); the right output is the
    block's own ``forward``.

    Raises:
        CheckFailed: at the first block whose output differs, without the right value.
    """
    name = "preact_forward"
    if not callable(function):
        raise CheckFailed(f"{name} should be a function; got {type(function).__name__}.") from None
    for k, case in enumerate(PREACT_BLOCK_CASES):
        block = _random_preact_block(case, seed=k)
        x = torch.randn(2, case[0], 6, 6, generator=torch.Generator().manual_seed(100 + k))
        for mode in ("eval", "train"):
            theirs, ours = copy.deepcopy(block), copy.deepcopy(block)
            theirs.train(mode == "train")
            ours.train(mode == "train")
            state = torch.random.get_rng_state()
            with torch.no_grad():
                torch.manual_seed(1000 + k)
                expected = ours(x.clone())
                torch.manual_seed(1000 + k)
                result, problem = _call(function, (theirs, x.clone()), {})
            torch.random.set_rng_state(state)
            what = (f"{name} on a block {case[0]} -> {case[1]} maps, stride {case[2]}, dropout {case[3]}, "
                    f"in {mode} mode")
            wrong = _tensor_problem(what, result, problem, expected,
                                    "Check the order of batch norm, ReLU and convolution, where dropout sits, "
                                    "what the projection reads, and what happens after the addition.")
            if wrong:
                raise CheckFailed(wrong) from None
    return CheckResult(f"Correct: {name} matches the block's own forward on all {len(PREACT_BLOCK_CASES)} blocks, "
                       "in eval and training mode.")
