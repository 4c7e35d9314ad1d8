"""The SqueezeNet chapter's self-checks: right answers pass, the common wrong ones raise without giving the answer."""

from __future__ import annotations

import math

import pytest
import torch

from cnnzoo import exercises

from check_helpers import failure, stub

pytestmark = pytest.mark.usefixtures("one_thread")


def test_checks_are_exported():
    for name in ("check_fire_parameters", "check_payload_bytes", "check_fire_forward"):
        assert name in exercises.__all__ and callable(getattr(exercises, name))


# --------------------------------------------------------------------------- a fire module's parameters


def fire_parameters(c, s, e1, e3):
    return (c * s + s) + (s * e1 + e1) + (9 * s * e3 + e3)


WRONG_COUNTS = {
    "no biases": lambda c, s, e1, e3: c * s + s * e1 + 9 * s * e3,
    "the 3x3 filters on the input, not the squeeze": lambda c, s, e1, e3: (c * s + s) + (s * e1 + e1) + (9 * c * e3 + e3),
    "all expand filters on the input": lambda c, s, e1, e3: (c * s + s) + (c * e1 + e1) + (9 * c * e3 + e3),
    "the squeeze forgotten": lambda c, s, e1, e3: (s * e1 + e1) + (9 * s * e3 + e3),
    "the 3x3 counted as 1x1": lambda c, s, e1, e3: (c * s + s) + (s * e1 + e1) + (s * e3 + e3),
    "3 instead of 9": lambda c, s, e1, e3: (c * s + s) + (s * e1 + e1) + (3 * s * e3 + e3),
    "a float": lambda c, s, e1, e3: float(fire_parameters(c, s, e1, e3)),
    "stub": stub,
    "not a function": 11_920,
}


def test_fire_parameters_accepts_the_right_answer():
    assert repr(exercises.check_fire_parameters(fire_parameters)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_COUNTS)
def test_fire_parameters_rejects(mistake):
    assert "fire_parameters" in failure(exercises.check_fire_parameters, WRONG_COUNTS[mistake])


def test_fire_parameters_message_does_not_give_the_value_away():
    message = failure(exercises.check_fire_parameters, WRONG_COUNTS["no biases"])
    assert "not right" in message and "11920" not in message.replace(",", "")


# --------------------------------------------------------------------------- the payload of a quantised weight


def payload_bytes(shape, bits):
    return math.ceil(math.prod(shape) * bits / 8) + 2 * 4 * shape[0]


WRONG_PAYLOADS = {
    "bits, not bytes": lambda shape, bits: math.prod(shape) * bits + 8 * shape[0],
    "the scales forgotten": lambda shape, bits: math.ceil(math.prod(shape) * bits / 8),
    "the minimum forgotten": lambda shape, bits: math.ceil(math.prod(shape) * bits / 8) + 4 * shape[0],
    "one scale for the tensor": lambda shape, bits: math.ceil(math.prod(shape) * bits / 8) + 8,
    "float64 scales": lambda shape, bits: math.ceil(math.prod(shape) * bits / 8) + 16 * shape[0],
    "the last partial byte dropped": lambda shape, bits: math.prod(shape) * bits // 8 + 8 * shape[0],
    "a whole byte per code": lambda shape, bits: math.prod(shape) + 8 * shape[0],
    "float32 weights": lambda shape, bits: 4 * math.prod(shape),
    "stub": stub,
}


def test_payload_bytes_accepts_the_right_answer():
    assert repr(exercises.check_payload_bytes(payload_bytes)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_PAYLOADS)
def test_payload_bytes_rejects(mistake):
    assert "payload_bytes" in failure(exercises.check_payload_bytes, WRONG_PAYLOADS[mistake])


# --------------------------------------------------------------------------- a fire module's forward pass


def fire_forward(fire, x):
    s = torch.relu(fire.squeeze(x))
    return torch.cat([torch.relu(fire.expand1x1(s)), torch.relu(fire.expand3x3(s))], dim=1)


WRONG_FORWARDS = {
    "sum instead of concatenation": lambda fire, x: torch.relu(fire.expand1x1(torch.relu(fire.squeeze(x))))
    + torch.relu(fire.expand3x3(torch.relu(fire.squeeze(x)))),
    "no ReLU after the squeeze": lambda fire, x: torch.cat([torch.relu(fire.expand1x1(fire.squeeze(x))),
                                                           torch.relu(fire.expand3x3(fire.squeeze(x)))], 1),
    "no ReLU after the expands": lambda fire, x: torch.cat([fire.expand1x1(torch.relu(fire.squeeze(x))),
                                                           fire.expand3x3(torch.relu(fire.squeeze(x)))], 1),
    "the 3x3 maps first": lambda fire, x: torch.cat([torch.relu(fire.expand3x3(torch.relu(fire.squeeze(x)))),
                                                    torch.relu(fire.expand1x1(torch.relu(fire.squeeze(x))))], 1),
    "the expands on the input": lambda fire, x: torch.cat([torch.relu(fire.expand1x1(x)), torch.relu(fire.expand3x3(x))], 1),
    "only the 1x1 expand": lambda fire, x: torch.relu(fire.expand1x1(torch.relu(fire.squeeze(x)))),
    "stub": stub,
    "not a tensor": lambda fire, x: fire_forward(fire, x).tolist(),
    "not a function": None,
}


def test_fire_forward_accepts_the_right_answer_and_a_relu_after_the_concatenation():
    assert repr(exercises.check_fire_forward(fire_forward)).startswith("✓ Correct")
    assert exercises.check_fire_forward(lambda fire, x: fire(x))
    assert exercises.check_fire_forward(lambda fire, x: torch.relu(torch.cat(
        [fire.expand1x1(torch.relu(fire.squeeze(x))), fire.expand3x3(torch.relu(fire.squeeze(x)))], 1)))


@pytest.mark.parametrize("mistake", WRONG_FORWARDS)
def test_fire_forward_rejects(mistake):
    assert "fire_forward" in failure(exercises.check_fire_forward, WRONG_FORWARDS[mistake])

