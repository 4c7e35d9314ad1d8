"""torchvision's published ImageNet weights, loaded into the book's twin models (full mode).

A model of the book is a *twin* of a torchvision model when it is registered under a name that
torchvision's classification models also have (``alexnet``, ``vgg16``, ``googlenet``,
``resnet18`` ... ``resnet152``): its parameters have exactly torchvision's names, shapes and order, so
torchvision's state dict loads into it unchanged, and its outputs then equal torchvision's.

    >>> from cnnzoo import models
    >>> from cnnzoo.models.pretrained import load_torchvision_weights
    >>> net = load_torchvision_weights(models.build("alexnet"), "alexnet")  # doctest: +SKIP

The weights are downloaded once (AlexNet: 233 MB) into torch.hub's cache,
``<torch.hub.get_dir()>/checkpoints``, and read from there afterwards, without the network.
Their file is unpickled with ``weights_only=True``: tensors and plain containers only, never
arbitrary objects. Images must be prepared as torchvision prepared them in training: resized,
centre-cropped and normalised by ImageNet's mean and standard deviation, which
``torchvision.models.get_model_weights(name).DEFAULT.transforms()`` does.

GoogLeNet: torchvision's file holds the auxiliary heads too, untrained ("auxiliary heads in the
pretrained googlenet model are NOT pretrained", torchvision warns), and its published count
(6,624,904) leaves them out. ``models.build("googlenet", transform_input=True)`` (heads included)
loads every tensor of the file; ``aux_logits=False`` loads all but the heads'. The weights
were trained on images scaled to [-1, 1], which ``transform_input=True`` makes from
ImageNet-normalised ones, so the loader refuses a googlenet built without it.

ResNet-50, -101 and -152: torchvision's weights were trained with the downsampling stride on each
bottleneck's 3x3 convolution ("V1.5"); the book's default follows the paper (stride on the first
1x1). The parameters are the same, so the loader checks the setting and refuses
``models.build("resnet50")``: build it as ``models.build("resnet50", stride_on="3x3")``.

DenseNet-121, -161, -169 and -201: torchvision's files were saved under an older naming of the dense
layers' modules (``...denselayer1.norm.1.weight`` for today's ``...denselayer1.norm1.weight``);
torchvision renames them with a regular expression before loading, and so does this loader.
"""

from __future__ import annotations

import os
import re
import socket
import urllib.error
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn

__all__ = ["WeightsUnavailableError", "load_torchvision_weights", "torchvision_weights", "DOWNLOAD_TIMEOUT_S"]

DOWNLOAD_TIMEOUT_S = 30.0  # seconds a download may wait on the network before it fails


# Parameters of a published file that a twin may lack, by their names' prefix: torchvision's
# googlenet file holds its auxiliary heads, which its published count and its builder leave out.
_OPTIONAL_PREFIXES: dict[str, tuple[str, ...]] = {"googlenet": ("aux1.", "aux2.")}
# Constructor settings that the published weights need, checked on the model before downloading.
# The bottleneck ResNets were trained with the stride on the 3x3 convolution ("V1.5"); the book's
# default is the paper's placement, which has the same parameters but computes another function.
_REQUIRED_SETTINGS: dict[str, dict[str, object]] = {
    "googlenet": {"transform_input": True},
    "resnet50": {"stride_on": "3x3"},
    "resnet101": {"stride_on": "3x3"},
    "resnet152": {"stride_on": "3x3"},
}


# Published files whose keys use an older naming: a pattern and its replacement, applied to every key.
# torchvision's densenet.py (_load_state_dict) renames "denselayer1.norm.1.weight" to "denselayer1.norm1.weight".
_DENSENET_OLD_KEYS = (re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"),
                      lambda match: match.group(1) + match.group(2))
_OLD_KEYS = {name: _DENSENET_OLD_KEYS for name in ("densenet121", "densenet161", "densenet169", "densenet201")}


def _rename_old_keys(name: str, state: dict) -> dict:
    """``state`` with the keys of an older naming (see ``_OLD_KEYS``) renamed to today's; others unchanged."""
    if name not in _OLD_KEYS:
        return state
    pattern, replace = _OLD_KEYS[name]
    return {pattern.sub(replace, key): value for key, value in state.items()}


class WeightsUnavailableError(RuntimeError):
    """Published weights are not in the cache and could not be downloaded."""


