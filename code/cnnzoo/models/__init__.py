"""The model registry: every architecture in the book, built by name.

    >>> from cnnzoo import models
    >>> "lenet5" in models.available()
    True
    >>> net = models.build("lenet5", num_classes=10)

Names follow torchvision where torchvision has the model (``alexnet``, ``vgg16``, ...);
the others are named after the paper (``lenet5``, ``lenet5_1998``, ...).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from typing import Callable

from torch import nn

from ._checks import InputSpec

__all__ = ["register", "available", "build", "InputSpec"]

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator that adds a builder function to the registry under ``name``.

    The builder's models carry ``name`` in their ``input_spec``, so that their input errors
    say which model refused the input without ``forward`` spelling out its own name.
    """

    def add(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise ValueError(f"a model named {name!r} is already registered")

        @functools.wraps(builder)
        def build_named(*args, **kwargs) -> nn.Module:
            model = builder(*args, **kwargs)
            if isinstance(getattr(model, "input_spec", None), InputSpec):
                model.input_spec = dataclasses.replace(model.input_spec, name=name)
            return model

        _REGISTRY[name] = build_named
        return build_named

    return add


def available() -> list[str]:
    """The names of every registered model, sorted."""
    return sorted(_REGISTRY)


def build(name: str, **kwargs) -> nn.Module:
    """Build the registered model ``name``; keyword arguments go to its builder.

    Raises:
        ValueError: if no model has that name; the message suggests the close names, if any.
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        close = difflib.get_close_matches(str(name), _REGISTRY, n=3)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"no model named {name!r}.{hint} models.available() lists all {len(_REGISTRY)}.")
    return _REGISTRY[name](**kwargs)


# Importing a model module registers its builders.
from . import alexnet, densenet, fractalnet, googlenet, lenet, nin, resnet, resnext, squeezenet, stochastic_depth, vgg, wide_resnet  # noqa: E402,F401
