"""Input checks shared by every model: a clear ``ValueError`` before any layer fails."""

from __future__ import annotations

import torch

__all__ = ["check_images"]


def check_images(
    x: object,
    model: str,
    in_channels: int,
    size: tuple[int, int] | None = None,
    min_size: int | None = None,
) -> None:
    """Raise ``ValueError`` unless ``x`` is a batch of images the model can take.

    Args:
        x: what the model was given.
        model: the model's name, for the message.
        in_channels: the number of channels the model was built for.
        size: the exact (height, width) the model needs, if its fully connected layers fix it.
        min_size: the smallest height and width the model accepts, if any size above it works.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{model} expects a torch.Tensor of shape (N, C, H, W); got {type(x).__name__}.")
    if x.dim() != 4:
        hint = " For one image, add a batch dimension with x.unsqueeze(0)." if x.dim() == 3 else ""
        raise ValueError(
            f"{model} expects a 4-D batch of shape (N, {in_channels}, H, W); "
            f"got a {x.dim()}-D tensor of shape {tuple(x.shape)}.{hint}"
        )
    if x.shape[1] != in_channels:
        raise ValueError(
            f"{model} was built for {in_channels} input channel(s); got {x.shape[1]} "
            f"(input shape {tuple(x.shape)}). Build it with in_channels={x.shape[1]} or convert the images."
        )
    height, width = x.shape[-2:]
    if size is not None and (height, width) != tuple(size):
        raise ValueError(
            f"{model} expects {size[0]}x{size[1]} images (its fully connected layers fix the size); "
            f"got {height}x{width}. Resize or pad the images first."
        )
    if min_size is not None and min(height, width) < min_size:
        raise ValueError(
            f"{model} needs images of at least {min_size}x{min_size}; got {height}x{width}."
        )
