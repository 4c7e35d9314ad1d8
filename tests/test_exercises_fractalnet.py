"""The FractalNet chapter's self-checks: right answers pass, the common wrong ones raise without giving the answer."""

from __future__ import annotations

import pytest
import torch

from cnnzoo import exercises

from check_helpers import failure, stub

pytestmark = pytest.mark.usefixtures("one_thread")


def test_checks_are_exported():
    for name in ("check_column_depth", "check_block_parameters", "check_join"):
        assert name in exercises.__all__ and callable(getattr(exercises, name))


# --------------------------------------------------------------------------- column depth


def column_depth(C, c):
    return 2 ** (c - 1)


WRONG_DEPTHS = {
    "2^c (off by one)": lambda C, c: 2 ** c,
    "2^(C-1) for every column": lambda C, c: 2 ** (C - 1),
    "2^C - 1 (the block's convolutions)": lambda C, c: 2 ** C - 1,
    "c convolutions": lambda C, c: c,
    "2^(C-c) (counted from the deep side)": lambda C, c: 2 ** (C - c),
    "a float": lambda C, c: 2.0 ** (c - 1),
    "stub": stub,
    "not a function": 8,
}


def test_column_depth_accepts_the_right_answer():
    assert repr(exercises.check_column_depth(column_depth)).startswith("✓ Correct")
    assert exercises.check_column_depth(lambda C, c: 1 << (c - 1))


@pytest.mark.parametrize("mistake", WRONG_DEPTHS)
def test_column_depth_rejects(mistake):
    assert "column_depth" in failure(exercises.check_column_depth, WRONG_DEPTHS[mistake])


# --------------------------------------------------------------------------- block parameters


def block_parameters(i, o, C):
    convs = 2 ** C - 1
    return C * 9 * i * o + (convs - C) * 9 * o * o + convs * 2 * o


WRONG_PARAMETERS = {
    "every convolution in x out": lambda i, o, C: (2 ** C - 1) * (9 * i * o + 2 * o),
    "only the block's first convolution changes channels": lambda i, o, C: 9 * i * o + (2 ** C - 2) * 9 * o * o + (2 ** C - 1) * 2 * o,
    "batch norm forgotten": lambda i, o, C: C * 9 * i * o + (2 ** C - 1 - C) * 9 * o * o,
    "biases counted": lambda i, o, C: block_parameters(i, o, C) + (2 ** C - 1) * o,
    "the deepest column only": lambda i, o, C: 9 * i * o + (2 ** (C - 1) - 1) * 9 * o * o + 2 ** (C - 1) * 2 * o,
    "2^C convolutions": lambda i, o, C: C * 9 * i * o + (2 ** C - C) * 9 * o * o + 2 ** C * 2 * o,
    "stub": stub,
}


def test_block_parameters_accepts_the_right_answer():
    assert repr(exercises.check_block_parameters(block_parameters)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_PARAMETERS)
def test_block_parameters_rejects(mistake):
    message = failure(exercises.check_block_parameters, WRONG_PARAMETERS[mistake])
    assert "block_parameters" in message and str(block_parameters(64, 128, 3)) not in message


# --------------------------------------------------------------------------- join


def join(inputs, kept):
    chosen = [x for x, k in zip(inputs, kept) if k]
    if not chosen:
        raise ValueError("a join must keep at least one input")
    return sum(chosen) / len(chosen)


WRONG_JOINS = {
    "sum instead of mean": lambda inputs, kept: sum(x for x, k in zip(inputs, kept) if k),
    "mean over all inputs, mask ignored": lambda inputs, kept: sum(inputs) / len(inputs),
    "dropped inputs as zeros in the mean": lambda inputs, kept: sum(x * k for x, k in zip(inputs, kept)) / len(inputs),
    "all dropped allowed (zeros)": lambda inputs, kept: (sum(x for x, k in zip(inputs, kept) if k) / max(sum(kept), 1))
    if any(kept) else torch.zeros_like(inputs[0]),
    "concatenation": lambda inputs, kept: torch.cat([x for x, k in zip(inputs, kept) if k], dim=1),
    "the maximum": lambda inputs, kept: torch.stack([x for x, k in zip(inputs, kept) if k]).amax(0),
    "stub": stub,
}


def test_join_accepts_the_right_answer():
    assert repr(exercises.check_join(join)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_JOINS)
def test_join_rejects(mistake):
    assert "join" in failure(exercises.check_join, WRONG_JOINS[mistake])
