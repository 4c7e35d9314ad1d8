"""The small networks and training loops of the chapters' experiments.

A chapter builds its experiment's networks from here and prints their source on the page
(``inspect.getsource``), so the reader sees the code that ran; the chapter's claims test
(``tests/test_claims_<chapter>.py``) builds the same networks, so the two cannot drift apart.
These are teaching networks sized for a CPU, not registered models.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .models import googlenet, vgg

__all__ = [
    "four_layer_cnn",
    "training_errors",
    "epochs_to_reach",
    "half_size",
    "kernel_net",
    "narrow_column",
    "narrow_vgg",
    "SMALL_INCEPTION_SPECS",
    "SmallInception",
    "small_inception",
    "gradient_norms",
]

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


# --------------------------------------------------------------------------- AlexNet chapter


def four_layer_cnn(activation: str, width: int = 8, num_classes: int = 10) -> nn.Sequential:
    """The AlexNet chapter's ReLU-against-tanh network, after the four-layer CNN of AlexNet's Figure 1.

    Four 3×3 convolutions (width, 2 width, 4 width, 4 width maps), each followed by the
    activation and 2×2 max pooling (32 → 16 → 8 → 4 → 2), then a linear classifier; no
    normalisation. The activation has no parameters, so the same seed gives both networks
    the same initial weights.

    Args:
        activation: ``"relu"`` or ``"tanh"``.
        width: the number of maps of the first convolution.
        num_classes: the number of outputs.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; got {activation!r}.")
    act = ACTIVATIONS[activation]
    layers: list[nn.Module] = []
    channels = 3
    for out in (width, 2 * width, 4 * width, 4 * width):
        layers += [nn.Conv2d(channels, out, kernel_size=3, padding=1), act(), nn.MaxPool2d(2)]
        channels = out
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * 2 * 2, num_classes))


def training_errors(
    net: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    device: torch.device | str = "cpu",
) -> list[float]:
    """Train ``net`` with SGD (momentum 0.9); return each epoch's training error.

    The error of an epoch is counted over its batches as they are seen, before each step, as
    AlexNet's Figure 1 measures it. The order of the examples depends on ``seed`` only, so
    two networks trained with the same seed see the same batches.

    Args:
        net: the network, already on ``device``.
        images, labels: the training set, as tensors (N, C, H, W) and (N,).
        epochs: the number of passes over the images.
        lr: the learning rate.
        batch_size: the number of images per step.
        seed: the seed of the order of the examples.
        device: where ``net`` is.
    """
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    order = torch.Generator().manual_seed(seed)
    errors = []
    for _ in range(epochs):
        wrong = 0
        for batch in torch.randperm(len(images), generator=order).split(batch_size):
            x, y = images[batch].to(device), labels[batch].to(device)
            scores = net(x)
            loss = F.cross_entropy(scores, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            wrong += (scores.argmax(dim=1) != y).sum().item()
        errors.append(wrong / len(images))
    return errors


def epochs_to_reach(errors: Sequence[float], threshold: float) -> int | None:
    """The first epoch (counting from 1) whose error is at most ``threshold``; None if none is."""
    return next((epoch for epoch, error in enumerate(errors, start=1) if error <= threshold), None)


# --------------------------------------------------------------------------- VGG chapter


def half_size(dataset: torch.utils.data.TensorDataset) -> torch.utils.data.TensorDataset:
    """The same images averaged over 2×2 blocks (32×32 → 16×16): a quarter of the convolutions' cost."""
    images, labels = dataset.tensors
    return torch.utils.data.TensorDataset(F.avg_pool2d(images, 2), labels)


def _conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int) -> list[nn.Module]:
    return [nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)]


