"""The self-checks: right answers pass, the common wrong ones raise without giving the answer."""

from __future__ import annotations

import math
import traceback

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo import exercises, models
from cnnzoo.exercises import CheckFailed

from check_helpers import failure, stub


# --------------------------------------------------------------------------- general checks


def test_check_value():
    assert repr(exercises.check_value(5, 5, name="x")) == "✓ Correct: x."
    wrong = failure(lambda: exercises.check_value(7, 5, name="x"))
    assert "too large" in wrong and "5" not in wrong.replace("x = 7", "")
    assert "too small" in failure(lambda: exercises.check_value(3, 5, name="x"))
    assert "number" in failure(lambda: exercises.check_value("five", 5, name="x"))
    assert "number" in failure(lambda: exercises.check_value(True, 1, name="x"))
    assert exercises.check_value(torch.tensor(5), 5, name="x")
    assert exercises.check_value(5.05, 5, name="x", tolerance=0.1)


def test_failure_traceback_is_short():
    """A wrong answer's traceback is the caller and the check itself, with no chained exception."""
    try:
        exercises.check_conv_output_size(stub)
    except CheckFailed as error:
        frames = traceback.extract_tb(error.__traceback__)
        assert [f.name for f in frames] == ["test_failure_traceback_is_short", "check_conv_output_size"]
        assert error.__cause__ is None and error.__suppress_context__
        assert "NotImplementedError" in error.message
    else:
        pytest.fail("the stub passed")


def test_check_model_reports_parameter_direction():
    big = nn.Sequential(nn.Flatten(), nn.Linear(4, 10))
    assert "too many" in failure(lambda: exercises.check_model(big, (1, 1, 2, 2), output_shape=(1, 10), params=10))
    assert "too few" in failure(lambda: exercises.check_model(big, (1, 1, 2, 2), output_shape=(1, 10), params=60))
    assert exercises.check_model(big, (1, 1, 2, 2), output_shape=(1, 10), params=50)
    assert "(1, 9)" in failure(lambda: exercises.check_model(big, (1, 1, 2, 2), output_shape=(1, 9)))


# --------------------------------------------------------------------------- conv_output_size


def correct_conv_output_size(size, kernel, stride=1, padding=0):
    return (size + 2 * padding - kernel) // stride + 1


