"""Self-checks for the exercises of the DenseNet chapter (``chapters/densenet.ipynb``).

Each expected value is computed from a real ``cnnzoo`` dense block: the maps entering layer l
from ``DenseBlock``'s own layers, a DenseNet-BC layer's parameters from a built ``DenseLayer``,
and a dense block's output from ``DenseBlock.forward`` on random weights.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._core import CheckFailed, CheckResult, _call, _is_int, _randomise, _tensor_problem

__all__ = [
    "INPUT_MAPS_CASES",
    "LAYER_PARAMETER_CASES",
    "BLOCK_CASES",
    "check_input_maps",
    "check_layer_parameters",
    "check_dense_block_forward",
]

#: (k_0, k, l): the layers ``input_maps`` is asked about (l = 1 is the block's first layer).
INPUT_MAPS_CASES = [(24, 12, 1), (24, 12, 2), (24, 12, 16), (64, 32, 6), (16, 12, 12), (3, 5, 4), (7, 1, 9)]

#: (in_channels, k): the DenseNet-BC layers ``layer_parameters`` is asked about.
LAYER_PARAMETER_CASES = [(24, 12), (204, 12), (64, 32), (96, 48), (5, 3)]

#: (num_layers, k_0, k, bn_size): the dense blocks ``dense_block_forward`` is run on.
BLOCK_CASES = [(3, 4, 2, None), (4, 6, 3, 4), (1, 5, 4, None), (5, 2, 1, 2)]


def _layer_maps(k0: int, k: int, l: int) -> int:
    """The maps layer l of a real ``DenseBlock`` reads (its first batch norm's width)."""
    from ..models.densenet import DenseBlock

    with torch.device("meta"):
        block = DenseBlock(l, k0, k, bn_size=None)
    return getattr(block, f"denselayer{l}").norm2.num_features


def check_input_maps(function: Any) -> CheckResult:
    """Exercise: ``input_maps(k0, k, l)``, the maps layer l of a dense block reads.

    The right value is the width of layer l of a real ``DenseBlock`` on k_0 input maps with
    growth rate k.

    Raises:
        CheckFailed: at the first case that goes wrong, without the right value.
    """
    name = "input_maps"
    if not callable(function):
        raise CheckFailed(f"{name} should be a function; got {type(function).__name__}.") from None
    for k0, k, l in INPUT_MAPS_CASES:
        call = f"{name}({k0}, {k}, {l})"
        result, problem = _call(function, (k0, k, l), {})
        if problem:
            raise CheckFailed(f"{call} {problem}") from None
        if not _is_int(result):
            raise CheckFailed(f"{call} returned {result!r}; a whole number (int) was expected.") from None
        if result != _layer_maps(k0, k, l):
            raise CheckFailed(f"{call} returned {result!r}, which is not right. How many layers come before "
                              "layer l, and does the block's input count?") from None
    return CheckResult(f"Correct: {name} passed all {len(INPUT_MAPS_CASES)} cases.")


def _layer_parameters(in_channels: int, k: int) -> int:
    from ..models.densenet import DenseLayer

    with torch.device("meta"):
        layer = DenseLayer(in_channels, k, bn_size=4)
    return sum(p.numel() for p in layer.parameters())


def check_layer_parameters(function: Any) -> CheckResult:
    """Exercise: ``layer_parameters(in_channels, k)``, the parameters of one DenseNet-BC layer.

    The right value is the trainable parameters of a real ``DenseLayer(in_channels, k, bn_size=4)``
    (BN-ReLU-Conv 1x1 to 4k, BN-ReLU-Conv 3x3 to k, no biases).

    Raises:
        CheckFailed: at the first case that goes wrong, without the right value.
    """
    name = "layer_parameters"
    if not callable(function):
        raise CheckFailed(f"{name} should be a function; got {type(function).__name__}.") from None
    for in_channels, k in LAYER_PARAMETER_CASES:
        call = f"{name}({in_channels}, {k})"
        result, problem = _call(function, (in_channels, k), {})
        if problem:
            raise CheckFailed(f"{call} {problem}") from None
        if not _is_int(result):
            raise CheckFailed(f"{call} returned {result!r}; a whole number (int) was expected.") from None
        expected = _layer_parameters(in_channels, k)
        if result != expected:
            direction = "too many" if result > expected else "too few"
            raise CheckFailed(f"{call} returned {result!r}: {direction}. Count each of the layer's four "
                              "modules, the batch norms included (no biases in the convolutions).") from None
    return CheckResult(f"Correct: {name} passed all {len(LAYER_PARAMETER_CASES)} cases.")


class _OneInput(nn.Module):
    """A dense layer that takes one tensor, the concatenation, instead of the list of maps."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer([x])


def check_dense_block_forward(function: Any) -> CheckResult:
    """Exercise: ``dense_block_forward(layers, x)``, a dense block's output from its layers.

    ``layers`` are the block's layers in order, each a module that takes one tensor (the maps it
    reads, already concatenated) and returns its k new maps. Run on real ``DenseBlock`` s with
    random weights and batch-norm statistics (eval mode), with and without bottlenecks; the right
    output is ``DenseBlock.forward``'s.

    Raises:
        CheckFailed: at the first block whose output differs, without the right value.
    """
    from ..models.densenet import DenseBlock

    name = "dense_block_forward"
    if not callable(function):
        raise CheckFailed(f"{name} should be a function; got {type(function).__name__}.") from None
    for seed, (num_layers, k0, k, bn_size) in enumerate(BLOCK_CASES):
        torch.manual_seed(seed)
        block = _randomise(DenseBlock(num_layers, k0, k, bn_size=bn_size), seed).eval()
        layers = [_OneInput(layer) for layer in block.children()]
        x = torch.randn(2, k0, 5, 5, generator=torch.Generator().manual_seed(100 + seed))
        with torch.no_grad():
            expected = block(x.clone())
            result, problem = _call(function, (layers, x.clone()), {})
        what = f"{name} on a block of {num_layers} layers, k_0 = {k0}, k = {k}"
        wrong = _tensor_problem(what, result, problem, expected,
                                "Which maps does each layer read, and in which order are they joined?",
                                shape_hint="How many maps does a dense block output?")
        if wrong:
            raise CheckFailed(wrong) from None
    return CheckResult(f"Correct: {name} matches DenseBlock on all {len(BLOCK_CASES)} blocks.")
