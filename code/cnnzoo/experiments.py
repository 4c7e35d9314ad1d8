"""The small networks and training loops of the chapters' experiments.

A chapter builds its experiment's networks from here and prints their source on the page
(``inspect.getsource``), so the reader sees the code that ran; the chapter's claims test
(``tests/test_claims_<chapter>.py``) builds the same networks, so the two cannot drift apart.
These are teaching networks sized for a CPU, not registered models.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .models import googlenet, resnet, vgg

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
    "OPTIMIZERS",
    "NARROW_WIDTHS",
    "DEGRADATION",
    "shrink",
    "narrow_resnet",
    "training_losses",
    "block_input_gradients",
    "gradients_at",
    "deepen",
    "remove_block",
    "recalibrate_batch_norm",
    "accuracy",
    "PlainChain",
    "SmallDenseNet",
    "train_small",
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


# --------------------------------------------------------------------------- ResNet chapter

#: The optimisers of :func:`training_losses`: SGD with momentum 0.9 (the paper's), or Adam.
OPTIMIZERS = {
    "sgd": lambda params, **kwargs: torch.optim.SGD(params, momentum=0.9, **kwargs),
    "adam": torch.optim.Adam,
}

#: The widths of the ResNet chapter's networks: the CIFAR family's 16, 32, 64 filters halved.
NARROW_WIDTHS = (8, 16, 32)

#: The ResNet chapter's degradation runs in quick mode (the notebook and its claims test read them
#: from here): the colour digits averaged down to ``size``×``size``, a shallow and a deep network
#: of each kind, ``steps`` steps of ``optimizer`` at ``lr`` on batches of ``batch_size``.
DEGRADATION = {"size": 12, "depths": (8, 26), "steps": 128, "batch_size": 64, "lr": 3e-3, "optimizer": "adam"}


def shrink(dataset: torch.utils.data.TensorDataset, size: int) -> torch.utils.data.TensorDataset:
    """The same images averaged down to ``size``×``size`` (adaptive average pooling; 16 is :func:`half_size`).

    Args:
        dataset: images (N, C, H, W) and labels.
        size: the new side, at most the old one.
    """
    images, labels = dataset.tensors
    if not isinstance(size, int) or not 1 <= size <= min(images.shape[-2:]):
        raise ValueError(f"size must be an int in 1..{min(images.shape[-2:])}; got {size!r}")
    return torch.utils.data.TensorDataset(F.adaptive_avg_pool2d(images, size), labels)


def narrow_resnet(depth: int, shortcut: str | None, widths: Sequence[int] = NARROW_WIDTHS,
                  zero_init_residual: bool = False) -> resnet.CifarResNet:
    """The ResNet chapter's network: the CIFAR-10 family's shape (Sec. 4.2) at narrow widths.

    A 3×3 convolution, three stages of n basic blocks (depth = 6n + 2), global average pooling
    and a linear layer, as ``CifarResNet``; ``shortcut="A"`` gives the residual network,
    ``None`` its plain twin (the same layers and, for one seed, the same initial weights).

    Args:
        depth: 6n + 2 (8, 14, 20, ...).
        shortcut: ``"A"`` (identity shortcuts, zero-padded where the maps double) or ``None``.
        widths: the filters of the three stages.
        zero_init_residual: start every block's branch at zero (the block is then the identity).
    """
    return resnet.CifarResNet(depth, widths=widths, shortcut=shortcut, zero_init_residual=zero_init_residual)


def training_losses(
    net: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    steps: int,
    lr: float,
    batch_size: int,
    seed: int,
    weight_decay: float = 0.0,
    optimizer: str = "sgd",
    device: torch.device | str = "cpu",
) -> list[float]:
    """Train ``net`` for ``steps`` steps of SGD with momentum 0.9 (or Adam); return the training loss of every step.

    The loss of a step is the cross-entropy of the batch before the step updates the weights.
    Batches are drawn without replacement from a permutation of the images that depends on
    ``seed`` only (a new permutation each pass), so networks trained with one seed see the
    same batches.

    Args:
        net: the network, already on ``device``; it is left in training mode.
        images, labels: the training set, (N, C, H, W) and (N,).
        steps: the number of updates.
        lr: the learning rate (constant).
        batch_size: the images per step.
        seed: the seed of the order of the images.
        weight_decay: the L2 penalty's coefficient (``weight_decay * w`` is added to each gradient).
        optimizer: ``"sgd"`` (momentum 0.9, the paper's) or ``"adam"``.
        device: where ``net`` is.
    """
    if steps < 1 or batch_size < 1 or batch_size > len(images):
        raise ValueError(f"steps must be >= 1 and batch_size in 1..{len(images)}; got {steps}, {batch_size}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}; got {optimizer!r}")
    step = OPTIMIZERS[optimizer](net.parameters(), lr=lr, weight_decay=weight_decay)
    order = torch.Generator().manual_seed(seed)
    batches: list[torch.Tensor] = []
    losses = []
    net.train()
    for _ in range(steps):
        if not batches:
            batches = list(torch.randperm(len(images), generator=order).split(batch_size))[::-1]
            if len(batches[0]) < batch_size:
                batches.pop(0)  # the short last batch of a pass (listed first, reversed) is dropped
        batch = batches.pop()
        x, y = images[batch].to(device), labels[batch].to(device)
        loss = F.cross_entropy(net(x), y)
        step.zero_grad()
        loss.backward()
        step.step()
        losses.append(loss.item())
    return losses


def block_input_gradients(net: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> list[float]:
    """The norm of the loss's gradient reaching each block: ‖∂L/∂x_l‖ at the input x_l of block l.

    One forward pass in training mode (batch statistics, as during training) on ``images``,
    the cross-entropy with ``labels``, and ``torch.autograd.grad`` with respect to the input of
    every block of ``resnet.residual_blocks(net)``, in order, then the output of the last block.
    The weights and their ``.grad`` are not changed; the batch norms' running statistics are
    (as by any forward pass in training mode).

    Args:
        net: a network with residual (or plain) blocks, such as :func:`narrow_resnet`'s.
        images, labels: one batch, on ``net``'s device.
    """
    blocks = [block for _, block in resnet.residual_blocks(net)]
    if not blocks:
        raise ValueError(f"net must have residual or plain blocks (resnet.ResidualBlock); {type(net).__name__} has none")
    points: list[torch.Tensor] = []
    hooks = [block.register_forward_pre_hook(lambda module, args: points.append(args[0])) for block in blocks]
    hooks.append(blocks[-1].register_forward_hook(lambda module, args, output: points.append(output)))
    try:
        net.train()
        loss = F.cross_entropy(net(images), labels)
    finally:
        for hook in hooks:
            hook.remove()
    grads = torch.autograd.grad(loss, points)
    return [g.norm().item() for g in grads]


def gradients_at(net: nn.Module, modules: Sequence[nn.Module], images: torch.Tensor, labels: torch.Tensor,
                 at: str = "output") -> list[float]:
    """:func:`block_input_gradients` for any network: ‖∂L/∂y‖ at the output (or input) of each module.

    The same measurement as the ResNet chapter's, for networks whose units are not residual
    blocks (FractalNet's joins, DenseNet's layers): one forward pass in training mode on
    ``images``, the cross-entropy with ``labels``, and ``torch.autograd.grad`` with respect to
    the output (or the first input) of each of ``modules``, in the order given. The weights
    and their ``.grad`` are not changed; the batch norms' running statistics are.

    Args:
        net: the network.
        modules: sub-modules of ``net`` that each run once in a forward pass.
        images, labels: one batch, on ``net``'s device.
        at: ``"output"`` or ``"input"`` (the module's first argument, which must be a tensor).
    """
    if at not in ("output", "input"):
        raise ValueError(f'at must be "output" or "input"; got {at!r}')
    modules = list(modules)
    if not modules:
        raise ValueError("modules must name at least one sub-module of net")
    points: dict[int, torch.Tensor] = {}

    def keep(index: int, value: object) -> None:
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"module {index} ({type(modules[index]).__name__}) has no tensor {at}; got {type(value).__name__}")
        if index in points:
            raise ValueError(f"module {index} ({type(modules[index]).__name__}) ran more than once in the forward pass")
        points[index] = value

    if at == "output":
        hooks = [m.register_forward_hook(lambda m, args, out, i=i: keep(i, out)) for i, m in enumerate(modules)]
    else:
        hooks = [m.register_forward_pre_hook(lambda m, args, i=i: keep(i, args[0] if args else None))
                 for i, m in enumerate(modules)]
    try:
        net.train()
        loss = F.cross_entropy(net(images), labels)
    finally:
        for hook in hooks:
            hook.remove()
    missing = [i for i in range(len(modules)) if i not in points]
    if missing:
        raise ValueError(f"modules {missing} did not run in net's forward pass")
    grads = torch.autograd.grad(loss, [points[i] for i in range(len(modules))], allow_unused=True)
    return [0.0 if g is None else g.norm().item() for g in grads]


def _copy_block(source: resnet.ResidualBlock, target: resnet.ResidualBlock) -> None:
    target.load_state_dict(source.state_dict())


def _make_identity(block: resnet.BasicBlock) -> None:
    """Set a stride-1 basic block's weights so that, in eval mode, it maps every x >= 0 to x.

    Residual: the branch's last batch norm outputs 0 (scale and shift 0), so the block is relu(0 + x).
    Plain: each convolution is the identity kernel (a 1 at the centre of channel c's kernel for
    output c), each batch norm undoes its own normalisation (scale sqrt(var + eps), shift mean),
    and the ReLUs pass the non-negative input unchanged.
    """
    with torch.no_grad():
        if block.shortcut_kind is not None:
            block.bn2.weight.zero_()
            block.bn2.bias.zero_()
            return
        for conv, bn in ((block.conv1, block.bn1), (block.conv2, block.bn2)):
            nn.init.dirac_(conv.weight)
            bn.weight.copy_((bn.running_var + bn.eps).sqrt())
            bn.bias.copy_(bn.running_mean)


def deepen(shallow: resnet.CifarResNet, depth: int) -> resnet.CifarResNet:
    """The construction of Sec. 1 of He et al. (2016): a deeper network that computes what ``shallow`` does.

    Builds a ``CifarResNet`` of ``depth`` with ``shallow``'s widths and shortcut kind, copies
    ``shallow``'s first convolution, blocks and classifier into it (each stage's blocks first),
    and makes every extra block an identity map (see ``_make_identity``). In eval mode the
    result computes the same function as ``shallow`` (exactly, for residual blocks; up to
    rounding for plain ones, whose identity goes through two convolutions and batch norms).
    Returned in eval mode.

    Args:
        shallow: a trained (or any) ``CifarResNet``.
        depth: the deeper network's depth, 6n + 2, at least ``shallow.depth``.
    """
    if not isinstance(shallow, resnet.CifarResNet):
        raise ValueError(f"shallow must be a CifarResNet; got {type(shallow).__name__}")
    if not isinstance(depth, int) or depth < shallow.depth or (depth - 2) % 6:
        raise ValueError(f"depth must be 6n + 2 and at least the shallow network's {shallow.depth}; got {depth!r}")
    widths = (shallow.layer1[0].out_channels, shallow.layer2[0].out_channels, shallow.layer3[0].out_channels)
    deep = resnet.CifarResNet(depth, num_classes=shallow.fc.out_features, in_channels=shallow.conv1.in_channels,
                              shortcut=shallow.shortcut_kind, widths=widths)
    deep.conv1.load_state_dict(shallow.conv1.state_dict())
    deep.bn1.load_state_dict(shallow.bn1.state_dict())
    deep.fc.load_state_dict(shallow.fc.state_dict())
    for name in ("layer1", "layer2", "layer3"):
        source, target = getattr(shallow, name), getattr(deep, name)
        for k, block in enumerate(target):
            if k < len(source):
                _copy_block(source[k], block)
            else:
                _make_identity(block)
    return deep.eval()


def remove_block(net: nn.Module, index: int) -> nn.Module:
    """A copy of ``net`` whose block ``index`` has all its weights at zero, where L2 decay pushes them.

    A residual block then outputs relu(0 + shortcut(x)): x itself after a ReLU (the identity)
    for a stride-1 block. A plain block outputs relu(0) = 0: everything after it sees zeros.
    The deletion of a block from a trained network, as Veit et al. (2016) do.

    Args:
        net: a network with blocks (``resnet.residual_blocks``).
        index: which block, counting from 0 in the order of ``residual_blocks``.
    """
    blocks = resnet.residual_blocks(net)
    if not 0 <= index < len(blocks):
        raise ValueError(f"index must be in 0..{len(blocks) - 1}; got {index!r}")
    lesioned = copy.deepcopy(net)
    with torch.no_grad():
        for p in resnet.residual_blocks(lesioned)[index][1].parameters():
            p.zero_()
    return lesioned


@torch.no_grad()
def recalibrate_batch_norm(net: nn.Module, images: torch.Tensor, batch_size: int = 500) -> nn.Module:
    """Recompute every batch norm's running mean and variance on ``images``; return ``net`` in eval mode.

    Early in training the weights change faster than the running averages (momentum 0.1) follow,
    so evaluation mode would use statistics of older weights. This replaces them by the exact
    averages over ``images`` for the current weights (batches in training mode, no weight changes).

    Args:
        net: the network.
        images: training images, on ``net``'s device.
        batch_size: images per forward pass.
    """
    norms = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches
    net.train()
    for batch in images.split(batch_size):
        net(batch)
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    return net.eval()


@torch.no_grad()
def accuracy(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 500) -> float:
    """The fraction of ``images`` that ``net`` (in eval mode) classifies right."""
    net.eval()
    right = sum((net(x).argmax(1) == y).sum().item()
                for x, y in zip(images.split(batch_size), labels.split(batch_size)))
    return right / len(images)


# --------------------------------------------------------------------------- SqueezeNet chapter

from .models import squeezenet  # noqa: E402  (here, so that this chapter's section stays in one place)

__all__ += ["SQUEEZE_RUN", "small_squeezenet", "small_alexnet"]

#: The SqueezeNet chapter's quick experiment (the notebook and its claims test read it from here):
#: the colour digits at ``size``×``size``, ``steps`` steps of Adam at ``lr`` on batches of
#: ``batch_size``, then the weights quantised to each of ``bits``.
SQUEEZE_RUN = {"size": 16, "steps": 150, "batch_size": 64, "lr": 3e-3, "bits": (8, 6, 4, 3, 2)}


def small_squeezenet(num_classes: int = 10, in_channels: int = 3, dropout: float = 0.0) -> nn.Sequential:
    """SqueezeNet's shape at CPU scale: a convolution, four fire modules, conv10 and global pooling.

    As squeezenet1_1 (3x3 conv1, pooling after conv1 and fire3) with a quarter of its channels or
    less: conv1 32 of 3x3, max pooling, fire2-fire3 (s1x1 8, e1x1 32, e3x3 32), max pooling,
    fire4-fire5 (16, 64, 64), dropout, a 1x1 convolution to one map per class, its ReLU, and
    global average pooling: no fully connected layer, as in the paper.

    Deviation: a batch norm after conv1 and after each fire module (on the concatenated maps).
    The paper's network has none; at this budget (150 steps) neither this network nor
    :func:`small_alexnet` learned without it (the loss stayed at ln 10).

    Args:
        num_classes: the class maps of the last convolution.
        in_channels: image channels.
        dropout: the probability of dropping each value before conv10 (the paper's 0.5 does not
            pay in a short run).
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, kernel_size=3, padding=1), nn.BatchNorm2d(32), nn.ReLU(inplace=True),  # conv1
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        squeezenet.Fire(32, 8, 32, 32), nn.BatchNorm2d(64),     # fire2
        squeezenet.Fire(64, 8, 32, 32), nn.BatchNorm2d(64),     # fire3
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        squeezenet.Fire(64, 16, 64, 64), nn.BatchNorm2d(128),   # fire4
        squeezenet.Fire(128, 16, 64, 64), nn.BatchNorm2d(128),  # fire5
        nn.Dropout(dropout),
        nn.Conv2d(128, num_classes, kernel_size=1), nn.ReLU(inplace=True),  # conv10: one map per class
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    )


