"""The Stochastic Depth chapter's claims about training, re-run on seeds the notebook does not run.

`chapters/stochastic_depth.ipynb`, section 4, asserts its claims in visible check cells on seeds
0, 1, 2 (nbval re-runs them); here the same claims are checked on two more seeds, so that a claim
that holds only by luck fails. The networks and the recipe are the notebook's: a 32-layer
`resnet.CifarResNet` at widths (4, 8, 16), with and without `add_stochastic_depth(net, 0.5)`,
80 steps of Adam (lr 3e-3, batches of 64) by `stochastic_depth.train_steps` on the 8x8 digits at
16x16, the model built after seeding.

Time budget: at most 20 s on an idle 2-core machine (README). Four runs of 80 steps, about 2 s
each with one thread, and 20 interleaved timed steps of each network.
"""

from __future__ import annotations

import functools
import statistics

import pytest
import torch

from cnnzoo import data, training
from cnnzoo.experiments import accuracy
from cnnzoo.models import resnet
from cnnzoo.models import stochastic_depth as sd

pytestmark = pytest.mark.usefixtures("one_thread")

# chapters/stochastic_depth.ipynb, section 4.
DEPTH, WIDTHS, STEPS, BATCH_SIZE, LR, P_LAST = 32, (4, 8, 16), 80, 64, 3e-3, 0.5
SEEDS = (3, 4)  # the notebook runs seeds 0, 1, 2


@functools.lru_cache(maxsize=1)
def digits() -> tuple[torch.utils.data.TensorDataset, torch.utils.data.TensorDataset]:
    return data.load_digits("train", image_size=16), data.load_digits("test", image_size=16)


def build(p_last: float | None, seed: int) -> resnet.CifarResNet:
    training.seed_everything(seed)
    net = resnet.CifarResNet(DEPTH, widths=WIDTHS, shortcut="A", in_channels=1)
    return sd.add_stochastic_depth(net, p_last) if p_last is not None else net


@functools.lru_cache(maxsize=None)
def quick_run(p_last: float | None, seed: int) -> tuple[sd.TrainingRun, float, float]:
    """The notebook's train: the training run, the training and the test accuracy."""
    train_set, test_set = digits()
    net = build(p_last, seed)
    images, labels = train_set.tensors
    run = sd.train_steps(net, images, labels, steps=STEPS, batch_size=BATCH_SIZE, lr=LR, seed=seed, optimizer="adam")
    return run, accuracy(net, images, labels), accuracy(net, *test_set.tensors)


def final_loss(run: sd.TrainingRun) -> float:
    last = run.losses[-STEPS // 4:]
    return sum(last) / len(last)


def test_a_training_step_with_stochastic_depth_takes_less_time():
    nets = {"plain": build(None, 0), "sd": build(P_LAST, 0)}
    images, labels = (t[:BATCH_SIZE] for t in digits()[0].tensors)
    times = sd.interleaved_step_times(nets, images, labels, rounds=20)
    assert statistics.median(times["sd"]) < statistics.median(times["plain"])


def test_the_blocks_run_per_step_average_the_expected_depth():
    expected = sd.expected_depth(build(P_LAST, 0))
    blocks = [b for seed in SEEDS for b in quick_run(P_LAST, seed)[0].blocks]
    assert abs(sum(blocks) / len(blocks) - expected) < 0.5  # 160 steps: a standard error of about 0.13
    assert all(quick_run(None, seed)[0].blocks == [DEPTH // 2 - 1] * STEPS for seed in SEEDS)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_training_loss_is_higher_with_stochastic_depth(seed):
    assert final_loss(quick_run(P_LAST, seed)[0]) > final_loss(quick_run(None, seed)[0])


@pytest.mark.parametrize("seed", SEEDS)
def test_both_learn_and_the_plain_network_is_ahead_at_this_budget(seed):
    test_sd, test_plain = quick_run(P_LAST, seed)[2], quick_run(None, seed)[2]
    assert test_sd > 0.5 and test_plain > 0.5  # chance is 10%
    assert test_plain > test_sd
