"""The comparison chapter's self-checks: right answers pass, the common wrong ones raise without giving the answer."""

from __future__ import annotations

import pytest

from cnnzoo import exercises

from check_helpers import failure, stub

pytestmark = pytest.mark.usefixtures("one_thread")


def test_checks_are_exported():
    for name in ("check_conv_macs", "check_vgg_block1_mib"):
        assert name in exercises.__all__ and callable(getattr(exercises, name))


# --------------------------------------------------------------------------- a convolution's multiply-adds


def conv_macs(c, k, s, o, groups=1):
    return (c // groups) * s * s * k * o * o


WRONG_MACS = {
    "groups ignored": lambda c, k, s, o, groups=1: c * s * s * k * o * o,
    "divided by groups twice": lambda c, k, s, o, groups=1: (c // groups) * s * s * (k // groups) * o * o,
    "FLOPs, two per multiply-add": lambda c, k, s, o, groups=1: 2 * conv_macs(c, k, s, o, groups),
    "the weights, not the positions": lambda c, k, s, o, groups=1: (c // groups) * s * s * k,
    "kernel not squared": lambda c, k, s, o, groups=1: (c // groups) * s * k * o * o,
    "biases added": lambda c, k, s, o, groups=1: conv_macs(c, k, s, o, groups) + k * o * o,
    "a float": lambda c, k, s, o, groups=1: float(conv_macs(c, k, s, o, groups)),
    "no groups argument": lambda c, k, s, o: c * s * s * k * o * o,
    "stub": stub,
    "not a function": 86_704_128,
}


def test_conv_macs_accepts_the_right_answer():
    assert repr(exercises.check_conv_macs(conv_macs)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_MACS)
def test_conv_macs_rejects(mistake):
    assert "conv_macs" in failure(exercises.check_conv_macs, WRONG_MACS[mistake])


def test_conv_macs_message_does_not_give_the_value_away():
    message = failure(exercises.check_conv_macs, WRONG_MACS["FLOPs, two per multiply-add"])
    assert "not right" in message and "86704128" not in message.replace(",", "")


# --------------------------------------------------------------------------- VGG-16's first block


RIGHT_MIB = 2 * 64 * 224 * 224 * 4 / 2**20

WRONG_MIB = {
    "elements, not bytes": RIGHT_MIB / 4,
    "megabytes (10^6), not MiB": 2 * 64 * 224 * 224 * 4 / 1e6,
    "one convolution only": RIGHT_MIB / 2,
    "the in-place ReLUs' outputs counted too": 2 * RIGHT_MIB,
    "the pooled map added": RIGHT_MIB + 64 * 112 * 112 * 4 / 2**20,
    "in bytes": RIGHT_MIB * 2**20,
    "a string": f"{RIGHT_MIB:.1f}",
}


@pytest.mark.parametrize("answer", [RIGHT_MIB, round(RIGHT_MIB, 1)])
def test_vgg_block1_accepts_the_right_answer(answer):
    assert repr(exercises.check_vgg_block1_mib(answer)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_MIB)
def test_vgg_block1_rejects(mistake):
    message = failure(exercises.check_vgg_block1_mib, WRONG_MIB[mistake])
    assert "vgg_block1_mib" in message
    assert f"{RIGHT_MIB:.1f}" not in message.replace(repr(WRONG_MIB[mistake]), "")   # only the answer given is echoed
