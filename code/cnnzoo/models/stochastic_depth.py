"""Stochastic depth: residual blocks dropped at random in training, all kept (and scaled) at test time.

G. Huang, Y. Sun, Z. Liu, D. Sedra and K. Q. Weinberger, "Deep Networks with Stochastic Depth",
ECCV 2016 (arXiv:1603.09382), Section 3 (eq. 2-5), Figure 2.

The idea: train a short network and test a deep one. For each mini-batch, each residual block l
is kept with its *survival probability* p_l, and otherwise its residual branch is skipped: the
block passes on its shortcut alone, H_l = ReLU(id(H_{l-1})) (eq. 2, with b_l = 0). The
probabilities decay linearly with depth, from p_0 = 1 for the input to p_L for the last of the
L blocks (eq. 4, the "linear decay rule"): p_l = 1 - (l / L)(1 - p_L), with p_L = 0.5 in the
paper. A training step then runs, on average, sum_l p_l blocks instead of L ((3L - 1) / 4 with
p_L = 0.5: 40.25 of ResNet-110's 54, "roughly 40" in Sec. 3), which saves time, and the network is an implicit ensemble of shallower networks. At
test time every block runs, its branch scaled by the probability it was kept with:
H_l = ReLU(p_l f_l(H_{l-1}) + id(H_{l-1})) (eq. 5).

``add_stochastic_depth(model, p_last)`` wraps every residual block of a ResNet built by this
package (``resnet.BasicBlock`` or ``resnet.Bottleneck`` with a shortcut) in a
``StochasticDepth`` module; the registered ResNets take it as an option,
``models.build("resnet110_cifar", stochastic_depth=0.5)``: the paper's 110-layer CIFAR network
(its 54 blocks) with p_L = 0.5. The wrapped block keeps its parameters under ``.block``
(``layer1.0.block.conv1.weight``), so a wrapped ResNet does not load torchvision's weights.

What the paper and the authors' code (github.com/yueatsprograms/Stochastic_Depth,
``main.lua`` and ``ResidualDrop.lua``) do, and what this module does:
    * one Bernoulli draw per block per mini-batch, the same for every example of the batch (the
      code closes each block's "gate" before each mini-batch); here too, from ``torch``'s global
      generator (``training.seed_everything`` makes it repeatable);
    * the linear decay rule with p_L = 0.5, counted over the residual blocks only, l = 1 ... L
      (the code: death rate ``i / #blocks * (1 - p_L)``); here too;
    * a dropped block outputs ReLU(shortcut(x)), computing neither its branch nor the branch's
      gradient; here too.
Deviations:
    * the shortcut of the two blocks where the maps halve. The authors' code average-pools it
      (2x2, stride 2) before padding the new channels with zeros; ResNet's option A, which
      ``resnet.CifarResNet`` implements, keeps every second pixel instead. Both are parameter-free
      identities with zero padding; we reuse the ResNet module rather than add a third shortcut.
    * the optimiser. Torch's SGD in the authors' code updates every weight at every step, a
      dropped block's through momentum and weight decay; PyTorch's SGD skips a parameter whose
      gradient is ``None`` (``zero_grad`` sets it so), so here a block dropped in a step is not
      moved at all in that step. The chapter's experiments are too short for this to matter.

Helpers for the chapter: ``decisions`` (which blocks each of a few training steps ran, for
the figure), ``train_steps`` (a short training run that times every step and records how many
blocks it ran).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .resnet import ResidualBlock, residual_blocks

__all__ = [
    "StochasticDepth", "linear_decay", "add_stochastic_depth", "survival_probabilities", "expected_depth",
    "decisions", "TrainingRun", "train_steps", "interleaved_step_times",
]


class StochasticDepth(nn.Module):
    """A residual block kept with probability ``survival`` in training, scaled by it at test time.

    Args:
        block: a post-activation residual block with a shortcut (``BasicBlock``, ``Bottleneck``).
        survival: p_l, the probability that the block's branch runs in a training step, in (0, 1].
    """

    def __init__(self, block: ResidualBlock, survival: float) -> None:
        super().__init__()
        if not isinstance(block, ResidualBlock) or block.shortcut_kind is None:
            raise ValueError(f"block must be a residual block with a shortcut; got {type(block).__name__}")
        if type(block).forward is not ResidualBlock.forward:
            raise ValueError(f"{type(block).__name__} does not end with relu(residual + shortcut): not supported")
        if isinstance(survival, bool) or not isinstance(survival, (int, float)) or not 0.0 < survival <= 1.0:
            raise ValueError(f"survival must be a probability in (0, 1]; got {survival!r}")
        self.block = block
        self.survival = float(survival)
        self.last_kept = True  # whether the last training step ran the branch (for figures)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block
        if self.training:
            self.last_kept = bool(torch.rand(()) < self.survival)  # b_l ~ Bernoulli(p_l), one per mini-batch
            if not self.last_kept:
                # eq. 2 with b_l = 0: the branch is skipped. Not the block's in-place ReLU: the identity
                # shortcut returns x itself, which the previous layer's backward pass still needs.
                return F.relu(block.shortcut(x))
            return block(x)                                        # relu(f(x) + id(x))
        return block.relu(self.survival * block.residual(x) + block.shortcut(x))  # eq. 5

    def extra_repr(self) -> str:
        return f"survival={self.survival:.4f}"


def linear_decay(num_blocks: int, p_last: float = 0.5) -> list[float]:
    """p_l = 1 - (l / L)(1 - p_L) for l = 1 ... L (eq. 4)."""
    if isinstance(num_blocks, bool) or not isinstance(num_blocks, int) or num_blocks < 1:
        raise ValueError(f"num_blocks must be a positive integer; got {num_blocks!r}")
    if isinstance(p_last, bool) or not isinstance(p_last, (int, float)) or not 0.0 < p_last <= 1.0:
        raise ValueError(f"p_last must be a probability in (0, 1]; got {p_last!r}")
    return [1.0 - (l / num_blocks) * (1.0 - p_last) for l in range(1, num_blocks + 1)]


def add_stochastic_depth(model: nn.Module, p_last: float = 0.5) -> nn.Module:
    """Wrap every residual block of ``model`` in ``StochasticDepth`` with the linear decay rule; returns ``model``.

    Args:
        model: a ResNet of this package (the blocks must be items of ``nn.Sequential`` stages).
        p_last: p_L, the last block's survival probability (0.5 in the paper).
    """
    blocks = residual_blocks(model)
    if not blocks:
        raise ValueError(f"{type(model).__name__} has no residual blocks to drop")
    for (name, block), survival in zip(blocks, linear_decay(len(blocks), p_last)):
        parent_name, _, index = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        if not isinstance(parent, nn.Sequential):
            raise ValueError(f"block {name} is not an item of an nn.Sequential stage")
        parent[int(index)] = StochasticDepth(block, survival)
    return model


def survival_probabilities(model: nn.Module) -> list[float]:
    """p_l of each wrapped block of ``model``, in order."""
    return [m.survival for m in model.modules() if isinstance(m, StochasticDepth)]


def expected_depth(model: nn.Module) -> float:
    """The expected number of residual blocks a training step runs: the sum of the p_l (Sec. 3)."""
    return sum(survival_probabilities(model))




# --------------------------------------------------------------------------- the chapter's helpers


def _wrapped(model: nn.Module) -> list[StochasticDepth]:
    blocks = [m for m in model.modules() if isinstance(m, StochasticDepth)]
    if not blocks:
        raise ValueError(f"{type(model).__name__} has no StochasticDepth blocks; call add_stochastic_depth first")
    return blocks


@torch.no_grad()
def decisions(model: nn.Module, images: torch.Tensor, steps: int) -> torch.Tensor:
    """Which blocks ran in each of ``steps`` training-mode forward passes: a (steps, L) bool tensor.

    Each pass is one mini-batch of a training step (without the backward pass): every wrapped
    block draws anew, and its ``last_kept`` flag is read after the pass. The passes update batch
    norm's running statistics; the model's mode is restored.

    Args:
        model: a network with ``StochasticDepth`` blocks.
        images: one mini-batch, (N, C, H, W).
        steps: the number of passes.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}")
    blocks = _wrapped(model)
    was_training = model.training
    model.train()
    rows = []
    try:
        for _ in range(steps):
            model(images)
            rows.append([block.last_kept for block in blocks])
    finally:
        model.train(was_training)
    return torch.tensor(rows, dtype=torch.bool)


