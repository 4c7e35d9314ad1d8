"""The AlexNet chapter's self-checks: right answers pass, the common wrong ones raise without giving the answer.

The right answers below are written the way a student would (formulas, or the model's layers),
and each wrong answer is a mistake a student makes; the expected values inside the checks come
from PyTorch and cnnzoo, so these tests also catch a check whose expected value drifts.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnzoo import analysis, exercises, models

from check_helpers import failure, stub


# --------------------------------------------------------------------------- exercise 1: ZFNet's layer 1

ZF_SIZE = (224 + 2 * 1 - 7) // 2 + 1
ZF_PARAMS = 96 * (7 * 7 * 3 + 1)

WRONG_ZF_LAYER1 = {
    "no padding": ((224 - 7) // 2 + 1, ZF_PARAMS, "size", "too small"),
    "AlexNet's stride 4": ((224 + 2 - 7) // 4 + 1, ZF_PARAMS, "size", "too small"),
    "no +1": ((224 + 2 - 7) // 2, ZF_PARAMS, "size", "too small"),
    "float division": ((224 + 2 - 7) / 2 + 1, ZF_PARAMS, "size", "too large"),
    "forgot the biases": (ZF_SIZE, 96 * 7 * 7 * 3, "params", "too small"),
    "forgot the 3 input channels": (ZF_SIZE, 96 * (7 * 7 + 1), "params", "too small"),
    "AlexNet's 11x11 filters": (ZF_SIZE, 96 * (11 * 11 * 3 + 1), "params", "too large"),
    "a bias per weight": (ZF_SIZE, 96 * 7 * 7 * 3 * 2, "params", "too large"),
    "the stub's None": (None, None, "number", "NoneType"),
    "a string": (str(ZF_SIZE), ZF_PARAMS, "number", "str"),
}


def test_check_zfnet_layer1_accepts_the_right_answer():
    assert repr(exercises.check_zfnet_layer1(ZF_SIZE, ZF_PARAMS)).startswith("✓ Correct")
    # the same numbers as tensors or from a real layer pass too
    conv = nn.Conv2d(3, 96, 7, stride=2, padding=1)
    assert exercises.check_zfnet_layer1(torch.tensor(ZF_SIZE), analysis.count_parameters(conv))


@pytest.mark.parametrize("mistake", WRONG_ZF_LAYER1)
def test_check_zfnet_layer1_rejects(mistake):
    size, params, name, words = WRONG_ZF_LAYER1[mistake]
    message = failure(exercises.check_zfnet_layer1, size, params)
    assert name in message and words in message


def test_zfnet_layer1_messages_do_not_give_the_answer_away():
    message = failure(exercises.check_zfnet_layer1, ZF_SIZE, 96 * 7 * 7 * 3)
    assert str(ZF_PARAMS) not in message and f"{ZF_PARAMS:,}" not in message
    message = failure(exercises.check_zfnet_layer1, ZF_SIZE - 1, ZF_PARAMS)
    assert str(ZF_SIZE) not in message


def test_zfnet_layer1_expected_values_come_from_the_model():
    """The check's numbers are zfnet's own conv1 (not typed in): they agree with the paper's Figure 3."""
    with torch.device("meta"):
        conv1 = models.build("zfnet").conv1
    assert (conv1.kernel_size, conv1.stride, conv1.padding, conv1.out_channels) == ((7, 7), (2, 2), (1, 1), 96)
    assert exercises.alexnet._zfnet_layer1() == (ZF_SIZE, ZF_PARAMS) == (110, analysis.count_parameters(conv1))


# --------------------------------------------------------------------------- exercise 2: grouped_conv_params