def kernel_net(kernels: Sequence[int], width: int = 16, stages: int = 3, num_classes: int = 10) -> nn.Sequential:
    """The VGG chapter's stack-against-single-kernel network.

    ``stages`` stages, each of one convolution per entry of ``kernels`` (``(3, 3)``: two
    3×3 convolutions; ``(5,)``: one 5×5, the same receptive field), each convolution
    followed by batch normalisation and ReLU, each stage ended by 2×2 max pooling; then
    global average pooling and a linear classifier.

    Args:
        kernels: the kernel sizes of one stage's convolutions, odd numbers.
        width: the maps of every convolution.
        stages: the number of stages.
        num_classes: the number of outputs.
    """
    if not kernels or any(k < 1 or k % 2 == 0 for k in kernels):
        raise ValueError(f"kernels must be odd sizes, at least one; got {kernels!r}.")
    layers: list[nn.Module] = []
    channels = 3
    for _ in range(stages):
        for kernel_size in kernels:
            layers += _conv_bn_relu(channels, width, kernel_size)
            channels = width
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes))


def narrow_column(column: str = "D", divide_by: int = 16, stages: int = 4) -> tuple[str, ...]:
    """The first ``stages`` stages of a column of VGG's Table 1, every width divided by ``divide_by``."""
    if column not in vgg.TABLE_1:
        raise ValueError(f"column must be one of {sorted(vgg.TABLE_1)}; got {column!r}.")
    layers: list[str] = []
    pools = 0
    for layer in vgg.TABLE_1[column]:
        if pools == stages:
            break
        if layer.startswith("conv"):
            kernel, channels = layer.removeprefix("conv").split("-")
            layer = f"conv{kernel}-{int(channels) // divide_by}"
        pools += layer == "maxpool"
        layers.append(layer)
    return tuple(layers)


def narrow_vgg(batch_norm: bool, num_classes: int = 10, column: str = "D", divide_by: int = 16,
               stages: int = 4) -> nn.Sequential:
    """A narrow, deep VGG for small images: ``narrow_column``'s layers, global average pooling, a linear layer.

    Args:
        batch_norm: batch normalisation after every convolution (VGG's ``_bn`` variants) or none.
        num_classes: the number of outputs.
        column, divide_by, stages: as in :func:`narrow_column`.
    """
    layers = narrow_column(column, divide_by, stages)
    features = vgg.make_features(layers, in_channels=3, batch_norm=batch_norm)
    channels = [m.out_channels for m in features if isinstance(m, nn.Conv2d)][-1]
    return nn.Sequential(features, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes))


# --------------------------------------------------------------------------- GoogLeNet chapter

#: The small network's modules: GoogLeNet's pattern at a sixteenth of (3a)'s widths, every module
#: 32 maps deep (ch1x1, ch3x3_reduce, ch3x3, ch5x5_reduce, ch5x5, pool_proj).
SMALL_INCEPTION_SPECS = (googlenet.InceptionSpec(8, 8, 12, 2, 4, 8),) * 6


