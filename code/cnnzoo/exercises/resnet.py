"""Self-checks for the exercises of the ResNet chapter (``chapters/resnet.ipynb``).

Each expected value is computed by PyTorch or ``cnnzoo`` itself: a residual block's output by
``BasicBlock.forward`` on real blocks, the gradient through a stack of blocks by autograd on
a stack of scalar blocks, an identity block by comparing the block's own forward pass with
its input.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ._core import CheckFailed, CheckResult, _call, _is_number, _randomise, _tensor_problem

__all__ = [
    "RESIDUAL_BLOCK_CASES",
    "GRADIENT_STACK_CASES",
    "check_residual_forward",
    "check_stack_gradient",
    "check_make_identity",
]

#: (in_channels, channels, stride, shortcut): the blocks ``residual_forward`` is run on; a stride-2
#: block's shortcut is not x itself (option A subsamples and pads, option B projects).
RESIDUAL_BLOCK_CASES = [
    (4, 4, 1, "A"),
    (4, 8, 2, "A"),
    (6, 6, 1, "B"),
    (3, 5, 2, "B"),
]

#: (a, k, residual): the scale of each block's branch, the number of blocks, residual or plain.
GRADIENT_STACK_CASES = [
    (0.5, 1, True), (0.5, 1, False),
    (0.5, 10, True), (0.5, 10, False),
    (2.0, 3, True), (2.0, 3, False),
    (-0.5, 4, True), (-0.5, 4, False),
    (0.0, 6, True), (0.0, 6, False),
    (0.1, 20, True), (0.1, 20, False),
    (-1.5, 5, True), (-1.5, 5, False),
]


def _random_block(case: tuple[int, int, int, str], seed: int) -> nn.Module:
    """A ``BasicBlock`` with random weights, batch-norm scales, shifts and running statistics, in eval mode."""
    from ..models.resnet import BasicBlock

    in_channels, channels, stride, shortcut = case
    return _randomise(BasicBlock(in_channels, channels, stride=stride, shortcut=shortcut), seed).eval()


def check_residual_forward(function: Any) -> CheckResult:
    """Exercise: ``residual_forward(block, x)``, a basic block's forward pass from its layers.

    Run on real ``BasicBlock`` s (random weights and batch-norm statistics, eval mode; stride 1
    and 2, options A and B) and inputs with negative and positive values; the right output is
    the block's own ``forward``.

    Raises:
        CheckFailed: at the first block whose output differs, without the right value.
    """
    name = "residual_forward"
    if not callable(function):
        raise CheckFailed(f"{name} should be a function; got {type(function).__name__}.") from None
    for k, case in enumerate(RESIDUAL_BLOCK_CASES):
        block = _random_block(case, seed=k)
        x = torch.randn(2, case[0], 6, 6, generator=torch.Generator().manual_seed(100 + k))
        with torch.no_grad():
            expected = block(x.clone())
            result, problem = _call(function, (block, x.clone()), {})
        what = f"{name} on a block {case[0]} -> {case[1]} maps, stride {case[2]}, shortcut {case[3]!r}"
        wrong = _tensor_problem(what, result, problem, expected,
                                "Check the order of the addition and the last ReLU, and what is added.")
        if wrong:
            raise CheckFailed(wrong) from None
    return CheckResult(f"Correct: {name} matches the block's own forward on all {len(RESIDUAL_BLOCK_CASES)} blocks.")


def _stack_gradient(a: float, k: int, residual: bool) -> float:
    """d(output)/d(input) of k scalar blocks whose branch is F(x) = a x, by autograd (float64)."""
    x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    y = x
    for _ in range(k):
        y = y + a * y if residual else a * y
    (grad,) = torch.autograd.grad(y, x, allow_unused=True)
    return 0.0 if grad is None else grad.item()


def check_stack_gradient(function: Any) -> CheckResult:
    """Exercise: ``stack_gradient(a, k, residual)``, the gradient through k blocks of branch scale a.

    Each block's branch multiplies its input by ``a``; a plain block outputs the branch, a
    residual block adds its input back. The right value is d(output)/d(input) computed by
    autograd on such a stack of scalars.

    Raises:
        CheckFailed: at the first call that goes wrong, without the right value.
    """
    name = "stack_gradient"
    if not callable(function):
        raise CheckFailed(f"{name} should be a function; got {type(function).__name__}.") from None
    for a, k, residual in GRADIENT_STACK_CASES:
        call = f"{name}({a!r}, {k!r}, residual={residual!r})"
        result, problem = _call(function, (a, k), {"residual": residual})
        if problem:
            raise CheckFailed(f"{call} {problem}") from None
        if isinstance(result, torch.Tensor) and result.numel() == 1:
            result = result.item()
        if not _is_number(result):
            raise CheckFailed(f"{call} returned {result!r}; a number was expected.") from None
        expected = _stack_gradient(a, k, residual)
        if not math.isclose(result, expected, rel_tol=1e-9, abs_tol=1e-12):
            raise CheckFailed(f"{call} returned {result!r}, which is not right.") from None
    return CheckResult(f"Correct: {name} passed all {len(GRADIENT_STACK_CASES)} cases.")


def check_make_identity(function: Any) -> CheckResult:
    """Exercise: ``make_identity(block)`` sets weights of a residual ``BasicBlock`` so that it is the identity.

    Run on real stride-1 blocks with option-A shortcuts, random weights, batch-norm scales,
    shifts and running statistics; afterwards the block's own forward pass must return its
    input, for non-negative inputs (a block's input is the previous block's ReLU output), in
    eval mode and in training mode. Only the branch may change: the check counts the
    parameters set to zero and rejects zeroing the whole block.

    Raises:
        CheckFailed: the block changed nothing, or is not the identity, or more than the last
            batch norm's parameters (or one convolution's weights) were needed.
    """
    from ..models.resnet import BasicBlock

    name = "make_identity"
    if not callable(function):
        raise CheckFailed(f"{name} should be a function; got {type(function).__name__}.") from None
    for k, channels in enumerate((4, 6)):
        block = _random_block((channels, channels, 1, "A"), seed=10 + k)
        before = {n: p.detach().clone() for n, p in block.named_parameters()}
        with torch.no_grad():
            _, problem = _call(function, (block,), {})
        if problem:
            raise CheckFailed(f"{name}(block) {problem}") from None
        changed = [n for n, p in block.named_parameters() if not torch.equal(p, before[n])]
        if not changed:
            raise CheckFailed(f"{name}(block) changed none of the block's weights; change them in place "
                              "(with torch.no_grad(): ... .zero_()).") from None
        x = torch.rand(3, channels, 5, 5, generator=torch.Generator().manual_seed(200 + k)) * 2
        for mode in ("eval", "train"):
            getattr(block, mode)()
            with torch.no_grad():
                y = BasicBlock.forward(block, x.clone())
            if not torch.allclose(y, x, atol=1e-6):
                raise CheckFailed(f"after {name}(block), the block in {mode} mode does not return its input. "
                                  "Which layer's output must be exactly zero, whatever its input?") from None
        zeroed = sum(p.numel() for n, p in block.named_parameters() if n in changed)
        if zeroed == sum(p.numel() for p in block.parameters()):
            raise CheckFailed(f"{name}(block) changed every weight of the block; far fewer are enough.") from None
    return CheckResult(f"Correct: {name} makes a block the identity, in eval and training mode.")