WRONG_CONV_OUTPUT_SIZE = {
    "missing padding": (lambda size, kernel, stride=1, padding=0: (size - kernel) // stride + 1, "returned"),
    "float division": (lambda size, kernel, stride=1, padding=0: (size + 2 * padding - kernel) / stride + 1, "int"),
    "stride and padding swapped": (
        lambda size, kernel, padding=0, stride=1: (size + 2 * padding - kernel) // stride + 1,
        "order (size, kernel, stride, padding)",
    ),
    "no +1": (lambda size, kernel, stride=1, padding=0: (size + 2 * padding - kernel) // stride, "returned"),
    "ceil": (lambda size, kernel, stride=1, padding=0: math.ceil((size + 2 * padding - kernel) / stride) + 1, "returned"),
    "padding once": (lambda size, kernel, stride=1, padding=0: (size + padding - kernel) // stride + 1, "returned"),
    "wrong default stride": (lambda size, kernel, stride=2, padding=0: (size + 2 * padding - kernel) // stride + 1, "returned"),
    "stub": (stub, "NotImplementedError"),
    "not a function": (42, "function"),
    "one argument": (lambda size: size, "TypeError"),
    "a string": (lambda *a, **k: "27", "returned '27'"),
    "a bool": (lambda *a, **k: True, "int"),
}


def test_check_conv_output_size_accepts_right_answers():
    assert repr(exercises.check_conv_output_size(correct_conv_output_size)).startswith("✓ Correct")
    assert exercises.check_conv_output_size(lambda size, kernel, stride=1, padding=0: math.floor((size + 2 * padding - kernel) / stride) + 1)
    assert exercises.check_conv_output_size(lambda size, kernel, stride=1, padding=0: int((size + 2 * padding - kernel) / stride) + 1)


@pytest.mark.parametrize("mistake", WRONG_CONV_OUTPUT_SIZE)
def test_check_conv_output_size_rejects(mistake):
    attempt, words = WRONG_CONV_OUTPUT_SIZE[mistake]
    assert words in failure(exercises.check_conv_output_size, attempt)


def test_conv_cases_separate_the_mistakes():
    """Every wrong formula above is wrong on at least one of the check's settings (computed, not assumed)."""
    for mistake in ("missing padding", "float division", "no +1", "ceil", "padding once"):
        attempt = WRONG_CONV_OUTPUT_SIZE[mistake][0]
        assert any(
            attempt(s, k, st, p) != correct_conv_output_size(s, k, st, p) or type(attempt(s, k, st, p)) is not int
            for s, k, st, p in exercises.CONV_SETTINGS
        ), mistake
    assert all(st != p for _, _, st, p in exercises.CONV_SETTINGS[1:])  # swapped arguments are caught
    assert any((s + 2 * p - k) % st for s, k, st, p in exercises.CONV_SETTINGS)  # so is ceil for floor


def test_messages_do_not_give_the_width_away():
    message = failure(exercises.check_conv_output_size, WRONG_CONV_OUTPUT_SIZE["no +1"][0])
    # "conv_output_size(32, 5) returned 27, which is not right." and nothing about 28
    assert "27" in message and "28" not in message


# --------------------------------------------------------------------------- C3 parameters


C3_FULL = sum(p.numel() for p in nn.Conv2d(6, 16, 5).parameters())
C3_TABLE = sum(p.numel() for p in models.build("lenet5_1998").c3.parameters())


def test_check_c3_parameters_accepts_the_counts():
    assert repr(exercises.check_c3_parameters(C3_FULL, C3_FULL - C3_TABLE)) == "✓ Correct: both counts."
    assert exercises.check_c3_parameters(torch.tensor(C3_FULL), float(C3_FULL - C3_TABLE))


@pytest.mark.parametrize(
    "full, saved, words",
    [
        (16 * 6 * 25, 16 * 6 * 25 - (C3_TABLE - 16), "full = 2400 is too small"),  # biases forgotten
        # connections instead of parameters: every weight and bias, at each of C3's 10x10 positions
        (C3_FULL * 100, (C3_FULL - C3_TABLE) * 100, "full = 241600 is too large"),
        (C3_FULL, C3_TABLE, "saved = 1516 is too large"),  # the table's count, not the saving
        (C3_FULL - C3_TABLE, C3_FULL, "full = 900 is too small"),  # the two answers swapped
        (C3_FULL, None, "saved should be a number"),  # the stub's None left in
        (None, None, "full should be a number"),
        ("2416", 900, "full should be a number"),
    ],
)
def test_check_c3_parameters_rejects(full, saved, words):
    assert words in failure(exercises.check_c3_parameters, full, saved)


# --------------------------------------------------------------------------- LeNet-5 for 28x28


def lenet5_28():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def replace(index: int, layer: nn.Module):
    """lenet5_28 with one layer replaced."""
    def build():
        layers = list(lenet5_28())
        layers[index] = layer
        return nn.Sequential(*layers)
    return build


class PadInForward(nn.Module):
    """Pads the 28x28 image in ``forward`` with ``value``, then runs LeNet-5's unpadded C1."""

    def __init__(self, value: float = 0.0) -> None:
        super().__init__()
        self.value = value
        self.body = nn.Sequential(nn.Conv2d(1, 6, 5), *list(lenet5_28())[1:])

    def forward(self, x):
        return self.body(F.pad(x, (2, 2, 2, 2), value=self.value))


def one_big_linear():
    """Two linear layers on the flat image with exactly lenet5's parameter count."""
    target = sum(p.numel() for p in models.build("lenet5").parameters())
    for hidden in range(1, 200):  # 785 h + (h + 1) w + (w + 1) 10 = target, solved for w
        width, rest = divmod(target - 785 * hidden - 10, hidden + 11)
        if rest == 0 and width > 0:
            return lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, width), nn.ReLU(), nn.Linear(width, 10))
    raise AssertionError("no such sizes")


def conv_c5():
    layers = list(lenet5_28())
    return nn.Sequential(*layers[:6], nn.Conv2d(16, 120, 5), nn.Flatten(), *layers[8:])


RIGHT_LENET = {
    "padding in C1": lenet5_28,
    "C5 as a 5x5 convolution": conv_c5,
    "ZeroPad2d before C1": lambda: nn.Sequential(nn.ZeroPad2d(2), PadInForward().body),
    "zero padding in forward": PadInForward,
    "pooling before ReLU (the same function)": lambda: nn.Sequential(*[lenet5_28()[i] for i in (0, 2, 1, 3, 5, 4)], *list(lenet5_28())[6:]),
}

WRONG_LENET = {
    "unpadded lenet5 itself": (lambda: models.build("lenet5"), "28x28"),
    "a model, not a function": (lenet5_28(), "function that returns a model"),
    "a class instance's forward": (PadInForward(), "function that returns a model"),
    "stub": (stub, "NotImplementedError"),
    "9 classes": (lambda: nn.Sequential(*list(lenet5_28())[:-1], nn.Linear(84, 9)), "(2, 9)"),
    "returns None": (lambda: None, "Module"),
    "no padding, Linear(16*4*4, 120)": (
        lambda: nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(16 * 4 * 4, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)),
        "too few",
    ),
    "one big linear of the right count": (one_big_linear(), "not those of LeNet-5's layers"),
    "average pooling": (replace(2, nn.AvgPool2d(2)), "AvgPool2d"),
    "tanh": (replace(1, nn.Tanh()), "Tanh"),
    "tanh called in forward": (lambda: nn.Sequential(TanhFirst()), "computes something else"),
    "pooling first": (
        lambda: nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.Conv2d(6, 16, 5), nn.ReLU(),
                              nn.MaxPool2d(2), *list(lenet5_28())[6:]),
        "1st layer with weights or pooling (MaxPool2d) gives 1@14x14",
    ),
    "padding 3 in C1": (replace(0, nn.Conv2d(1, 6, 5, padding=3)), "(Conv2d) gives 6@30x30 maps, unlike LeNet-5's C1"),
    "overlapping pooling": (replace(2, nn.MaxPool2d(3, stride=2, padding=1)), "computes something else"),
    "no ReLU after C1": (replace(1, nn.Identity()), "computes something else"),
    "ReLU on the scores": (lambda: nn.Sequential(*lenet5_28(), nn.ReLU()), "computes something else"),
    "padding with the paper's background": (lambda: PadInForward(-0.1), "computes something else"),
    "image resized to 32x32": (lambda: Resize(), "computes something else"),
}