@dataclass
class TrainingRun:
    """What ``train_steps`` measured, one entry per step."""

    losses: list[float]   # the mini-batch's cross-entropy, before the step's update
    seconds: list[float]  # wall-clock time of the step: forward, backward, update
    blocks: list[int]     # residual blocks whose branch ran (all of them without stochastic depth)


def train_steps(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    optimizer: str = "sgd",
    device: torch.device | str = "cpu",
) -> TrainingRun:
    """Train ``model`` for ``steps`` steps at a constant learning rate; time every step.

    ``optimizer="sgd"``: SGD with Nesterov momentum 0.9 and weight decay 1e-4, the optimiser of
    the authors' code; ``"adam"``: Adam (Kingma and Ba, 2015), which learns faster in a short run. Batches are drawn without replacement from a permutation that
    depends on ``seed`` only (a new one each pass, the short last batch dropped), so two networks
    trained with one seed see the same batches. The model is left in training mode.

    Args:
        model: a residual network of this package, with or without ``StochasticDepth`` blocks, on ``device``.
        images, labels: the training set, (N, C, H, W) and (N,).
        steps: the number of updates.
        batch_size: the images per step.
        lr: the learning rate.
        seed: the seed of the order of the images.
        optimizer: ``"sgd"`` (the paper's) or ``"adam"``.
        device: where ``model`` is.
    """
    for name, value in (("steps", steps), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    if batch_size > len(images):
        raise ValueError(f"batch_size must be at most the {len(images)} images; got {batch_size}")
    if len(images) != len(labels):
        raise ValueError(f"images and labels must have the same length; got {len(images)} and {len(labels)}")
    wrapped = [m for m in model.modules() if isinstance(m, StochasticDepth)]
    all_blocks = len(residual_blocks(model))
    device = torch.device(device)
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam'; got {optimizer!r}")
    step = (
        torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=1e-4)
        if optimizer == "sgd" else torch.optim.Adam(model.parameters(), lr=lr)
    )
    order = torch.Generator().manual_seed(seed)
    batches: list[torch.Tensor] = []
    run = TrainingRun([], [], [])
    model.train()
    for _ in range(steps):
        if not batches:
            batches = list(torch.randperm(len(images), generator=order).split(batch_size))
            if len(batches[-1]) < batch_size:
                batches.pop()
            batches.reverse()
        batch = batches.pop()
        x, y = images[batch].to(device), labels[batch].to(device)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        step.zero_grad()
        loss.backward()
        step.step()
        loss_value = loss.item()  # waits for the step on a GPU
        run.seconds.append(time.perf_counter() - start)
        run.losses.append(loss_value)
        dropped = sum(not m.last_kept for m in wrapped)
        run.blocks.append(all_blocks - dropped)
    return run