def torchvision_weights(name: str, weights: str = "DEFAULT"):
    """torchvision's weights entry (a ``WeightsEnum`` member) for the twin ``name``; downloads nothing.

    Args:
        name: a registered model of the book that torchvision also has, e.g. ``"alexnet"``.
        weights: the entry's name in torchvision's enum: ``"DEFAULT"`` (the best published) or
            e.g. ``"IMAGENET1K_V1"``.

    Raises:
        ValueError: if ``name`` is not a registered model with a torchvision twin, or torchvision
            has no weights of that name for it.
    """
    import torchvision

    from . import available

    ours = available()
    theirs = set(torchvision.models.list_models(module=torchvision.models))
    if not isinstance(name, str) or name not in ours or name not in theirs:
        twins = sorted(set(ours) & theirs)
        where = "is not a registered model" if name not in ours else "has no torchvision twin"
        raise ValueError(
            f"{name!r} {where}: published torchvision weights exist only for the twins "
            f"{', '.join(twins) or '(none registered)'}."
        )
    enum = torchvision.models.get_model_weights(name)
    if not isinstance(weights, str) or weights not in enum.__members__:
        raise ValueError(f"torchvision has no weights {weights!r} for {name}; it has {', '.join(enum.__members__)}")
    return enum[weights]


def load_torchvision_weights(
    model: nn.Module,
    name: str,
    *,
    weights: str = "DEFAULT",
    progress: bool = True,
    model_dir: str | os.PathLike | None = None,
) -> nn.Module:
    """Load torchvision's published weights for ``name`` into ``model``, the book's twin, and return it.

    The file is downloaded through ``torch.hub.load_state_dict_from_url`` (its SHA-256 checked
    against the prefix in its name, as torchvision does), unpickled with ``weights_only=True``, and
    loaded with ``model.load_state_dict(state, strict=True)``: every name and shape must match.

    Args:
        model: the book's model, built with torchvision's ``num_classes`` (1000) and 3 input channels,
            e.g. ``models.build("alexnet")``.
        name: its registered name, which is torchvision's name for the same network.
        weights: which of torchvision's weights (``"DEFAULT"``, ``"IMAGENET1K_V1"``, ...).
        progress: show a progress bar while downloading.
        model_dir: the folder that holds (or will hold) the file; default torch.hub's
            ``<torch.hub.get_dir()>/checkpoints``. To work offline, put the file there by hand.

    Raises:
        ValueError: ``name`` has no torchvision twin, or ``model`` is not built to take its weights
            (its parameter count, or a setting the weights need such as googlenet's
            ``transform_input=True``; checked before anything is downloaded).
        WeightsUnavailableError: the file is not in ``model_dir`` and could not be downloaded.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module (e.g. models.build({name!r})); got {type(model).__name__}")
    entry = torchvision_weights(name, weights)
    expected = entry.meta["num_params"]
    optional = _OPTIONAL_PREFIXES.get(name, ())
    have = sum(p.numel() for key, p in model.named_parameters() if not (optional and key.startswith(optional)))
    if have != expected:
        raise ValueError(
            f"torchvision's {name} weights ({entry}) hold {expected:,} parameters; the model has {have:,}. "
            f"Build it as models.build({name!r}) with num_classes={len(entry.meta['categories'])} and "
            "in_channels=3."
        )
    for setting, value in _REQUIRED_SETTINGS.get(name, {}).items():
        if getattr(model, setting, None) != value:
            raise ValueError(
                f"torchvision's {name} weights ({entry}) were trained with {setting}={value!r}; the model has "
                f"{setting}={getattr(model, setting, None)!r}. Build it as models.build({name!r}, {setting}={value!r})."
            )
    folder = Path(model_dir) if model_dir is not None else Path(torch.hub.get_dir()) / "checkpoints"
    file = folder / os.path.basename(urlparse(entry.url).path)
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)  # fail instead of hanging on a dead network
    try:
        state = torch.hub.load_state_dict_from_url(
            entry.url, model_dir=str(folder), map_location="cpu", progress=progress,
            check_hash=True, weights_only=True,
        )
    except (urllib.error.URLError, OSError) as error:  # no network, DNS failure, timeout, HTTP error
        raise WeightsUnavailableError(
            f"Could not download torchvision's {name} weights ({entry}) from {entry.url} into "
            f"{str(file)!r}: there seems to be no network connection ({type(error).__name__}: {error}). "
            "Download the file elsewhere and copy it to that path, or train the model instead."
        ) from error
    finally:
        socket.setdefaulttimeout(previous_timeout)
    state = _rename_old_keys(name, state)
    if optional:  # the twin built without them: leave the file's optional parameters out
        ours = model.state_dict()
        state = {key: value for key, value in state.items() if key in ours or not key.startswith(optional)}
    model.load_state_dict(state, strict=True)
    return model