class TanhFirst(nn.Module):
    """lenet5_28's layers with torch.tanh called in forward after C1, where no module shows it."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = lenet5_28()

    def forward(self, x):
        return self.layers[3:](self.layers[2](torch.tanh(self.layers[0](x))))


class Resize(nn.Module):
    """Interpolates the 28x28 image to 32x32 for an unpadded LeNet-5."""

    def __init__(self) -> None:
        super().__init__()
        self.body = PadInForward().body

    def forward(self, x):
        return self.body(F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False))


@pytest.mark.parametrize("answer", RIGHT_LENET)
def test_check_lenet5_for_28x28_accepts(answer):
    result = exercises.check_lenet5_for_28x28(RIGHT_LENET[answer])
    assert repr(result) == "✓ Correct: lenet5_28() builds LeNet-5's layers for 28x28 inputs."


@pytest.mark.parametrize("mistake", WRONG_LENET)
def test_check_lenet5_for_28x28_rejects(mistake):
    attempt, words = WRONG_LENET[mistake]
    message = failure(exercises.check_lenet5_for_28x28, attempt)
    assert words in message
    assert "padding=2" not in message and "6@28x28" not in message  # nothing of the answer


def test_wrong_lenets_have_the_right_count_where_claimed():
    """The answers that only the layer checks can catch really have lenet5's count and output shape."""
    target = sum(p.numel() for p in models.build("lenet5").parameters())
    for mistake in ("one big linear of the right count", "average pooling", "tanh", "pooling first", "padding 3 in C1",
                    "overlapping pooling", "padding with the paper's background", "image resized to 32x32"):
        model = WRONG_LENET[mistake][0]()
        assert sum(p.numel() for p in model.parameters()) == target, mistake
        assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10), mistake


def test_check_lenet5_keeps_the_random_state():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    exercises.check_lenet5_for_28x28(lenet5_28)
    with pytest.raises(CheckFailed):
        exercises.check_lenet5_for_28x28(replace(2, nn.AvgPool2d(2)))
    assert torch.equal(torch.rand(3), expected)
