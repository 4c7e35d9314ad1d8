"""Self-checks for the exercises: a right answer shows "✓ ...", a wrong one raises.

A check returns a :class:`CheckResult` when the answer is right; in a notebook it shows as
one line, "✓ Correct: ...". On a wrong answer it raises :class:`CheckFailed`, an
``AssertionError`` whose message is one readable line, "✗ ...", saying what is wrong and
never what the right value is. Raising is what makes an autograder (nbgrader, pytest)
score the cell zero; in a notebook it shows a short traceback ending with that line. A
student's function that raises, the ``NotImplementedError`` of a stub included, makes the
check raise ``CheckFailed`` too: whatever goes wrong, the check fails loudly and readably.

The expected values are computed here from PyTorch itself (a real ``nn.Conv2d``, a real
``cnnzoo`` model), not typed in.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "CheckResult",
    "CheckFailed",
    "check_value",
    "check_function",
    "check_model",
]


@dataclass(frozen=True)
class CheckResult:
    """A passed check: shows as "✓ message" (a failed check raises :class:`CheckFailed`)."""

    message: str

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "✓ " + self.message


class CheckFailed(AssertionError):
    """A wrong answer. ``str(error)`` is the readable "✗ ..." line; ``message`` is without the "✗ "."""

    def __init__(self, message: str) -> None:
        super().__init__("✗ " + message)
        self.message = message


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _call(function: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[Any, str | None]:
    """Call a student's function; return (result, None) or (None, what went wrong)."""
    try:
        return function(*args, **kwargs), None
    except NotImplementedError:
        return None, "raises NotImplementedError: replace the stub with your code."
    except Exception as error:  # a student's bug becomes the check's message
        return None, f"raised {type(error).__name__}: {error}"


def _show_call(name: str, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


# --------------------------------------------------------------------------- general checks
# Each ``_..._problem`` helper returns what is wrong, or None; the public check raises it,
# so that a notebook's traceback is the cell and the check, nothing deeper.


def _value_problem(value: Any, expected: float, name: str, tolerance: float) -> str | None:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if not _is_number(value):
        return f"{name} should be a number; got {type(value).__name__} ({value!r})."
    if abs(value - expected) <= tolerance:
        return None
    direction = "too large" if value > expected else "too small"
    return f"{name} = {value!r} is {direction}. Check your reasoning and try again."


def check_value(value: Any, expected: float, *, name: str, tolerance: float = 0.0) -> CheckResult:
    """Compare a number with the expected one, hinting only at the direction of the error.

    Args:
        value: the student's answer (a number, or a one-element tensor).
        expected: the right value.
        name: the answer's name in the message.
        tolerance: the largest accepted absolute difference.

    Raises:
        CheckFailed: the answer is not a number or not within ``tolerance``.
    """
    problem = _value_problem(value, expected, name, tolerance)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult(f"Correct: {name}.")


def _function_problem(
    function: Any, cases: Sequence[tuple[Sequence[Any], dict[str, Any], Any]], name: str
) -> str | None:
    if not callable(function):
        return f"{name} should be a function; got {type(function).__name__}."
    for args, kwargs, expected in cases:
        call = _show_call(name, args, kwargs)
        result, problem = _call(function, args, kwargs)
        if problem:
            return f"{call} {problem}"
        if _is_int(expected) and not _is_int(result):
            return f"{call} returned {result!r}; a whole number (int) was expected."
        if result != expected:
            return f"{call} returned {result!r}, which is not right."
    return None


def check_function(
    function: Any,
    cases: Sequence[tuple[Sequence[Any], dict[str, Any], Any]],
    *,
    name: str,
) -> CheckResult:
    """Call ``function`` on each ``(args, kwargs, expected)`` case; raise at the first miss.

    Args:
        function: the student's function.
        cases: the calls to make and the results expected.
        name: the function's name in the message.

    Raises:
        CheckFailed: naming the call that went wrong and what it returned, not the right value.
    """
    problem = _function_problem(function, cases, name)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult(f"Correct: {name} passed all {len(cases)} cases.")


def _tensor_problem(what: str, result: Any, problem: str | None, expected: torch.Tensor, values_hint: str,
                    shape_hint: str = "Where the shape changes, the shortcut must change too.") -> str | None:
    """What is wrong with a tensor answer, or None: the call failed, no tensor, the wrong shape, wrong values.

    ``what`` names the call; ``values_hint`` says where to look when only the values are wrong,
    ``shape_hint`` when the shape is (the default is the residual blocks' hint).
    A wrong shape is shown beside the expected shape (the shape is not the answer).
    """
    if problem:
        return f"{what} {problem}"
    if not isinstance(result, torch.Tensor):
        return f"{what} returned {type(result).__name__}; a tensor was expected."
    if result.shape != expected.shape:
        return f"{what} returned shape {tuple(result.shape)}; {tuple(expected.shape)} was expected. {shape_hint}"
    if not torch.allclose(result, expected, atol=1e-5):
        return f"{what} returned the right shape but wrong values. {values_hint}"
    return None


def _randomise(block: nn.Module, seed: int) -> nn.Module:
    """``block`` with random convolution weights and batch-norm scales, shifts and running statistics.

    Fresh batch norms (mean 0, variance 1, scale 1, shift 0) would hide a wrong order of layers
    in an answer; random ones do not. The values come from a generator seeded with ``seed``.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in block.modules():
            if isinstance(module, nn.Conv2d):
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * 0.3)
            elif isinstance(module, nn.BatchNorm2d):
                n = module.num_features
                module.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(n, generator=generator) * 0.5)
                module.running_mean.copy_(torch.randn(n, generator=generator) * 0.5)
                module.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
    return block


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _model_problem(
    model: Any, input_size: tuple[int, ...], output_shape: tuple[int, ...], params: int | None, name: str
) -> str | None:
    if not isinstance(model, nn.Module):
        return f"{name} should be a torch.nn.Module; got {type(model).__name__}."
    with torch.no_grad():
        result, problem = _call(model, (torch.zeros(input_size),), {})
    if problem:
        return f"{name} on an input of shape {input_size} {problem}"
    if not isinstance(result, torch.Tensor):
        return f"{name} should return a tensor; it returned {type(result).__name__}."
    if tuple(result.shape) != tuple(output_shape):
        return f"{name} maps {input_size} to {tuple(result.shape)}; {tuple(output_shape)} was expected."
    if params is not None and _count(model) != params:
        direction = "too many" if _count(model) > params else "too few"
        return f"{name} has {_count(model):,} parameters: {direction}. Compare it layer by layer with the paper."
    return None


def check_model(
    model: Any,
    input_size: tuple[int, ...],
    *,
    output_shape: tuple[int, ...],
    params: int | None = None,
    name: str = "model",
) -> CheckResult:
    """Run ``model`` on zeros of ``input_size``; check the output shape and parameter count.

    Args:
        model: the student's ``nn.Module``.
        input_size: the input's shape, batch included.
        output_shape: the output shape expected (the exercise states it).
        params: the trainable parameters expected, or None not to check them.
        name: the model's name in the message.

    Raises:
        CheckFailed: not a module, a failing forward pass, a wrong shape or count.
    """
    problem = _model_problem(model, input_size, output_shape, params, name)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult(f"Correct: {name} has the right output shape" + (" and parameter count." if params else "."))
