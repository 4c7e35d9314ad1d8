"""The AlexNet chapter's claims about training, re-run on seeds the notebook does not run.

chapters/alexnet.ipynb, section 4, tests the paper's Figure 1 claim (ReLU reaches 25% training
error six times faster than tanh) at small scale and finds the opposite: with the same start and
the same recipe, the tanh network fits the training subset first. Its check cell asserts this on
seeds 0, 1 and 2; here the same claims are checked on seeds 3 and 4, so that a result that holds
only by luck fails. The network and the training loop are the notebook's, from
`cnnzoo.experiments`.

Time budget: at most 20 s per chapter on an idle 2-core machine. Four 20-epoch runs on 512
images take about 10 s on one thread.
"""

from __future__ import annotations

import functools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo import data, experiments, training

# chapters/alexnet.ipynb, section 4: the first 512 colour-digit training images (seed 0), 20 epochs,
# SGD with momentum 0.9, learning rate 0.05, batches of 32; thresholds 50% and 25% training error.
N_SUBSET, EPOCHS, LR, BATCH_SIZE = 512, 20, 0.05, 32
SEEDS = (3, 4)  # the notebook checks seeds 0, 1, 2

pytestmark = pytest.mark.usefixtures("one_thread")


@functools.lru_cache(maxsize=1)
def subset() -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = data.load_colour_digits("train", seed=0).tensors
    return images[:N_SUBSET], labels[:N_SUBSET]


@functools.lru_cache(maxsize=None)
def error_curve(activation: str, seed: int) -> tuple[float, ...]:
    """The notebook's ``train``: each epoch's training error, over the batches as seen."""
    images, labels = subset()
    training.seed_everything(seed)
    net = experiments.four_layer_cnn(activation)
    return tuple(experiments.training_errors(net, images, labels, epochs=EPOCHS, lr=LR, batch_size=BATCH_SIZE,
                                             seed=seed))


def epochs_to_reach(errors: tuple[float, ...], threshold: float) -> int:
    """The first epoch (from 1) at or below ``threshold``; EPOCHS + 1 if none is."""
    return experiments.epochs_to_reach(errors, threshold) or EPOCHS + 1


@pytest.mark.parametrize("seed", SEEDS)
def test_tanh_reaches_25_percent_training_error_within_the_epochs(seed):
    assert epochs_to_reach(error_curve("tanh", seed), 0.25) <= EPOCHS


@pytest.mark.parametrize("seed", SEEDS)
def test_tanh_reaches_25_percent_before_relu(seed):
    assert epochs_to_reach(error_curve("tanh", seed), 0.25) < epochs_to_reach(error_curve("relu", seed), 0.25)


@pytest.mark.parametrize("seed", SEEDS)
def test_tanh_reaches_50_percent_before_relu(seed):
    # The notebook's time ratio tanh / ReLU at 50% is below 1 on every seed.
    assert epochs_to_reach(error_curve("tanh", seed), 0.50) < epochs_to_reach(error_curve("relu", seed), 0.50)


@pytest.mark.parametrize("seed", SEEDS)
def test_relu_activations_and_first_gradient_start_smaller_and_tanh_unsaturated(seed):
    """The notebook's diagnosis at the start (it shows seed 0), on other initial weights."""
    images, labels = subset()
    stats = {}
    for activation in ("relu", "tanh"):
        training.seed_everything(seed)
        net = experiments.four_layer_cnn(activation)
        x, spreads, saturated = images[:256], [], []
        for layer in net:
            x = layer(x)
            if isinstance(layer, (nn.ReLU, nn.Tanh)):
                spreads.append(x.std().item())
            if isinstance(layer, nn.Tanh):
                saturated.append((x.abs() > 0.9).float().mean().item())
        F.cross_entropy(x, labels[:256]).backward()
        stats[activation] = (spreads, max(saturated, default=0.0), net[0].weight.grad.norm().item())
    relu, tanh = stats["relu"], stats["tanh"]
    assert all(r < t for r, t in zip(relu[0], tanh[0]))
    assert tanh[1] < 0.05
    assert relu[2] < tanh[2]
