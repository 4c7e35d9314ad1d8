"""The Wide ResNet chapter's self-checks: right answers pass, the common wrong ones raise without giving the answer."""

from __future__ import annotations

import math

import pytest

from cnnzoo import exercises
from cnnzoo.exercises import wide_resnet as checks

from check_helpers import failure, stub


def test_checks_are_exported():
    for name in ("check_wrn_parameters", "check_widen_for_budget", "check_preact_forward"):
        assert name in exercises.__all__ and callable(getattr(exercises, name))


# --------------------------------------------------------------------------- parameters of WRN-d-k


def _wrn_parameters(depth, k, num_classes=10, *, projections="changes", bn_per_channel=2, final_bn=True,
                    fc_bias=True, squared=True, first_in_is_width=False):
    n = (depth - 4) // 6
    total = 3 * 9 * 16
    in_channels = 16
    for stride, base in ((1, 16), (2, 32), (2, 64)):
        width = base * k if squared else base
        for i in range(n):
            c_in = in_channels if i == 0 else width
            if i == 0 and first_in_is_width:
                c_in = width
            total += bn_per_channel * c_in + 9 * c_in * width + bn_per_channel * width + 9 * width * width
            changes = i == 0 and (stride != 1 or c_in != width)
            if projections == "changes" and changes or projections == "stride" and i == 0 and stride != 1:
                total += c_in * width
        in_channels = width
    if not squared:  # k applied to the whole count instead of to the widths
        total *= k
    width = 64 * k if squared else 64
    total += (bn_per_channel * width if final_bn else 0) + width * num_classes + (num_classes if fc_bias else 0)
    return total


def wrn_parameters(depth, k, num_classes=10):
    return _wrn_parameters(depth, k, num_classes)


WRONG_COUNTS = {
    "projections forgotten": lambda d, k, num_classes=10: _wrn_parameters(d, k, num_classes, projections="none"),
    "projections only where the stride is 2": lambda d, k, num_classes=10: _wrn_parameters(d, k, num_classes, projections="stride"),
    "batch norm forgotten": lambda d, k, num_classes=10: _wrn_parameters(d, k, num_classes, bn_per_channel=0, final_bn=False),
    "running statistics counted": lambda d, k, num_classes=10: _wrn_parameters(d, k, num_classes, bn_per_channel=4),
    "final batch norm forgotten": lambda d, k, num_classes=10: _wrn_parameters(d, k, num_classes, final_bn=False),
    "classifier's bias forgotten": lambda d, k, num_classes=10: _wrn_parameters(d, k, num_classes, fc_bias=False),
    "k times the thin network": lambda d, k, num_classes=10: _wrn_parameters(d, k, num_classes, squared=False),
    "first block reads the group's width": lambda d, k, num_classes=10: _wrn_parameters(d, k, num_classes, first_in_is_width=True),
    "num_classes ignored": lambda d, k, num_classes=10: _wrn_parameters(d, k, 10),
    "a string": lambda d, k, num_classes=10: str(wrn_parameters(d, k, num_classes)),
    "stub": stub,
    "not a function": 42,
}


def test_wrn_parameters_accepts_the_right_answer():
    assert repr(exercises.check_wrn_parameters(wrn_parameters)).startswith("✓ Correct")


def test_wrn_parameters_formula_gives_the_registered_counts():
    assert [wrn_parameters(16, 8), wrn_parameters(28, 10), wrn_parameters(40, 4)] == [10_961_370, 36_479_194, 8_949_210]


@pytest.mark.parametrize("mistake", WRONG_COUNTS)
def test_wrn_parameters_rejects(mistake):
    message = failure(exercises.check_wrn_parameters, WRONG_COUNTS[mistake])
    assert "wrn_parameters" in message
    if callable(WRONG_COUNTS[mistake]) and mistake not in ("stub", "a string"):
        for depth, k, num_classes in checks.WRN_PARAMETER_CASES:  # the right count is never shown
            assert f"{wrn_parameters(depth, k, num_classes):,}" not in message


# --------------------------------------------------------------------------- the k for a budget


def widen_for_budget(depth, budget):
    return min(range(1, checks.MAX_WIDEN + 1), key=lambda k: abs(wrn_parameters(depth, k) - budget))


