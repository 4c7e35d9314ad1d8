"""The ResNet family chapter's self-checks: right answers pass, the common wrong ones raise without giving the answer."""

from __future__ import annotations

import pytest

from cnnzoo import exercises

from check_helpers import failure, stub


def test_checks_are_exported():
    for name in ("check_resnet_depth", "check_bottleneck_params", "check_stage_macs"):
        assert name in exercises.__all__ and callable(getattr(exercises, name))


# --------------------------------------------------------------------------- weighted layers


def resnet_depth(block, blocks_per_stage):
    per_block = 2 if block == "basic" else 3
    return 1 + per_block * sum(blocks_per_stage) + 1


WRONG_DEPTHS = {
    "first convolution forgotten": lambda b, s: (2 if b == "basic" else 3) * sum(s) + 1,
    "fully connected layer forgotten": lambda b, s: 1 + (2 if b == "basic" else 3) * sum(s),
    "bottleneck counted as two layers": lambda b, s: 2 + 2 * sum(s),
    "projections counted": lambda b, s: 2 + (2 if b == "basic" else 3) * sum(s) + 3 + (b == "bottleneck"),
    "pooling layers counted": lambda b, s: 4 + (2 if b == "basic" else 3) * sum(s),
    "blocks not layers": lambda b, s: 2 + sum(s),
    "stub": stub,
}


def test_resnet_depth_accepts_the_right_answer():
    assert repr(exercises.check_resnet_depth(resnet_depth)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_DEPTHS)
def test_resnet_depth_rejects(mistake):
    assert "resnet_depth" in failure(exercises.check_resnet_depth, WRONG_DEPTHS[mistake])


def test_resnet_depth_message_does_not_give_the_depth_away():
    message = failure(exercises.check_resnet_depth, WRONG_DEPTHS["first convolution forgotten"])
    # resnet_depth('basic', (2, 2, 2, 2)) returned 17; the right 18 is not in the message
    assert "returned 17" in message and "18," not in message and "18 " not in message


# --------------------------------------------------------------------------- bottleneck parameters


def bottleneck_params(in_channels, channels, stride=1, *, bn=2, bias=0, projection=True, proj_bn=True):
    out = 4 * channels
    weights = in_channels * channels + 9 * channels * channels + channels * out
    params = weights + bn * (channels + channels + out) + bias * (channels + channels + out)
    if projection and (stride != 1 or in_channels != out):
        params += in_channels * out + (bn * out if proj_bn else 0) + bias * out
    return params


WRONG_BOTTLENECKS = {
    "batch norm forgotten": lambda i, c, stride=1: bottleneck_params(i, c, stride, bn=0),
    "running statistics counted": lambda i, c, stride=1: bottleneck_params(i, c, stride, bn=4),
    "biases counted": lambda i, c, stride=1: bottleneck_params(i, c, stride, bias=1),
    "projection forgotten": lambda i, c, stride=1: bottleneck_params(i, c, stride, projection=False),
    "projection's batch norm forgotten": lambda i, c, stride=1: bottleneck_params(i, c, stride, proj_bn=False),
    "projection on every block": lambda i, c, stride=1: bottleneck_params(i, c, 2),
    "projection only where the stride is 2": lambda i, c, stride=1: bottleneck_params(4 * c, c, stride)
    - 4 * c * c + i * c,
    "3x3 as a 1x1": lambda i, c, stride=1: bottleneck_params(i, c, stride) - 8 * c * c,
    "no stride argument": lambda i, c: bottleneck_params(i, c),
    "stride without a default": lambda i, c, stride: bottleneck_params(i, c, stride),
    "stub": stub,
}


def test_bottleneck_params_accepts_the_right_answer():
    assert repr(exercises.check_bottleneck_params(bottleneck_params)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_BOTTLENECKS)
def test_bottleneck_params_rejects(mistake):
    assert "bottleneck_params" in failure(exercises.check_bottleneck_params, WRONG_BOTTLENECKS[mistake])


def test_bottleneck_params_message_does_not_give_the_count_away():
    message = failure(exercises.check_bottleneck_params, WRONG_BOTTLENECKS["batch norm forgotten"])
    right = bottleneck_params(256, 64)
    assert "returned" in message and str(right) not in message and f"{right:,}" not in message


# --------------------------------------------------------------------------- multiply-adds of a stage


def stage_macs(in_channels, channels, blocks, size, stride, *, projection=True, at_input=False, factor=1):
    out = size // stride
    first_size = size if at_input else out
    macs = 9 * in_channels * channels * first_size**2 + 9 * channels * channels * out**2
    if projection and (stride != 1 or in_channels != channels):
        macs += in_channels * channels * out**2
    macs += (blocks - 1) * 2 * 9 * channels * channels * out**2
    return factor * macs


WRONG_STAGES = {
    "projection forgotten": lambda i, c, b, s, st: stage_macs(i, c, b, s, st, projection=False),
    "first convolution at the input's size": lambda i, c, b, s, st: stage_macs(i, c, b, s, st, at_input=True),
    "stride ignored": lambda i, c, b, s, st: stage_macs(i, c, b, s * st, 1) if i == c else stage_macs(i, c, b, s, 1),
    "two FLOPs per multiply-add": lambda i, c, b, s, st: stage_macs(i, c, b, s, st, factor=2),
    "one block": lambda i, c, b, s, st: stage_macs(i, c, 1, s, st),
    "every block reads in_channels": lambda i, c, b, s, st: b * stage_macs(i, c, 1, s, st),
    "float": lambda i, c, b, s, st: float(stage_macs(i, c, b, s, st)),
    "stub": stub,
}


def test_stage_macs_accepts_the_right_answer():
    assert repr(exercises.check_stage_macs(stage_macs)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_STAGES)
def test_stage_macs_rejects(mistake):
    assert "stage_macs" in failure(exercises.check_stage_macs, WRONG_STAGES[mistake])


def test_stage_macs_message_does_not_give_the_count_away():
    message = failure(exercises.check_stage_macs, WRONG_STAGES["two FLOPs per multiply-add"])
    right = stage_macs(*exercises.STAGE_CASES[0])
    assert "returned" in message and str(right) not in message
