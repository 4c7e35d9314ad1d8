"""One forward pass on zeros, as ``analysis`` and ``diagrams`` need it: shared, private."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["check_input_size", "model_device", "forward_on_zeros"]


def check_input_size(input_size: object) -> tuple[int, ...]:
    """``input_size`` as a tuple, or a ``ValueError`` that says what was expected."""
    if (
        not isinstance(input_size, (tuple, list))
        or len(input_size) < 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in input_size)
    ):
        raise ValueError(
            f"input_size must be a tuple of positive ints with the batch first, e.g. (1, 1, 32, 32); got {input_size!r}"
        )
    return tuple(input_size)


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (the CPU if it has none)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def forward_on_zeros(model: nn.Module, input_size: tuple[int, ...]) -> Any:
    """Run ``model`` once on ``torch.zeros(input_size)`` in eval mode without gradients.

    The model is put back in the mode it was in, even if the forward pass fails.
    """
    input_size = check_input_size(input_size)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(torch.zeros(input_size, device=model_device(model)))
    finally:
        model.train(was_training)