def small_alexnet(num_classes: int = 10, in_channels: int = 3, size: int = 16, dropout: float = 0.0) -> nn.Sequential:
    """AlexNet's shape at the same scale: three convolutions with pooling, then two fully connected layers.

    Convolutions of 32 (5x5), 64 and 64 (3x3) filters, each followed by batch norm (as in
    :func:`small_squeezenet`), ReLU and 2x2 max pooling, then fully connected layers of 512 and
    ``num_classes``: as in AlexNet, most of the weights are in the first fully connected layer.

    Args:
        num_classes: the outputs.
        in_channels: image channels.
        size: the images' side (a multiple of 8), which sets the first fully connected layer's inputs.
        dropout: the probability of dropping each of the 512 values (AlexNet's 0.5 does not pay in a short run).
    """
    if not isinstance(size, int) or size < 8 or size % 8:
        raise ValueError(f"size must be a multiple of 8 (three 2x2 poolings); got {size!r}")
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, kernel_size=5, padding=2), nn.BatchNorm2d(32), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, kernel_size=3, padding=1), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, kernel_size=3, padding=1), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Flatten(),                                   # (N, 64 * (size / 8)^2)
        nn.Linear(64 * (size // 8) ** 2, 512), nn.ReLU(inplace=True), nn.Dropout(dropout),
        nn.Linear(512, num_classes),
    )


# --------------------------------------------------------------------------- DenseNet chapter


class PlainChain(nn.Module):
    """A dense block's layers without the concatenations: layer l reads only layer l - 1's k maps.

    The same composite layers as ``densenet.DenseBlock`` (``DenseLayer``: BN-ReLU-Conv 3x3 to k
    maps), the same depth and the same k new maps per layer; only the first reads the block's
    input (k_0 maps), and the block's output is the last layer's k maps.

    Args:
        num_layers: the layers of the chain.
        in_channels: the chain's input maps (k_0).
        growth_rate: k, the maps each layer outputs.
    """

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int) -> None:
        super().__init__()
        from .models import densenet

        for i in range(num_layers):
            width = in_channels if i == 0 else growth_rate
            self.add_module(f"denselayer{i + 1}", densenet.DenseLayer(width, growth_rate, bn_size=None))
        self.out_channels = growth_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.children():
            x = layer([x])  # (N, k, H, W): the previous layer's maps only
        return x