def interleaved_step_times(
    models: dict[str, nn.Module], images: torch.Tensor, labels: torch.Tensor, rounds: int
) -> dict[str, list[float]]:
    """Seconds of ``rounds`` training steps of each model, taken in turn: model 1, model 2, ..., repeat.

    A step is a training-mode forward pass, the cross-entropy and the backward pass (no update;
    the gradients are cleared after each step). Taking the models in turn spreads a shared
    machine's changing load over all of them, so the ratio of their medians is fair even when
    each time is noisy. Batch norm's running statistics are updated; the models are left in
    training mode. After one untimed step of each.

    Args:
        models: the networks, by name, on the device of ``images``.
        images, labels: one mini-batch, (N, C, H, W) and (N,).
        rounds: timed steps of each model.
    """
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be a positive integer; got {rounds!r}")
    if not models:
        raise ValueError("models must name at least one network; got none")
    seconds: dict[str, list[float]] = {name: [] for name in models}
    cuda = images.device.type == "cuda"
    for timed in [False] + [True] * rounds:
        for name, model in models.items():
            model.train()
            if cuda:
                torch.cuda.synchronize(images.device)
            start = time.perf_counter()
            F.cross_entropy(model(images), labels).backward()
            if cuda:
                torch.cuda.synchronize(images.device)
            if timed:
                seconds[name].append(time.perf_counter() - start)
            model.zero_grad()
    return seconds
