"""The Stochastic Depth chapter's self-checks: right answers pass, the common wrong ones raise without giving the answer."""

from __future__ import annotations

import pytest
import torch

from cnnzoo import exercises

from check_helpers import failure, stub

pytestmark = pytest.mark.usefixtures("one_thread")


def test_checks_are_exported():
    for name in ("check_expected_depth", "check_block_at_test_time", "check_expected_saving"):
        assert name in exercises.__all__ and callable(getattr(exercises, name))


# --------------------------------------------------------------------------- the expected depth


def expected_depth(L, p_last):
    return sum(1 - l / L * (1 - p_last) for l in range(1, L + 1))


WRONG_DEPTHS = {
    "the sum starts at l = 0": lambda L, p: sum(1 - l / L * (1 - p) for l in range(0, L + 1)),
    "l = 0 ... L - 1": lambda L, p: sum(1 - l / L * (1 - p) for l in range(0, L)),
    "p_L for every block": lambda L, p: L * p,
    "the average of 1 and p_L": lambda L, p: L * (1 + p) / 2,
    "3L / 4 whatever p_L": lambda L, p: 3 * L / 4,
    "the dropped blocks": lambda L, p: L - expected_depth(L, p),
    "a fraction of L": lambda L, p: expected_depth(L, p) / L,
    "stub": stub,
    "a string": lambda L, p: "40.25",
    "not a function": 40.25,
}


def test_expected_depth_accepts_the_right_answer():
    assert repr(exercises.check_expected_depth(expected_depth)).startswith("✓ Correct")


def test_expected_depth_accepts_the_closed_form_and_a_tensor():
    assert exercises.check_expected_depth(lambda L, p: L - (1 - p) * (L + 1) / 2)
    assert exercises.check_expected_depth(lambda L, p: torch.tensor(expected_depth(L, p), dtype=torch.float64))


@pytest.mark.parametrize("mistake", WRONG_DEPTHS)
def test_expected_depth_rejects(mistake):
    message = failure(exercises.check_expected_depth, WRONG_DEPTHS[mistake])
    assert "expected_depth" in message


def test_expected_depth_message_does_not_give_the_value_away():
    message = failure(exercises.check_expected_depth, WRONG_DEPTHS["p_L for every block"])
    assert "not right" in message and "40.25" not in message


# --------------------------------------------------------------------------- the test-time forward pass


def block_at_test_time(block, x, p):
    return block.relu(p * block.residual(x) + block.shortcut(x))


def _branch(block, x):
    return block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))


WRONG_FORWARDS = {
    "not scaled (the ResNet block)": lambda block, x, p: block(x),
    "the shortcut scaled too": lambda block, x, p: block.relu(p * (block.residual(x) + block.shortcut(x))),
    "the output scaled": lambda block, x, p: p * block(x),
    "scaled by 1 - p": lambda block, x, p: block.relu((1 - p) * block.residual(x) + block.shortcut(x)),
    "ReLU on the branch before the addition": lambda block, x, p: block.relu(p * block.residual(x)) + block.shortcut(x),
    "no ReLU after the addition": lambda block, x, p: p * block.residual(x) + block.shortcut(x),
    "x instead of the shortcut": lambda block, x, p: block.relu(p * block.residual(x) + x),
    "scaled inside the branch, before its last batch norm": lambda block, x, p: block.relu(
        block.bn2(p * block.conv2(block.relu(block.bn1(block.conv1(x))))) + block.shortcut(x)),
    "the shortcut alone (a dropped block)": lambda block, x, p: block.relu(block.shortcut(x)),
    "returns a list": lambda block, x, p: [block_at_test_time(block, x, p)],
    "stub": stub,
    "not a function": None,
}


def test_block_at_test_time_accepts_the_right_answer():
    assert repr(exercises.check_block_at_test_time(block_at_test_time)).startswith("✓ Correct")


def test_block_at_test_time_accepts_it_written_from_the_layers():
    assert exercises.check_block_at_test_time(lambda block, x, p: torch.relu(p * _branch(block, x) + block.shortcut(x)))


@pytest.mark.parametrize("mistake", WRONG_FORWARDS)
def test_block_at_test_time_rejects(mistake):
    message = failure(exercises.check_block_at_test_time, WRONG_FORWARDS[mistake])
    assert "block_at_test_time" in message


# --------------------------------------------------------------------------- the expected saving


def expected_saving(L, p_last, fixed):
    return (1 - fixed) * (1 - expected_depth(L, p_last) / L)


WRONG_SAVINGS = {
    "the fixed part forgotten": lambda L, p, f: 1 - expected_depth(L, p) / L,
    "the share of time still spent": lambda L, p, f: (1 - f) * expected_depth(L, p) / L + f,
    "the fixed part saved too": lambda L, p, f: 1 - expected_depth(L, p) / L - f,
    "(1 - p_L) / 2 whatever L": lambda L, p, f: (1 - f) * (1 - p) / 2,
    "a percentage": lambda L, p, f: 100 * expected_saving(L, p, f),
    "an expected depth with l from 0": lambda L, p, f: (1 - f) * (1 - sum(1 - l / L * (1 - p) for l in range(L)) / L),
    "stub": stub,
    "not a function": 0.25,
}


def test_expected_saving_accepts_the_right_answer():
    assert repr(exercises.check_expected_saving(expected_saving)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_SAVINGS)
def test_expected_saving_rejects(mistake):
    message = failure(exercises.check_expected_saving, WRONG_SAVINGS[mistake])
    assert "expected_saving" in message
