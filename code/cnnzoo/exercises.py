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
    "check_conv_output_size",
    "check_c3_parameters",
    "check_lenet5_for_28x28",
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


# --------------------------------------------------------------------------- LeNet-5 chapter


def _conv_output_width(size: int, kernel: int, stride: int, padding: int) -> int:
    """The width PyTorch itself produces: run a real convolution on zeros."""
    conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, bias=False)
    with torch.no_grad():
        return conv(torch.zeros(1, 1, size, size)).shape[-1]


#: (size, kernel, stride, padding): LeNet-5's layers and others; stride != padding in most, so
#: that arguments in the wrong order give wrong widths, and some do not divide evenly (floor).
CONV_SETTINGS = [(32, 5, 1, 0), (28, 5, 1, 2), (14, 5, 1, 0), (227, 11, 4, 0), (224, 7, 2, 3), (10, 3, 2, 1), (7, 3, 3, 0), (9, 4, 3, 2)]


def check_conv_output_size(function: Any) -> CheckResult:
    """Exercise: ``conv_output_size(size, kernel, stride=1, padding=0)``.

    The function is called with the defaults, with ``stride`` and ``padding`` as keywords,
    and with all four arguments by position, so that arguments in another order fail.

    Raises:
        CheckFailed: at the first call that goes wrong.
    """
    name = "conv_output_size"
    defaults = [((32, 5), {}, _conv_output_width(32, 5, 1, 0)), ((28, 3), {}, _conv_output_width(28, 3, 1, 0))]
    keywords = [((s, k), {"stride": st, "padding": p}, _conv_output_width(s, k, st, p)) for s, k, st, p in CONV_SETTINGS]
    positional = [((s, k, st, p), {}, _conv_output_width(s, k, st, p)) for s, k, st, p in CONV_SETTINGS]
    problem = _function_problem(function, defaults + keywords, name)
    if problem:
        raise CheckFailed(problem) from None
    problem = _function_problem(function, positional, name)
    if problem:
        raise CheckFailed(
            f"{problem.rstrip('.')}. With keywords it is right: take the arguments in the order "
            "(size, kernel, stride, padding)."
        ) from None
    return CheckResult(f"Correct: {name} passed all {len(defaults + keywords + positional)} cases.")


def check_c3_parameters(full: Any, saved: Any) -> CheckResult:
    """Exercise: C3's parameters if fully connected (``full``), and how many Table I saves (``saved``).

    Raises:
        CheckFailed: naming the first wrong number and whether it is too large or too small.
    """
    from .models.lenet import C3_CONNECTIONS, PartialConv2d

    full_count = sum(p.numel() for p in nn.Conv2d(6, 16, 5).parameters())
    table_count = sum(p.numel() for p in PartialConv2d(C3_CONNECTIONS, 5).parameters())
    problem = _value_problem(full, full_count, "full", 0.0) or _value_problem(saved, full_count - table_count, "saved", 0.0)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult("Correct: both counts.")


#: Layers whose outputs the LeNet-5 checks follow: those with weights, and pooling.
_TRACED = (nn.Conv2d, nn.Linear, nn.MaxPool2d, nn.AvgPool2d, nn.LPPool2d, nn.AdaptiveMaxPool2d, nn.AdaptiveAvgPool2d)
#: Layers the modern LeNet-5 does not have, and what it has instead.
_NOT_MODERN = {
    (nn.AvgPool2d, nn.LPPool2d, nn.AdaptiveAvgPool2d): "average pooling; the modern variant's pooling is max pooling",
    (nn.Tanh, nn.Sigmoid, nn.Hardtanh, nn.Softsign): "a squashing activation; the modern variant's activation is ReLU",
}


def _trace(model: nn.Module, x: torch.Tensor) -> tuple[Any, list[tuple[str, tuple[int, ...]]]]:
    """Run ``model`` on ``x``; return its output and (layer type, output shape) of every traced layer.

    The shapes are per example; a convolution's 1x1 maps count as plain values, so that
    C5 as a 5x5 convolution and C5 as a fully connected layer look alike.
    """
    layers: list[tuple[str, tuple[int, ...]]] = []

    def record(module: nn.Module, inputs: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor):
            shape = tuple(output.shape[1:])
            while len(shape) > 1 and shape[-2:] == (1, 1):
                shape = shape[:-2]
            layers.append((type(module).__name__, shape))

    hooks = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, _TRACED)]
    try:
        return model(x), layers
    finally:
        for hook in hooks:
            hook.remove()


