"""The FractalNet chapter's claims, on seeds the notebook does not use (3 and 4).

The notebook trains the small fractal network of ``fractalnet.ANYTIME`` with and without
drop-path on seeds 0-2 and asserts the anytime claims; here the same runs on seeds 3 and 4,
and the gradient measurement at initialisation on the same seeds. As in the notebook, each
sub-network's batch norms are recomputed on the first ``RECAL`` training images (one batch; all
1,437 until part 7, for the same claims with the same margins to within a point, at half the cost).

Time budget: at most 15 s on an idle 2-core machine (part 6); four runs of ``ANYTIME["steps"]``
steps take most of it.
"""

from __future__ import annotations

import copy

import pytest
import torch

from cnnzoo import data, experiments
from cnnzoo.models import fractalnet as fn

pytestmark = pytest.mark.usefixtures("one_thread")

SEEDS = (3, 4)
A = fn.ANYTIME
RECAL = 500  # chapters/fractalnet.ipynb, section 4


@pytest.fixture(scope="module")
def digits():
    return (data.load_digits("train", image_size=A["image_size"]).tensors,
            data.load_digits("test", image_size=A["image_size"]).tensors)


def _deep_path_gradients(net, images, labels):
    twin = copy.deepcopy(net)
    twin.drop_path = 0.0
    units = [u for b in twin.blocks for u in b.column_units(twin.columns - 1)]
    return (experiments.gradients_at(twin, units, images, labels),
            experiments.gradients_at(twin.column(twin.columns - 1), units, images, labels))


@pytest.fixture(scope="module")
def anytime(digits):
    """{(drop_path, seed): [column 1, column 2, column 3, whole network] test accuracy}, trained once."""
    (train_images, train_labels), (test_images, test_labels) = digits
    results = {}
    for seed in SEEDS:
        for drop_path in (0.15, 0.0):
            net = fn.small_fractalnet(drop_path, seed)
            experiments.training_losses(net, train_images, train_labels, steps=A["steps"], lr=A["lr"],
                                        batch_size=A["batch_size"], seed=seed, optimizer="adam")
            results[drop_path, seed] = fn.anytime_accuracies(net, train_images[:RECAL], test_images, test_labels)
    return results


def test_deepest_column_keeps_most_of_the_accuracy_on_average(anytime):
    shares = [anytime[0.15, seed][2] / anytime[0.15, seed][3] for seed in SEEDS]
    assert sum(shares) / len(shares) >= 0.75, shares


@pytest.mark.parametrize("seed", SEEDS)
def test_anytime_with_and_without_drop_path(anytime, seed):
    results = {drop_path: anytime[drop_path, seed] for drop_path in (0.15, 0.0)}
    with_dp, without_dp = results[0.15], results[0.0]
    assert with_dp[2] >= 0.5 * with_dp[3], with_dp        # the deepest column alone keeps at least half
    assert max(without_dp[:3]) < 0.5, without_dp           # columns never trained alone fail alone
    assert without_dp[3] > 0.85, without_dp
    assert with_dp[2] > without_dp[2]
    assert without_dp[3] > with_dp[3]                      # at this length, drop-path costs the whole net


@pytest.mark.parametrize("seed", SEEDS)
def test_gradient_along_the_deep_path_at_initialisation(digits, seed):
    (train_images, train_labels), _ = digits
    batch = torch.randperm(len(train_images), generator=torch.Generator().manual_seed(seed))[:64]
    fractal, plain = _deep_path_gradients(fn.small_fractalnet(0.15, seed), train_images[batch], train_labels[batch])
    assert max(fractal) / min(fractal) < max(plain) / min(plain)
    assert all(f < p for f, p in zip(fractal, plain))
    assert fractal[0] > fractal[-1] and plain[0] > plain[-1]
