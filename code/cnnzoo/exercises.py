"""Self-checks for the exercises: they say "correct" or what is wrong, never the answer.

Each check returns a :class:`CheckResult`, which shows as one line in a notebook
("✓ ..." or "✗ ...") and is truthy only when the answer is right, so an autograder can
``assert`` it. A check never crashes on a wrong type or on a student's function that
raises: it reports the problem instead.

The expected values are computed here from PyTorch itself (a real ``nn.Conv2d``, a real
``cnnzoo`` model), not typed in.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
from torch import nn

__all__ = [
    "CheckResult",
    "check_value",
    "check_function",
    "check_model",
    "check_conv_output_size",
    "check_c3_parameters",
    "check_lenet5_for_28x28",
]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a check: ``passed`` and a one-line ``message``."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return ("✓ " if self.passed else "✗ ") + self.message


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_value(value: Any, expected: float, *, name: str, tolerance: float = 0.0) -> CheckResult:
    """Compare a number with the expected one, hinting only at the direction of the error."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if not _is_number(value):
        return CheckResult(False, f"{name} should be a number; got {type(value).__name__} ({value!r}).")
    if abs(value - expected) <= tolerance:
        return CheckResult(True, f"Correct: {name}.")
    direction = "too large" if value > expected else "too small"
    return CheckResult(False, f"{name} = {value!r} is {direction}. Check your reasoning and try again.")


def _call(function: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[Any, str | None]:
    """Call a student's function; return (result, None) or (None, what went wrong)."""
    try:
        return function(*args, **kwargs), None
    except NotImplementedError:
        return None, "raises NotImplementedError: replace the stub with your code."
    except Exception as error:  # a student's bug is reported, not raised
        return None, f"raised {type(error).__name__}: {error}"


def _show_call(name: str, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def check_function(
    function: Any,
    cases: Sequence[tuple[Sequence[Any], dict[str, Any], Any]],
    *,
    name: str,
) -> CheckResult:
    """Call ``function`` on each ``(args, kwargs, expected)`` case and report the first miss.

    The message names the call that went wrong and what it returned, not the right value.
    """
    if not callable(function):
        return CheckResult(False, f"{name} should be a function; got {type(function).__name__}.")
    for args, kwargs, expected in cases:
        call = _show_call(name, args, kwargs)
        result, problem = _call(function, args, kwargs)
        if problem:
            return CheckResult(False, f"{call} {problem}")
        if isinstance(expected, int) and not (isinstance(result, numbers.Integral) and not isinstance(result, bool)):
            return CheckResult(False, f"{call} returned {result!r}; a whole number (int) was expected.")
        if result != expected:
            return CheckResult(False, f"{call} returned {result!r}, which is not right.")
    return CheckResult(True, f"Correct: {name} passed all {len(cases)} cases.")


def check_model(
    model: Any,
    input_size: tuple[int, ...],
    *,
    output_shape: tuple[int, ...],
    params: int | None = None,
    name: str = "model",
) -> CheckResult:
    """Run ``model`` on zeros of ``input_size`` and check the output shape and parameter count."""
    if not isinstance(model, nn.Module):
        return CheckResult(False, f"{name} should be a torch.nn.Module; got {type(model).__name__}.")
    result, problem = _call(model, (torch.zeros(input_size),), {})
    if problem:
        return CheckResult(False, f"{name} on an input of shape {input_size} {problem}")
    if not isinstance(result, torch.Tensor):
        return CheckResult(False, f"{name} should return a tensor; it returned {type(result).__name__}.")
    if tuple(result.shape) != tuple(output_shape):
        return CheckResult(
            False, f"{name} maps {input_size} to {tuple(result.shape)}; {tuple(output_shape)} was expected."
        )
    if params is not None:
        count = sum(p.numel() for p in model.parameters() if p.requires_grad)
        if count != params:
            direction = "too many" if count > params else "too few"
            return CheckResult(False, f"{name} has {count:,} parameters: {direction}. Compare it layer by layer with the paper.")
    return CheckResult(True, f"Correct: {name} has the right output shape" + (" and parameter count." if params else "."))


# --------------------------------------------------------------------------- LeNet-5 chapter


def _conv_output_width(size: int, kernel: int, stride: int, padding: int) -> int:
    """The width PyTorch itself produces: run a real convolution on zeros."""
    conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, bias=False)
    with torch.no_grad():
        return conv(torch.zeros(1, 1, size, size)).shape[-1]


def check_conv_output_size(function: Any) -> CheckResult:
    """Exercise: ``conv_output_size(size, kernel, stride=1, padding=0)``."""
    settings = [(32, 5, 1, 0), (28, 5, 1, 2), (14, 5, 1, 0), (227, 11, 4, 0), (224, 7, 2, 3), (10, 3, 2, 1), (7, 3, 3, 0)]
    cases = [
        ((size, kernel), {"stride": stride, "padding": padding}, _conv_output_width(size, kernel, stride, padding))
        for size, kernel, stride, padding in settings
    ]
    return check_function(function, cases, name="conv_output_size")


def check_c3_parameters(full: Any, saved: Any) -> CheckResult:
    """Exercise: C3's parameters if fully connected, and how many Table I saves."""
    from .models.lenet import C3_CONNECTIONS, PartialConv2d

    full_count = sum(p.numel() for p in nn.Conv2d(6, 16, 5).parameters())
    table_count = sum(p.numel() for p in PartialConv2d(C3_CONNECTIONS, 5).parameters())
    first = check_value(full, full_count, name="full")
    if not first:
        return first
    second = check_value(saved, full_count - table_count, name="saved")
    if not second:
        return second
    return CheckResult(True, "Correct: both counts.")


def check_lenet5_for_28x28(build: Any) -> CheckResult:
    """Exercise: a LeNet-5 that takes 28x28 images directly, with the modern variant's parameters."""
    from .models import build as build_model

    if not callable(build):
        return CheckResult(False, f"lenet5_28 should be a function that returns a model; got {type(build).__name__}.")
    model, problem = _call(build, (), {})
    if problem:
        return CheckResult(False, f"lenet5_28() {problem}")
    reference = sum(p.numel() for p in build_model("lenet5").parameters())
    return check_model(model, (2, 1, 28, 28), output_shape=(2, 10), params=reference, name="lenet5_28()")
