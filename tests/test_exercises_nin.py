"""The NiN chapter's self-checks: right answers pass, the common wrong ones raise without giving the answer."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cnnzoo import exercises

from check_helpers import failure, stub


def test_checks_are_exported():
    for name in ("check_fc_head_parameters", "check_conv1x1"):
        assert name in exercises.__all__ and callable(getattr(exercises, name))


# --------------------------------------------------------------------------- parameters of a fully connected head


def fc_head_parameters(channels, height, width, num_classes):
    return channels * height * width * num_classes + num_classes


WRONG_HEADS = {
    "biases forgotten": lambda c, h, w, k: c * h * w * k,
    "one bias per input": lambda c, h, w, k: c * h * w * k + c * h * w,
    "one value per map (the average's input)": lambda c, h, w, k: c * k + k,
    "height used twice": lambda c, h, w, k: c * h * h * k + k,
    "float": lambda c, h, w, k: float(c * h * w * k + k),
    "stub": stub,
    "not a function": 6410,
}


def test_fc_head_parameters_accepts_the_right_answer():
    assert repr(exercises.check_fc_head_parameters(fc_head_parameters)).startswith("✓ Correct")


@pytest.mark.parametrize("wrong", list(WRONG_HEADS.values()), ids=list(WRONG_HEADS))
def test_fc_head_parameters_rejects_wrong_answers(wrong):
    message = failure(exercises.check_fc_head_parameters, wrong)
    assert "expected" not in message or "whole number" in message  # no right count in the message


# --------------------------------------------------------------------------- a 1x1 convolution as a per-pixel linear layer


def conv1x1(x, weight, bias):
    return torch.einsum("oc,nchw->nohw", weight, x) + bias.view(1, -1, 1, 1)


def conv1x1_by_linear(x, weight, bias):
    # channels last, a linear layer at every pixel, channels back
    return F.linear(x.permute(0, 2, 3, 1), weight, bias).permute(0, 3, 1, 2)


WRONG_CONVS = {
    "bias forgotten": lambda x, w, b: torch.einsum("oc,nchw->nohw", w, x),
    "weight transposed": lambda x, w, b: torch.einsum("co,nchw->nohw", w.T.reshape(w.shape), x) + b.view(1, -1, 1, 1),
    "channels last left": lambda x, w, b: F.linear(x.permute(0, 2, 3, 1), w, b),
    "reshape instead of permute": lambda x, w, b: F.linear(x.permute(0, 2, 3, 1), w, b).reshape(
        x.shape[0], w.shape[0], x.shape[2], x.shape[3]),
    "pixels mixed, not channels": lambda x, w, b: x.mean(dim=1, keepdim=True).expand(-1, w.shape[0], -1, -1) + b.view(1, -1, 1, 1),
    "a list": lambda x, w, b: conv1x1(x, w, b).tolist(),
    "stub": stub,
    "not a function": None,
}


@pytest.mark.parametrize("right", [conv1x1, conv1x1_by_linear])
def test_conv1x1_accepts_the_right_answers(right):
    assert repr(exercises.check_conv1x1(right)).startswith("✓ Correct")


@pytest.mark.parametrize("wrong", list(WRONG_CONVS.values()), ids=list(WRONG_CONVS))
def test_conv1x1_rejects_wrong_answers(wrong):
    message = failure(exercises.check_conv1x1, wrong)
    assert "tensor(" not in message  # the right values are never shown
