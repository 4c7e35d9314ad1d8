"""The GoogLeNet chapter's self-checks: right answers pass, the common wrong ones raise without giving the answer."""

from __future__ import annotations

import pytest

from cnnzoo import exercises

from check_helpers import failure, stub


def test_checks_are_exported():
    for name in ("check_conv_multiplies", "check_naive_depth"):
        assert name in exercises.__all__ and callable(getattr(exercises, name))


# --------------------------------------------------------------------------- multiplications of a convolution


def conv_multiplies(height, width, in_channels, kernel, out_channels):
    return height * width * out_channels * kernel * kernel * in_channels


WRONG_MULTIPLIES = {
    "input depth forgotten": lambda h, w, c, k, o: h * w * o * k * k,
    "kernel not squared": lambda h, w, c, k, o: h * w * o * k * c,
    "output depth forgotten": lambda h, w, c, k, o: h * w * k * k * c,
    "weights only": lambda h, w, c, k, o: o * k * k * c,
    "two FLOPs per multiply-add": lambda h, w, c, k, o: 2 * h * w * o * k * k * c,
    "one side only": lambda h, w, c, k, o: h * h * o * k * k * c,
    "float": lambda h, w, c, k, o: float(h * w * o * k * k * c),
    "stub": stub,
    "not a function": 854_000_000,
}


def test_conv_multiplies_accepts_the_right_answer():
    assert repr(exercises.check_conv_multiplies(conv_multiplies)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_MULTIPLIES)
def test_conv_multiplies_rejects(mistake):
    message = failure(exercises.check_conv_multiplies, WRONG_MULTIPLIES[mistake])
    assert "conv_multiplies" in message or "function" in message


def test_conv_multiplies_message_does_not_give_the_count_away():
    message = failure(exercises.check_conv_multiplies, WRONG_MULTIPLIES["kernel not squared"])
    assert "returned" in message and str(conv_multiplies(*exercises.CONV_OPS_CASES[0])) not in message


# --------------------------------------------------------------------------- depth of naive modules


def naive_depth(in_channels, ch1x1, ch3x3, ch5x5, modules=1):
    return in_channels + modules * (ch1x1 + ch3x3 + ch5x5)


WRONG_DEPTHS = {
    "pooling branch forgotten": lambda i, a, b, c, modules=1: modules * (a + b + c),
    "pooling counted once": lambda i, a, b, c, modules=1: i + a + b + c,
    "input doubles each module": lambda i, a, b, c, modules=1: modules * (i + a + b + c),
    "the input not added": lambda i, a, b, c, modules=1: a + b + c + (modules - 1) * i,
    "modules ignored": lambda i, a, b, c, modules=1: i + a + b + c,
    "no modules argument": lambda i, a, b, c: i + a + b + c,
    "stub": stub,
}


def test_naive_depth_accepts_the_right_answer():
    assert repr(exercises.check_naive_depth(naive_depth)).startswith("✓ Correct")

    def by_loop(in_channels, ch1x1, ch3x3, ch5x5, modules=1):
        depth = in_channels
        for _ in range(modules):
            depth = ch1x1 + ch3x3 + ch5x5 + depth
        return depth

    assert exercises.check_naive_depth(by_loop)


@pytest.mark.parametrize("mistake", WRONG_DEPTHS)
def test_naive_depth_rejects(mistake):
    message = failure(exercises.check_naive_depth, WRONG_DEPTHS[mistake])
    assert "naive_depth" in message


def test_naive_depth_message_does_not_give_the_depth_away():
    message = failure(exercises.check_naive_depth, WRONG_DEPTHS["pooling branch forgotten"])
    # naive_depth(192, 128, 192, 96) returned 416: the right 608 is not in the message
    assert "returned 416" in message and "608" not in message
