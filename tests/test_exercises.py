"""The self-checks: right answers pass, wrong ones fail without giving the answer, nothing crashes."""

from __future__ import annotations

import pytest
from torch import nn

from cnnzoo import exercises, models


def correct_conv_output_size(size, kernel, stride=1, padding=0):
    return (size + 2 * padding - kernel) // stride + 1


def test_check_value():
    assert exercises.check_value(5, 5, name="x")
    wrong = exercises.check_value(7, 5, name="x")
    assert not wrong and "too large" in repr(wrong) and "5" not in wrong.message.replace("x = 7", "")
    assert "number" in repr(exercises.check_value("five", 5, name="x"))
    assert repr(exercises.check_value(5, 5, name="x")).startswith("✓")
    assert repr(wrong).startswith("✗")


def test_check_conv_output_size():
    assert exercises.check_conv_output_size(correct_conv_output_size)
    no_padding = exercises.check_conv_output_size(lambda size, kernel, stride=1, padding=0: (size - kernel) // stride + 1)
    assert not no_padding and "returned" in no_padding.message
    floats = exercises.check_conv_output_size(lambda size, kernel, stride=1, padding=0: (size + 2 * padding - kernel) / stride + 1)
    assert not floats and "int" in floats.message


@pytest.mark.parametrize(
    "attempt, words",
    [
        (None, "function"),
        (42, "function"),
        (lambda *a, **k: (_ for _ in ()).throw(NotImplementedError()), "NotImplementedError"),
        (lambda size: size, "TypeError"),
        (lambda *a, **k: "27", "returned '27'"),
    ],
)
def test_checks_never_crash(attempt, words):
    result = exercises.check_conv_output_size(attempt)
    assert not result and words in result.message


def test_check_c3_parameters():
    full = sum(p.numel() for p in nn.Conv2d(6, 16, 5).parameters())
    assert exercises.check_c3_parameters(full, full - 1_516)
    assert not exercises.check_c3_parameters(full - 16, full - 1_516)  # forgot the biases
    assert not exercises.check_c3_parameters(full, 1_516)
    assert not exercises.check_c3_parameters("2416", None)


def lenet5_28():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def test_check_lenet5_for_28x28():
    assert exercises.check_lenet5_for_28x28(lenet5_28)
    unpadded = exercises.check_lenet5_for_28x28(lambda: models.build("lenet5"))
    assert not unpadded and "28x28" in unpadded.message  # lenet5 itself refuses 28x28 input
    assert not exercises.check_lenet5_for_28x28(lenet5_28())  # a model, not a function
    assert not exercises.check_lenet5_for_28x28(lambda: nn.Sequential(*list(lenet5_28())[:-1], nn.Linear(84, 9)))


def test_check_model_reports_parameter_direction():
    big = nn.Sequential(nn.Flatten(), nn.Linear(4, 10))
    result = exercises.check_model(big, (1, 1, 2, 2), output_shape=(1, 10), params=10)
    assert not result and "too many" in result.message
    assert exercises.check_model(big, (1, 1, 2, 2), output_shape=(1, 10), params=50)
