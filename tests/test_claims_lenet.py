"""The LeNet-5 chapter's claims about training, re-run over more seeds with the chapter's recipe.

One file per chapter (`test_claims_<chapter>.py`). Each chapter asserts its claims in visible
check cells, on the seeds it runs (nbval re-runs those); here the same claims are checked on
more seeds, so that a claim that holds only by luck fails. A test that would only repeat a notebook's own check does not belong here.

Time budget: at most 20 s per chapter on an idle 2-core machine (the per-chapter budget of
`make test` is written down in the README). LeNet-5 takes about 20 s: two 20-epoch runs of the
main recipe and two linear classifiers on seeds the notebook does not run, and the 5-epoch
ablation on one or two more seeds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo import data, models, training

# chapters/lenet.ipynb, section 4: Adam, lr 3e-3, batch 64, a cosine schedule, training digits
# shifted by up to 2 pixels; 20 epochs for the main run, 5 for the ablation.
LENET_RECIPE = dict(lr=3e-3, schedule="cosine")
LENET_EPOCHS = 20
ABLATION_EPOCHS = 5
LENET_SEEDS = (1, 2)  # the notebook checks seed 0
# The notebook checks the ablation's claims on seeds 0, 1, 2. Max against average pooling is a claim
# about a mean, so it is checked on two more seeds (max pooling loses on seed 3 alone); every
# variant's 90% on one more.
POOLING_SEEDS = (3, 4)
EVERY_VARIANT_SEEDS = (3,)


@functools.lru_cache(maxsize=1)
def digits() -> tuple[data.RandomShift, torch.utils.data.Dataset]:
    return data.RandomShift(data.load_digits("train"), max_shift=2), data.load_digits("test")


def train_on_digits(build: Callable[[], nn.Module], seed: int, epochs: int) -> float:
    """The chapter's recipe on a model built after seeding; returns the final test accuracy."""
    training.seed_everything(seed)  # the initial weights depend on the seed only, not on the tests run before
    model = build()
    distorted, test_set = digits()
    train_loader, test_loader = data.make_loaders(distorted, test_set, batch_size=64, seed=seed)
    history = training.fit(model, train_loader, test_loader=test_loader, epochs=epochs, device="cpu", log=None,
                           **LENET_RECIPE)
    return history.final_test_acc


@functools.lru_cache(maxsize=None)
def lenet5_accuracy(seed: int) -> float:
    return train_on_digits(lambda: models.build("lenet5"), seed, LENET_EPOCHS)


@functools.lru_cache(maxsize=None)
def ablation_accuracy(variant: str, seed: int) -> float:
    """One cell of the chapter's ablation: variant is "relu/max", ..., or "1998"."""
    if variant == "1998":
        return train_on_digits(lambda: models.build("lenet5_1998"), seed, ABLATION_EPOCHS)
    activation, pool = variant.split("/")
    return train_on_digits(lambda: models.build("lenet5", activation=activation, pool=pool), seed, ABLATION_EPOCHS)


@pytest.mark.parametrize("seed", LENET_SEEDS)
def test_lenet5_passes_97_percent_on_the_digits(seed):
    assert lenet5_accuracy(seed) >= 0.97


@pytest.mark.parametrize("seed", LENET_SEEDS)
def test_lenet5_beats_a_linear_classifier_on_pixels(seed):
    linear = train_on_digits(lambda: nn.Sequential(nn.Flatten(), nn.Linear(32 * 32, 10)), seed, LENET_EPOCHS)
    assert lenet5_accuracy(seed) > linear


def test_ablation_max_pooling_beats_average_pooling_with_relu():
    max_pool = [ablation_accuracy("relu/max", seed) for seed in POOLING_SEEDS]
    avg_pool = [ablation_accuracy("relu/avg", seed) for seed in POOLING_SEEDS]
    assert sum(max_pool) / len(max_pool) > sum(avg_pool) / len(avg_pool)


@pytest.mark.parametrize("variant", ["relu/max", "relu/avg", "tanh/max", "tanh/avg", "1998"])
def test_ablation_every_variant_reaches_90_percent(variant):
    assert all(ablation_accuracy(variant, seed) >= 0.90 for seed in EVERY_VARIANT_SEEDS)


def test_average_pooling_scale_and_shift_are_absorbed_by_the_next_convolution():
    # Exercise 4(b)'s solution: with pool="avg", a per-map coefficient c and bias b on S2's output
    # equal a change of C3 alone (weights times c, bias plus b times the summed weights).
    torch.manual_seed(0)
    model = models.build("lenet5", pool="avg").eval()
    x = torch.randn(4, 1, 32, 32)
    coefficient, bias = torch.rand(6) + 0.5, torch.randn(6)
    with torch.no_grad():
        s2 = model.s2(model.act(model.c1(x)))
        scaled = model.c3(s2 * coefficient.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1))
        weight = model.c3.weight * coefficient.view(1, -1, 1, 1)
        new_bias = model.c3.bias + (model.c3.weight * bias.view(1, -1, 1, 1)).sum(dim=(1, 2, 3))
        absorbed = F.conv2d(s2, weight, new_bias, stride=model.c3.stride, padding=model.c3.padding)
    assert torch.allclose(scaled, absorbed, atol=1e-5)
    # ...and the same change does not hold once a squashing function sits in between.
    with torch.no_grad():
        squashed = model.c3(torch.tanh(s2 * coefficient.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)))
        absorbed_squashed = F.conv2d(torch.tanh(s2), weight, new_bias, stride=model.c3.stride, padding=model.c3.padding)
    assert not torch.allclose(squashed, absorbed_squashed, atol=1e-3)