class SmallDenseNet(nn.Module):
    """A CPU-sized DenseNet (or its plain twin) for the DenseNet chapter's experiments.

    A 3x3 convolution to 2k maps, ``len(blocks)`` dense blocks (``dense=True``) or plain chains
    (``dense=False``) of BN-ReLU-Conv(3x3) layers with growth rate k, a transition (BN-ReLU-Conv
    1x1 without compression, 2x2 average pooling) between them, and BN, ReLU, global average
    pooling and a linear classifier: the paper's CIFAR DenseNet (Sec. 3) in miniature.

    Args:
        dense: concatenate (DenseNet) or chain (plain).
        blocks: the layers of each block.
        growth_rate: k.
        num_classes: the classifier's outputs.
        in_channels: image channels.
    """

    def __init__(self, dense: bool, blocks: Sequence[int] = (6, 6, 6), growth_rate: int = 8,
                 num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        from .models import densenet

        channels = 2 * growth_rate
        self.stem = nn.Conv2d(in_channels, channels, kernel_size=3, padding=1, bias=False)
        self.blocks = nn.ModuleList()
        self.transitions = nn.ModuleList()
        for i, num_layers in enumerate(blocks):
            if dense:
                block = densenet.DenseBlock(num_layers, channels, growth_rate, bn_size=None)
            else:
                block = PlainChain(num_layers, channels, growth_rate)
            self.blocks.append(block)
            channels = block.out_channels
            if i != len(blocks) - 1:
                self.transitions.append(densenet.Transition(channels, channels))
        self.norm = nn.BatchNorm2d(channels)
        self.classifier = nn.Linear(channels, num_classes)
        densenet._init_weights(self)

    def layers(self) -> list[nn.Module]:
        """Every dense (or plain) layer, in order: the units the gradient is measured at."""
        return [layer for block in self.blocks for layer in block.children()]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)                                    # (N, 2k, H, W)
        for i, block in enumerate(self.blocks):
            x = block(x)                                    # (N, k_0 + n k, ...) dense, (N, k, ...) plain
            if i < len(self.transitions):
                x = self.transitions[i](x)                  # the same maps, half the size
        x = F.relu(self.norm(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)   # (N, maps)
        return self.classifier(x)                           # (N, num_classes)


def train_small(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, steps: int, batch_size: int = 64,
                lr: float = 3e-3, seed: int = 0) -> list[float]:
    """Train ``net`` with Adam for ``steps`` mini-batches drawn (seeded) from ``images``; the losses.

    Args:
        net: the network, on the images' device.
        images, labels: the training set.
        steps: mini-batches.
        batch_size: images per mini-batch.
        lr: Adam's learning rate.
        seed: seeds the order of the mini-batches.
    """
    generator = torch.Generator().manual_seed(seed)
    step = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    losses = []
    for _ in range(steps):
        index = torch.randint(len(images), (batch_size,), generator=generator)
        loss = F.cross_entropy(net(images[index]), labels[index])
        step.zero_grad()
        loss.backward()
        step.step()
        losses.append(loss.item())
    return losses