def correct_grouped_conv_params(in_channels, out_channels, kernel, groups):
    if in_channels % groups or out_channels % groups:
        raise ValueError("groups must divide both channel counts")
    return out_channels * (in_channels // groups) * kernel * kernel + out_channels


def _checked(formula):
    """A formula with the right ValueError, so that only the count is wrong."""
    def attempt(in_channels, out_channels, kernel, groups):
        if in_channels % groups or out_channels % groups:
            raise ValueError("groups must divide both channel counts")
        return formula(in_channels, out_channels, kernel, groups)
    return attempt


WRONG_GROUPED = {
    "ignores groups": (_checked(lambda i, o, k, g: o * i * k * k + o), "returned"),
    "divides both channels": (_checked(lambda i, o, k, g: (o // g) * (i // g) * k * k + o), "returned"),
    "a bias per group": (_checked(lambda i, o, k, g: o * (i // g) * k * k + g), "returned"),
    "no biases": (_checked(lambda i, o, k, g: o * (i // g) * k * k), "returned"),
    "biases divided by the groups": (_checked(lambda i, o, k, g: o * (i // g) * k * k + o // g), "returned"),
    "one kernel size, not its square": (_checked(lambda i, o, k, g: o * (i // g) * k + o), "returned"),
    "float division": (_checked(lambda i, o, k, g: o * (i / g) * k * k + o), "int"),
    "no ValueError, rounds down": (lambda i, o, k, g: o * (i // g) * k * k + o, "ValueError"),
    "the wrong error": (
        lambda i, o, k, g: (_ for _ in ()).throw(TypeError("bad")) if i % g or o % g else o * (i // g) * k * k + o,
        "TypeError",
    ),
    "stub": (stub, "NotImplementedError"),
    "not a function": (42, "function"),
}


def test_check_grouped_conv_params_accepts_right_answers():
    assert repr(exercises.check_grouped_conv_params(correct_grouped_conv_params)).startswith("✓ Correct")

    def by_building(in_channels, out_channels, kernel, groups):  # building the layer is allowed too
        try:
            layer = nn.Conv2d(in_channels, out_channels, kernel, groups=groups)
        except ValueError as error:
            raise ValueError(str(error)) from None
        return sum(p.numel() for p in layer.parameters())

    assert exercises.check_grouped_conv_params(by_building)


@pytest.mark.parametrize("mistake", WRONG_GROUPED)
def test_check_grouped_conv_params_rejects(mistake):
    attempt, words = WRONG_GROUPED[mistake]
    assert words in failure(exercises.check_grouped_conv_params, attempt)


def test_grouped_settings_separate_the_mistakes():
    """Each wrong formula differs from PyTorch's count on at least one setting (computed, not assumed)."""
    settings = exercises.GROUPED_SETTINGS
    expected = {s: sum(p.numel() for p in nn.Conv2d(s[0], s[1], s[2], groups=s[3]).parameters()) for s in settings}
    assert all(correct_grouped_conv_params(*s) == expected[s] for s in settings)
    for mistake in ("ignores groups", "divides both channels", "a bias per group", "no biases",
                    "biases divided by the groups", "one kernel size, not its square"):
        attempt = WRONG_GROUPED[mistake][0]
        assert any(attempt(*s) != expected[s] for s in settings), mistake
    assert any(s[3] == 1 for s in settings) and any(s[3] > 2 for s in settings)
    assert any(s[0] != s[1] for s in settings if s[3] > 1)  # unequal channels: a swap of in and out shows


def test_grouped_messages_do_not_give_the_count_away():
    message = failure(exercises.check_grouped_conv_params, WRONG_GROUPED["ignores groups"][0])
    first = exercises.GROUPED_SETTINGS[0]
    assert f"{correct_grouped_conv_params(*first)}" not in message


# --------------------------------------------------------------------------- exercise 3: the towers joined


def student_joined() -> tuple[int, int]:
    """Exercise 3's solution as the notebook writes it."""
    with torch.device("meta"):  # shapes only: fast, no memory
        model = models.build("alexnet_2012")
    joined = analysis.count_parameters(model)
    for layer in model.modules():
        if isinstance(layer, nn.Conv2d) and layer.groups > 1:
            k = layer.kernel_size[0]
            joined += (correct_grouped_conv_params(layer.in_channels, layer.out_channels, k, 1)
                       - correct_grouped_conv_params(layer.in_channels, layer.out_channels, k, layer.groups))
    return joined, joined - analysis.count_parameters(model)


@pytest.fixture(scope="module")
def joined_answer() -> tuple[int, int]:
    return student_joined()


def test_check_ungrouped_alexnet_accepts_the_right_answer(joined_answer):
    assert repr(exercises.check_ungrouped_alexnet(*joined_answer)).startswith("✓ Correct")


def test_ungrouped_answer_by_hand(joined_answer):
    """The same extra count from the paper's kernel shapes (Sec. 3.5): the grouped layers' weights double."""
    from cnnzoo.models.alexnet import PAPER_KERNELS

    extra = sum(n * depth * h * w for name, (n, depth, h, w) in PAPER_KERNELS.items() if name in ("conv2", "conv4", "conv5"))
    assert joined_answer[1] == extra


def _wrong_joined(joined_answer):
    total, extra = joined_answer[0] - joined_answer[1], joined_answer[1]
    with torch.device("meta"):
        model = models.build("alexnet_2012")
    conv = {name: analysis.count_parameters(layer) for name, layer in model.named_children() if isinstance(layer, nn.Conv2d)}
    all_convs_doubled = sum(conv.values())  # every convolution doubled, conv1 and conv3 included
    with_biases = extra + 256 + 384 + 256   # the biases doubled too
    return {
        "the towers' total, unchanged": ((total, 0), "params", "too small"),
        "every convolution doubled": ((total + all_convs_doubled, all_convs_doubled), "params", "too large"),
        "the biases doubled too": ((total + with_biases, with_biases), "params", "too large"),
        "only conv2 joined": ((total + conv["conv2"] - 256, conv["conv2"] - 256), "params", "too small"),
        "right total, extra as a ratio": ((total + extra, (total + extra) / total), "extra", "too small"),
        "the stub's None": ((None, None), "number", "NoneType"),
    }


def test_check_ungrouped_alexnet_rejects(joined_answer):
    for mistake, ((params, extra), name, words) in _wrong_joined(joined_answer).items():
        message = failure(exercises.check_ungrouped_alexnet, params, extra)
        assert name in message and words in message, mistake
        assert f"{joined_answer[0]:,}" not in message and str(joined_answer[0]) not in message, mistake


# --------------------------------------------------------------------------- the module


def test_checks_are_exported():
    for name in ("check_zfnet_layer1", "check_grouped_conv_params", "check_ungrouped_alexnet", "GROUPED_SETTINGS"):
        assert name in exercises.__all__ and hasattr(exercises, name)


def test_stub_answers_fail_every_check():
    """What the student edition hands out (None answers, stub functions) scores zero on every check."""
    assert "number" in failure(exercises.check_zfnet_layer1, None, None)
    assert "NotImplementedError" in failure(exercises.check_grouped_conv_params, stub)
    assert "number" in failure(exercises.check_ungrouped_alexnet, None, None)
