"""Self-checks for the exercises of the VGG chapter (``chapters/vgg.ipynb``).

Each expected value is computed from PyTorch or ``cnnzoo`` itself: receptive fields by
``analysis.receptive_field`` on a chain of real layer settings, activation memory from a real
tensor's ``element_size() * numel()``, parameter counts from real ``nn.Conv2d`` layers (built on
the "meta" device, so a 512-channel layer costs nothing).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._core import CheckFailed, CheckResult, _call, _function_problem, _is_int

__all__ = [
    "RECEPTIVE_FIELD_CASES",
    "MEMORY_CASES",
    "STACK_CASES",
    "check_stack_receptive_field",
    "check_activation_memory",
    "check_stack_parameters",
]

#: (n, kernel): stacks of n convolutions with stride 1, kernel given or the default 3.
RECEPTIVE_FIELD_CASES = [(1, None), (2, None), (3, None), (4, None), (7, None), (1, 5), (2, 5), (3, 7), (2, 1)]

#: (channels, height, width, batch_size, bytes_per_value): VGG-16's layers at 224x224, other
#: batches, and half and double precision, so that a batch or a value size left out shows.
MEMORY_CASES = [
    (64, 224, 224, 1, 4),
    (512, 14, 14, 1, 4),
    (3, 224, 224, 1, 4),
    (128, 112, 112, 32, 4),
    (256, 56, 56, 8, 2),
    (4096, 1, 1, 64, 8),
    (64, 112, 56, 3, 2),
]

#: (channels, n): stacks of n 3x3 convolutions against one convolution of the same field.
STACK_CASES = [(64, 2), (128, 3), (512, 3), (10, 1), (3, 4)]


def _receptive_field(n: int, kernel: int) -> int:
    """The field of the last of ``n`` stacked stride-1 convolutions, by ``analysis.receptive_field``."""
    from ..analysis import receptive_field

    layers = [(f"conv{i + 1}", kernel, 1, kernel // 2) for i in range(n)]
    return receptive_field(layers).layers[-1].size


def check_stack_receptive_field(function: Any) -> CheckResult:
    """Exercise: ``stack_receptive_field(n, kernel=3)``, the receptive field of n stacked convolutions.

    Called with the default kernel and with ``kernel`` given by keyword and by position; the
    right value is the size ``analysis.receptive_field`` computes for the same stack (stride 1).

    Raises:
        CheckFailed: at the first call that goes wrong, without the right value.
    """
    name = "stack_receptive_field"
    cases = []
    for n, kernel in RECEPTIVE_FIELD_CASES:
        if kernel is None:
            cases.append(((n,), {}, _receptive_field(n, 3)))
        else:
            cases.append(((n,), {"kernel": kernel}, _receptive_field(n, kernel)))
            cases.append(((n, kernel), {}, _receptive_field(n, kernel)))
    problem = _function_problem(function, cases, name)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult(f"Correct: {name} passed all {len(cases)} cases.")


def _tensor_bytes(channels: int, height: int, width: int, batch_size: int, bytes_per_value: int) -> int:
    """The bytes of a real tensor of that shape, with a dtype of that size."""
    dtype = {2: torch.float16, 4: torch.float32, 8: torch.float64}[bytes_per_value]
    tensor = torch.empty(batch_size, channels, height, width, dtype=dtype, device="meta")
    return tensor.element_size() * tensor.numel()


def check_activation_memory(function: Any) -> CheckResult:
    """Exercise: ``activation_memory(channels, height, width, batch_size=1, bytes_per_value=4)`` in bytes.

    Called with the defaults and with every argument given, on VGG-16's layer shapes and
    others; the right value is what a real tensor of that shape and dtype takes.

    Raises:
        CheckFailed: at the first call that goes wrong, with a hint about the unit when
            every answer is in bits (8 times the bytes), without the right value.
    """
    name = "activation_memory"
    defaults = [((c, h, w), {}, _tensor_bytes(c, h, w, 1, 4)) for c, h, w, b, v in MEMORY_CASES if (b, v) == (1, 4)]
    given = [((c, h, w), {"batch_size": b, "bytes_per_value": v}, _tensor_bytes(c, h, w, b, v)) for c, h, w, b, v in MEMORY_CASES]
    cases = defaults + given
    problem = _function_problem(function, cases, name)
    if problem:
        results = [_call(function, args, kwargs)[0] for args, kwargs, _ in cases]
        if all(_is_int(r) and r == 8 * expected for r, (_, _, expected) in zip(results, cases)):
            problem = f"{problem.rstrip('.')}: check its unit, bytes (a byte is 8 bits)."
        raise CheckFailed(problem) from None
    return CheckResult(f"Correct: {name} passed all {len(cases)} cases.")


def _conv_parameters(channels: int, kernel: int) -> int:
    with torch.device("meta"):
        conv = nn.Conv2d(channels, channels, kernel)
    return sum(p.numel() for p in conv.parameters())


def _stack_problem(function: Any) -> str | None:
    name = "stack_parameters"
    if not callable(function):
        return f"{name} should be a function; got {type(function).__name__}."
    for channels, n in STACK_CASES:
        call = f"{name}({channels}, {n})"
        try:
            result = function(channels, n)
        except NotImplementedError:
            return f"{call} raises NotImplementedError: replace the stub with your code."
        except Exception as error:
            return f"{call} raised {type(error).__name__}: {error}"
        if not isinstance(result, (tuple, list)) or len(result) != 2 or not all(_is_int(v) for v in result):
            return f"{call} returned {result!r}; two whole numbers (stack, single) were expected."
        stack, single = result
        expected_stack = n * _conv_parameters(channels, 3)
        # the single layer that sees what the stack's last layer sees: kernel = its receptive field
        expected_single = _conv_parameters(channels, _receptive_field(n, 3))
        if expected_stack != expected_single and (stack, single) == (expected_single, expected_stack):
            return f"{call} returned {result!r}: the two counts are in the wrong order (stack first)."
        for label, value, expected in (("stack", stack, expected_stack), ("single", single, expected_single)):
            if value != expected:
                direction = "too large" if value > expected else "too small"
                return f"{call}: the {label} count {value:,} is {direction}. Did you count every weight and bias?"
    return None


def check_stack_parameters(function: Any) -> CheckResult:
    """Exercise: ``stack_parameters(channels, n)`` -> (stack, single), biases included.

    ``stack``: the parameters of n stacked 3x3 convolutions from ``channels`` to ``channels``
    maps; ``single``: those of one convolution with the same receptive field, also from
    ``channels`` to ``channels``. The right values are counted on real ``nn.Conv2d`` layers.

    Raises:
        CheckFailed: naming the first wrong count and its direction, never the right count.
    """
    problem = _stack_problem(function)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult(f"Correct: stack_parameters passed all {len(STACK_CASES)} cases.")
