"""Self-checks for the exercises of the LeNet-5 chapter (``chapters/lenet.ipynb``)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ._core import (
    CheckFailed,
    CheckResult,
    _call,
    _count,
    _function_problem,
    _model_problem,
    _value_problem,
)

__all__ = ["CONV_SETTINGS", "check_conv_output_size", "check_c3_parameters", "check_lenet5_for_28x28"]


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
    from ..models.lenet import C3_CONNECTIONS, PartialConv2d

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
    from ..models import build as build_model

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