def largest_under(depth, budget):
    under = [k for k in range(1, checks.MAX_WIDEN + 1) if wrn_parameters(depth, k) <= budget]
    return max(under) if under else 1


def smallest_over(depth, budget):
    return next((k for k in range(1, checks.MAX_WIDEN + 1) if wrn_parameters(depth, k) >= budget), checks.MAX_WIDEN)


def square_root_rule(depth, budget):
    return max(1, round(math.sqrt(budget / wrn_parameters(depth, 1))))


WRONG_WIDENS = {
    "largest k under the budget": largest_under,
    "smallest k over the budget": smallest_over,
    "k = sqrt(budget / WRN-d-1)": square_root_rule,
    "returns the count": lambda depth, budget: wrn_parameters(depth, widen_for_budget(depth, budget)),
    "returns a float": lambda depth, budget: widen_for_budget(depth, budget) + 0.5,
    "stub": stub,
    "not a function": None,
}


def test_widen_for_budget_accepts_the_right_answer():
    assert repr(exercises.check_widen_for_budget(widen_for_budget)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_WIDENS)
def test_widen_for_budget_rejects(mistake):
    assert "widen_for_budget" in failure(exercises.check_widen_for_budget, WRONG_WIDENS[mistake])


# --------------------------------------------------------------------------- a pre-activation block's forward


def preact_forward(block, x):
    activated = block.relu(block.bn1(x))
    out = block.conv1(activated)
    out = block.conv2(block.dropout(block.relu(block.bn2(out))))
    shortcut = x if block.downsample is None else block.downsample(activated)
    return out + shortcut


def post_activation(block, x):  # ResNet's order: conv-BN-ReLU, conv-BN, add, ReLU
    out = block.relu(block.bn1(block.conv1(x)))
    out = block.bn2(block.conv2(block.dropout(out)))
    return block.relu(out + (x if block.downsample is None else block.downsample(x)))


def relu_after_addition(block, x):
    return block.relu(preact_forward(block, x))


def projection_of_raw_input(block, x):
    activated = block.relu(block.bn1(x))
    out = block.conv2(block.dropout(block.relu(block.bn2(block.conv1(activated)))))
    return out + (x if block.downsample is None else block.downsample(x))


def dropout_forgotten(block, x):
    activated = block.relu(block.bn1(x))
    out = block.conv2(block.relu(block.bn2(block.conv1(activated))))
    return out + (x if block.downsample is None else block.downsample(activated))


def dropout_after_second_conv(block, x):
    activated = block.relu(block.bn1(x))
    out = block.dropout(block.conv2(block.relu(block.bn2(block.conv1(activated)))))
    return out + (x if block.downsample is None else block.downsample(activated))


def shortcut_is_activated_input(block, x):
    activated = block.relu(block.bn1(x))
    out = block.conv2(block.dropout(block.relu(block.bn2(block.conv1(activated)))))
    return out + (activated if block.downsample is None else block.downsample(activated))


def second_relu_forgotten(block, x):
    activated = block.relu(block.bn1(x))
    out = block.conv2(block.dropout(block.bn2(block.conv1(activated))))
    return out + (x if block.downsample is None else block.downsample(activated))


WRONG_FORWARDS = {
    "post-activation order": post_activation,
    "ReLU after the addition": relu_after_addition,
    "projection of the raw input": projection_of_raw_input,
    "dropout forgotten": dropout_forgotten,
    "dropout after the second convolution": dropout_after_second_conv,
    "identity shortcut carries the activated input": shortcut_is_activated_input,
    "second ReLU forgotten": second_relu_forgotten,
    "addition forgotten": lambda block, x: preact_forward(block, x) - (x if block.downsample is None else 0),
    "returns a tuple": lambda block, x: (preact_forward(block, x),),
    "stub": stub,
    "not a function": None,
}


def test_preact_forward_accepts_the_right_answer():
    assert repr(exercises.check_preact_forward(preact_forward)).startswith("✓ Correct")


def test_preact_forward_accepts_the_blocks_own_forward():
    assert exercises.check_preact_forward(lambda block, x: block(x))


@pytest.mark.parametrize("mistake", WRONG_FORWARDS)
def test_preact_forward_rejects(mistake):
    assert "preact_forward" in failure(exercises.check_preact_forward, WRONG_FORWARDS[mistake])
