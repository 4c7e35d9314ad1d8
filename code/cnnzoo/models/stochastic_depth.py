"""Stochastic depth: residual blocks dropped at random in training, all kept (and scaled) at test time.

G. Huang, Y. Sun, Z. Liu, D. Sedra and K. Q. Weinberger, "Deep Networks with Stochastic Depth",
ECCV 2016 (arXiv:1603.09382), Section 3 (eq. 2-5), Figure 2.

The idea: train a short network and test a deep one. For each mini-batch, each residual block l
is kept with its *survival probability* p_l, and otherwise its residual branch is skipped: the
block passes on its shortcut alone, H_l = ReLU(id(H_{l-1})) (eq. 2, with b_l = 0). The
probabilities decay linearly with depth, from p_0 = 1 for the input to p_L for the last of the
L blocks (eq. 4, the "linear decay rule"): p_l = 1 - (l / L)(1 - p_L), with p_L = 0.5 in the
paper. A training step then runs, on average, sum_l p_l blocks instead of L (about 3L / 4 with
p_L = 0.5), which saves time, and the network is an implicit ensemble of shallower networks. At
test time every block runs, its branch scaled by the probability it was kept with:
H_l = ReLU(p_l f_l(H_{l-1}) + id(H_{l-1})) (eq. 5).

``add_stochastic_depth(model, p_last)`` wraps every residual block of a ResNet built by this
package (``resnet.BasicBlock`` or ``resnet.Bottleneck`` with a shortcut) in a
``StochasticDepth`` module; the registered ResNets take it as an option,
``models.build("resnet110_cifar", stochastic_depth=0.5)``: the paper's 110-layer CIFAR network
(its 54 blocks) with p_L = 0.5. The wrapped block keeps its parameters under ``.block``
(``layer1.0.block.conv1.weight``), so a wrapped ResNet does not load torchvision's weights.

Deviations: none in the rule. The random decision is one draw per block per mini-batch, from
``torch``'s global generator (``training.seed_everything`` makes it repeatable).
"""

from __future__ import annotations

import torch
from torch import nn

from .resnet import ResidualBlock, residual_blocks

__all__ = ["StochasticDepth", "linear_decay", "add_stochastic_depth", "survival_probabilities", "expected_depth"]


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
                return block.relu(block.shortcut(x))               # eq. 2 with b_l = 0: the branch is skipped
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