def _show_shape(shape: tuple[int, ...]) -> str:
    """``(6, 28, 28)`` as "6@28x28 maps", ``(120,)`` as "120 values"."""
    if len(shape) == 3:
        return f"{shape[0]}@{shape[1]}x{shape[2]} maps"
    return f"{'x'.join(map(str, shape))} values"


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _lenet5_28_problem(build: Any) -> str | None:
    """What is wrong with ``build``, the student's ``lenet5_28``, or None (see check_lenet5_for_28x28)."""
    from .models import build as build_model

    name = "lenet5_28()"
    if isinstance(build, nn.Module) or not callable(build):
        return (
            f"lenet5_28 should be a function that returns a model (def lenet5_28(): return nn.Sequential(...)); "
            f"got {type(build).__name__}."
        )
    model, problem = _call(build, (), {})
    if problem:
        return f"{name} {problem}"
    reference = build_model("lenet5")
    problem = _model_problem(model, (2, 1, 28, 28), (2, 10), _count(reference), name)
    if problem:
        return problem
    for kinds, instead in _NOT_MODERN.items():
        found = next((m for m in model.modules() if isinstance(m, kinds)), None)
        if found is not None:
            return f"{name} uses {type(found).__name__}: {instead}."
    shapes = [tuple(p.shape) for p in model.parameters() if p.requires_grad]
    reference_shapes = [tuple(p.shape) for p in reference.parameters()]
    # A layer may differ in form only: C5 as a 5x5 convolution has the fully connected C5's
    # weights, reshaped. So compare each tensor's size and its number of output units.
    if len(shapes) != len(reference_shapes) or any(
        torch.Size(a).numel() != torch.Size(b).numel() or a[0] != b[0] for a, b in zip(shapes, reference_shapes)
    ):
        listed = ", ".join("x".join(map(str, s)) for s in shapes)
        return (
            f"{name}'s weights and biases ({listed}) are not those of LeNet-5's layers, though their total is right: "
            "build it layer by layer (C1, S2, C3, S4, C5, F6, output)."
        )
    x = torch.randn(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        first = next(model.parameters())
        output, layers = _trace(model, x.to(first.device))
        _, reference_layers = _trace(reference, F.pad(x, (2, 2, 2, 2)))
    layer_names = [n.upper() if len(n) == 2 else f"{n} layer" for n, m in reference.named_children() if isinstance(m, _TRACED)]
    for i, ((kind, shape), (_, wanted)) in enumerate(zip(layers, reference_layers)):
        if shape != wanted:
            return (
                f"{name}'s {_ordinal(i + 1)} layer with weights or pooling ({kind}) gives {_show_shape(shape)}, "
                f"unlike LeNet-5's {layer_names[i]}: follow the shapes from the 28x28 input."
            )
    # The same layers compute the same function: load the student's weights into cnnzoo's
    # lenet5 and compare on random images, zero-padded to 32x32 for lenet5 (padding in C1 and
    # padding the image with zeros are the same computation).
    with torch.no_grad():
        for mine, theirs in zip(reference.parameters(), model.parameters()):
            mine.copy_(theirs.detach().cpu().reshape(mine.shape))
        expected = reference(F.pad(x, (2, 2, 2, 2)))
    if not torch.allclose(output.detach().cpu().float(), expected, rtol=1e-4, atol=1e-5):
        return (
            f"{name} has LeNet-5's layers and shapes but computes something else with the same weights: check "
            "the order of its layers, its activations (ReLU after each layer but the last) and its padding (zeros)."
        )
    return None


def check_lenet5_for_28x28(build: Any) -> CheckResult:
    """Exercise: a LeNet-5 that takes 28x28 images directly, built by the function ``build``.

    What counts as right: the modern LeNet-5 (``models.build("lenet5")``) on the 28x28 image
    padded with zeros to 32x32. So ``build()`` must return a module whose parameters come
    in lenet5's layers (C5 may be a 5x5 convolution instead of a fully connected layer),
    whose feature maps have lenet5's shapes from C1 on, and which, given its own weights,
    computes what lenet5 computes with those weights on the zero-padded image. Padding in
    C1 (``padding=2``), an ``nn.ZeroPad2d(2)`` before it, or ``F.pad`` in ``forward`` all
    pass; padding with another value, resizing the image, average pooling, tanh, layers in
    another order, or other layers with the same parameter count fail.

    The check leaves the global random state as it found it.

    Raises:
        CheckFailed: naming the first thing that differs, never the layers' expected shapes.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        problem = _lenet5_28_problem(build)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult("Correct: lenet5_28() builds LeNet-5's layers for 28x28 inputs.")
