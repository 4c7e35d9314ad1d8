"""Self-checks for the exercises of the FractalNet chapter (``chapters/fractalnet.ipynb``).

Each expected value is computed by ``cnnzoo`` itself: a column's depth by
``FractalBlock.column_depths`` of a real block, a block's parameters by counting those of a real
``FractalBlock`` (built on the "meta" device: shapes only), a join's output by ``fractalnet.join``.
"""

from __future__ import annotations

from typing import Any

import torch

from ._core import CheckFailed, CheckResult, _call, _is_int, _tensor_problem

__all__ = [
    "DEPTH_CASES",
    "PARAMETER_CASES",
    "JOIN_CASES",
    "check_column_depth",
    "check_block_parameters",
    "check_join",
]

#: (C, c): a block of C columns and one of its columns, counted from 1 (shallowest).
DEPTH_CASES = [(4, 4), (4, 1), (4, 2), (3, 3), (1, 1), (5, 3), (6, 6), (2, 1)]

#: (in_channels, out_channels, C): the blocks whose parameters are asked for.
PARAMETER_CASES = [(64, 128, 3), (3, 64, 3), (512, 512, 3), (16, 32, 4), (8, 8, 1), (5, 7, 2)]

#: (number of inputs, kept flags): the joins asked for, on random inputs of shape (2, 3, 4, 4).
JOIN_CASES = [(3, (True, True, True)), (3, (True, False, True)), (4, (False, False, True, False)),
              (2, (True, True)), (4, (False, True, True, True))]


def _int(result: Any) -> Any:
    if isinstance(result, torch.Tensor) and result.numel() == 1:
        return result.item()
    return result


def _check_integer_function(function: Any, name: str, cases: list[tuple], expected_of, hint: str) -> None:
    if not callable(function):
        raise CheckFailed(f"{name} should be a function; got {type(function).__name__}.") from None
    for case in cases:
        call = f"{name}{case}"
        result, problem = _call(function, case, {})
        if problem:
            raise CheckFailed(f"{call} {problem}") from None
        result = _int(result)
        if not _is_int(result):
            raise CheckFailed(f"{call} returned {result!r}; a whole number (int) was expected.") from None
        if result != expected_of(*case):
            raise CheckFailed(f"{call} returned {result!r}, which is not right. {hint}") from None


def _column_depth(columns: int, column: int) -> int:
    from ..models.fractalnet import FractalBlock

    with torch.device("meta"):
        return FractalBlock(1, 1, columns).column_depths()[column - 1]


def check_column_depth(function: Any) -> CheckResult:
    """Exercise: ``column_depth(C, c)``, the convolutions on column c (from 1, shallowest) of a block of C columns.

    Raises:
        CheckFailed: at the first case that goes wrong, without the right value.
    """
    name = "column_depth"
    _check_integer_function(function, name, DEPTH_CASES, _column_depth,
                            "Follow the rule: how many convolutions does column 1 have, and what does one expansion do to a column?")
    return CheckResult(f"Correct: {name} passed all {len(DEPTH_CASES)} cases.")


def _block_parameters(in_channels: int, out_channels: int, columns: int) -> int:
    from ..models.fractalnet import FractalBlock

    with torch.device("meta"):
        block = FractalBlock(in_channels, out_channels, columns)
    return sum(p.numel() for p in block.parameters() if p.requires_grad)


def check_block_parameters(function: Any) -> CheckResult:
    """Exercise: ``block_parameters(in_channels, out_channels, C)``, the trainable parameters of ``FractalBlock``.

    Raises:
        CheckFailed: at the first case that goes wrong, without the right value.
    """
    name = "block_parameters"
    _check_integer_function(function, name, PARAMETER_CASES, _block_parameters,
                            "Which convolutions see in_channels maps, and what else has parameters after each convolution?")
    return CheckResult(f"Correct: {name} passed all {len(PARAMETER_CASES)} cases.")


def check_join(function: Any) -> CheckResult:
    """Exercise: ``join(inputs, kept)``, the join layer under a drop-path mask; it must refuse a mask that keeps nothing.

    Raises:
        CheckFailed: at the first case that goes wrong, without the right value.
    """
    from ..models.fractalnet import join

    name = "join"
    if not callable(function):
        raise CheckFailed(f"{name} should be a function; got {type(function).__name__}.") from None
    generator = torch.Generator().manual_seed(0)
    for count, kept in JOIN_CASES:
        inputs = [torch.randn(2, 3, 4, 4, generator=generator) for _ in range(count)]
        expected = join(inputs, kept)
        result, problem = _call(function, ([x.clone() for x in inputs], list(kept)), {})
        what = f"{name} of {count} inputs with kept = {list(kept)}"
        wrong = _tensor_problem(what, result, problem, expected,
                                "Which inputs take part, and is the result a sum or a mean, and over how many?")
        if wrong:
            raise CheckFailed(wrong) from None
    inputs = [torch.randn(2, 3, 4, 4, generator=generator) for _ in range(3)]
    result, problem = _call(function, (inputs, [False, False, False]), {})
    if problem is None or "ValueError" not in problem:
        got = "it raised " + problem.split(":")[0].replace("raised ", "") if problem else f"it returned {type(result).__name__}"
        raise CheckFailed(f"{name} with every input dropped should raise ValueError; {got}.") from None
    return CheckResult(f"Correct: {name} passed all {len(JOIN_CASES)} cases and refuses an empty mask.")