class SmallInception(nn.Module):
    """The GoogLeNet chapter's small Inception network for 3×32×32 images.

    A stem (one 3×3 convolution to 16 maps, 2×2 max pooling: 32 → 16), two Inception modules,
    2×2 max pooling (16 → 8), four more modules, global average pooling and a linear layer:
    13 convolutions on the longest path. With ``aux=True`` an auxiliary classifier sits on the
    second module's output, as the paper's first one sits on (4a): average pooling to 4×4, a
    1×1 convolution to 16 maps, a fully connected layer of 64 units with ReLU, a linear layer
    (no dropout, so that a gradient is a function of the weights alone). In training mode
    ``forward`` then returns ``(main, aux)``; in eval mode, or with ``aux=False``, ``main`` only.
    Every convolution is ``ConvReLU`` (bias, ReLU; the paper's) or, with ``batch_norm=True``,
    ``BasicConv2d`` (no bias, batch norm, ReLU); PyTorch's default initialisation throughout.
    The auxiliary head is built last, so one seed gives the same trunk with or without it.

    Args:
        aux: build the auxiliary classifier.
        batch_norm: batch normalisation after every convolution.
        num_classes: the number of outputs.
    """

    def __init__(self, aux: bool, batch_norm: bool, num_classes: int = 10) -> None:
        super().__init__()
        for flag, value in (("aux", aux), ("batch_norm", batch_norm)):
            if not isinstance(value, bool):
                raise ValueError(f"{flag} must be True or False; got {value!r}")
        conv = googlenet.BasicConv2d if batch_norm else googlenet.ConvReLU
        self.stem = nn.Sequential(conv(3, 16, kernel_size=3, padding=1), nn.MaxPool2d(2))
        blocks: list[nn.Module] = []
        channels = 16
        for k, spec in enumerate(SMALL_INCEPTION_SPECS):
            if k == 2:
                blocks.append(nn.MaxPool2d(2))
            blocks.append(googlenet.Inception(channels, spec, conv=conv))
            channels = spec.out_channels
        self.early = nn.Sequential(*blocks[:2])  # the first two modules, 16x16
        self.late = nn.Sequential(*blocks[2:])   # pooling and four modules, 8x8
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes))
        # Built last: the same seed gives the same trunk and main head with or without it.
        if aux:
            early_channels = SMALL_INCEPTION_SPECS[1].out_channels
            self.aux = nn.Sequential(
                nn.AdaptiveAvgPool2d(4), conv(early_channels, 16, kernel_size=1), nn.Flatten(),
                nn.Linear(16 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, num_classes),
            )
        else:
            self.aux = None

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        x = self.stem(x)                  # (N, 16, 16, 16)
        x = self.early(x)                 # (N, 32, 16, 16)
        aux = self.aux(x) if self.training and self.aux is not None else None  # (N, num_classes)
        x = self.late(x)                  # (N, 32, 8, 8)
        x = self.head(x)                  # (N, num_classes)
        return x if aux is None else (x, aux)


def small_inception(aux: bool, batch_norm: bool, num_classes: int = 10) -> SmallInception:
    """The GoogLeNet chapter's small Inception network (see :class:`SmallInception`)."""
    return SmallInception(aux, batch_norm, num_classes)


def gradient_norms(net: SmallInception, images: torch.Tensor, labels: torch.Tensor,
                   aux_weight: float = 0.3) -> dict[str, list[float]]:
    """The norm of the gradient at each convolution's weights, from each part of GoogLeNet's loss.

    One forward pass in training mode on ``images``; then the gradient of the main loss
    (cross-entropy of the main output) and, if ``net`` has an auxiliary head, of
    ``aux_weight`` × the auxiliary loss, each alone, at the weights of every convolution
    from the input on (the stem's, then each module's, in the order of ``net.modules()``).
    Layers after the auxiliary head get none of its gradient (0.0). The total loss's
    gradient is their sum. Returns ``{"main": [...], "aux": [...]}``
    (``"aux"`` only with a head); the network's weights are not changed.

    Args:
        net: a :class:`SmallInception` network.
        images, labels: one batch, (N, 3, 32, 32) and (N,).
        aux_weight: the auxiliary loss's weight (the paper's 0.3).
    """
    if not isinstance(net, SmallInception):
        raise ValueError(f"net must be a SmallInception (small_inception(...)); got {type(net).__name__}")
    weights = [m.weight for m in net.modules() if isinstance(m, nn.Conv2d) and not _in_aux(net, m)]
    net.train()
    outputs = net(images)
    main, aux = (outputs if isinstance(outputs, tuple) else (outputs, None))
    losses = {"main": F.cross_entropy(main, labels)}
    if aux is not None:
        losses["aux"] = aux_weight * F.cross_entropy(aux, labels)
    norms = {}
    for name, loss in losses.items():
        grads = torch.autograd.grad(loss, weights, retain_graph=True, allow_unused=True)
        norms[name] = [0.0 if g is None else g.norm().item() for g in grads]  # None: after the head
    return norms


def _in_aux(net: SmallInception, module: nn.Module) -> bool:
    return net.aux is not None and any(module is m for m in net.aux.modules())
