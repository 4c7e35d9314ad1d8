"""The claims the chapters make about training, re-run with the chapters' own recipes.

The notebooks assert these claims in visible check cells too (nbval re-runs them); here they
are checked on more than one seed, so that a claim that holds only by luck fails.
"""

from __future__ import annotations

import pytest
from torch import nn

from cnnzoo import data, models, training

# chapters/lenet.ipynb, section 4: Adam, lr 3e-3, batch 64, 20 epochs, a cosine schedule,
# training digits shifted by up to 2 pixels.
LENET_RECIPE = dict(epochs=20, lr=3e-3, schedule="cosine")


def train_on_digits(model: nn.Module, seed: int) -> training.History:
    training.seed_everything(seed)
    distorted = data.RandomShift(data.load_digits("train"), max_shift=2)
    train_loader, test_loader = data.make_loaders(distorted, data.load_digits("test"), batch_size=64, seed=seed)
    return training.fit(model, train_loader, test_loader=test_loader, device="cpu", log=None, **LENET_RECIPE)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lenet5_passes_97_percent_on_the_digits(seed):
    history = train_on_digits(models.build("lenet5"), seed)
    assert history.final_test_acc >= 0.97


def test_lenet5_beats_a_linear_classifier_on_pixels():
    lenet = train_on_digits(models.build("lenet5"), seed=0)
    linear = train_on_digits(nn.Sequential(nn.Flatten(), nn.Linear(32 * 32, 10)), seed=0)
    assert lenet.final_test_acc > linear.final_test_acc
