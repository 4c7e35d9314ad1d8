"""What every model checks before its first layer: its input contract, and its arguments.

Each model holds an ``InputSpec`` as ``model.input_spec`` and starts ``forward`` with
``check_images(x, self.input_spec)``, so that a wrong input raises a ``ValueError`` naming
what the model expected, before any layer fails with a bare shape error.

``torch.fx`` traces a model by calling its ``forward`` on placeholder values, on which
``x.dim()`` cannot be answered. Each model module therefore declares the check a leaf of the
graph with ``torch.fx.wrap("check_images")`` at its top level (``fx`` patches the name in the
calling module's globals, so the line belongs in the module that calls it): the traced graph
then calls ``check_images`` on the real input, and the check keeps working after tracing.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["InputSpec", "check_images", "check_counts", "check_probability"]


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@dataclass(frozen=True)
class InputSpec:
    """The images a model takes: ``channels`` maps of ``size``, or of any size >= ``min_size``.

    Args:
        channels: the number of input channels the model was built for.
        size: the (height, width) the model is built and described for (the paper's size).
        fixed: ``True`` when only ``size`` works (e.g. fully connected layers after a
            flatten fix it); ``False`` when any size of at least ``min_size`` works.
        min_size: with ``fixed=False``, the smallest height and width the model accepts.
        name: the model's name, for error messages; the registry sets its registered name.
    """

    channels: int
    size: tuple[int, int]
    fixed: bool = True
    min_size: int | None = None
    name: str = "this model"

    def __post_init__(self) -> None:
        if not _is_positive_int(self.channels):
            raise ValueError(f"channels must be a positive integer; got {self.channels!r}")
        if not (isinstance(self.size, tuple) and len(self.size) == 2 and all(map(_is_positive_int, self.size))):
            raise ValueError(f"size must be a (height, width) tuple of positive integers; got {self.size!r}")
        if self.fixed and self.min_size is not None:
            raise ValueError(f"a fixed-size input takes no min_size; got min_size={self.min_size!r}")
        if not self.fixed and not (_is_positive_int(self.min_size) and self.min_size <= min(self.size)):
            raise ValueError(
                f"fixed=False needs min_size, a positive integer no larger than size {self.size}; "
                f"got {self.min_size!r}"
            )

    @property
    def shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of one image of the model's own size."""
        return (self.channels, *self.size)


def check_images(x: object, spec: InputSpec) -> None:
    """Raise ``ValueError`` (``TypeError`` for a non-tensor) unless ``x`` is a batch ``spec`` allows.

    Args:
        x: what the model was given.
        spec: the model's input contract (``model.input_spec``).
    """
    model, channels = spec.name, spec.channels
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{model} expects a torch.Tensor of shape (N, C, H, W); got {type(x).__name__}.")
    if x.dim() != 4:
        hint = " For one image, add a batch dimension with x.unsqueeze(0)." if x.dim() == 3 else ""
        raise ValueError(
            f"{model} expects a 4-D batch of shape (N, {channels}, H, W); "
            f"got a {x.dim()}-D tensor of shape {tuple(x.shape)}.{hint}"
        )
    if x.shape[1] != channels:
        raise ValueError(
            f"{model} was built for {channels} input channel(s); got {x.shape[1]} "
            f"(input shape {tuple(x.shape)}). Build it with in_channels={x.shape[1]} or convert the images."
        )
    height, width = x.shape[-2:]
    if spec.fixed and (height, width) != spec.size:
        raise ValueError(
            f"{model} expects {spec.size[0]}x{spec.size[1]} images (its fully connected layers fix the size); "
            f"got {height}x{width}. Resize or pad the images first."
        )
    if not spec.fixed and min(height, width) < spec.min_size:
        raise ValueError(
            f"{model} needs images of at least {spec.min_size}x{spec.min_size}; got {height}x{width}."
        )


def check_counts(**counts: object) -> None:
    """Raise ``ValueError`` unless every keyword argument is a positive integer.

    Example: ``check_counts(num_classes=num_classes, in_channels=in_channels)``.
    """
    for name, value in counts.items():
        if not _is_positive_int(value):
            raise ValueError(f"{name} must be a positive integer; got {value!r}")


def check_probability(**probabilities: float) -> None:
    """Raise ``ValueError`` unless each argument is a probability in [0, 1), e.g. ``dropout=0.5``."""
    for name, value in probabilities.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be a probability in [0, 1); got {value!r}")
