"""The ResNeXt chapter's self-checks: right answers pass, the common wrong ones raise without giving the answer."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnzoo import exercises

from check_helpers import failure, stub

pytestmark = pytest.mark.usefixtures("one_thread")


def test_checks_are_exported():
    for name in ("check_resnext_block_params", "check_matching_width", "check_merge_paths"):
        assert name in exercises.__all__ and callable(getattr(exercises, name))


# --------------------------------------------------------------------------- a block's weights


def resnext_block_params(in_channels, cardinality, width, out_channels):
    maps = cardinality * width
    return in_channels * maps + 9 * maps * width + maps * out_channels


WRONG_BLOCKS = {
    "3x3 counted as dense": lambda i, c, d, o: i * c * d + 9 * (c * d) ** 2 + c * d * o,
    "groups forgotten (one path of width d)": lambda i, c, d, o: i * d + 9 * d * d + d * o,
    "1x1s forgotten": lambda i, c, d, o: 9 * c * d * d,
    "last 1x1 forgotten": lambda i, c, d, o: i * c * d + 9 * c * d * d,
    "3x3 as 1x1": lambda i, c, d, o: i * c * d + c * d * d + c * d * o,
    "in used for out": lambda i, c, d, o: resnext_block_params(i, c, d, i),
    "batch norm counted": lambda i, c, d, o: resnext_block_params(i, c, d, o) + 2 * (2 * c * d + o),
    "float": lambda i, c, d, o: float(resnext_block_params(i, c, d, o)),
    "stub": stub,
}


def test_resnext_block_params_accepts_the_right_answer():
    assert repr(exercises.check_resnext_block_params(resnext_block_params)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_BLOCKS)
def test_resnext_block_params_rejects(mistake):
    assert "resnext_block_params" in failure(exercises.check_resnext_block_params, WRONG_BLOCKS[mistake])


def test_resnext_block_params_message_does_not_give_the_count_away():
    message = failure(exercises.check_resnext_block_params, WRONG_BLOCKS["1x1s forgotten"])
    # 9 * 32 * 4 * 4 = 4608 returned for (256, 32, 4, 256); the right 70,144 is not in the message
    assert "returned 4608" in message and "70144" not in message and "70,144" not in message


# --------------------------------------------------------------------------- the matching width


def matching_width(cardinality, in_channels=256, reference_width=64, *, rounding="nearest", three_by_three=9):
    def weights(c, d):
        return c * (2 * in_channels * d + three_by_three * d * d)

    target = weights(1, reference_width)
    if rounding == "floor":  # the largest d that does not exceed the target
        return max(d for d in range(1, reference_width + 1) if weights(cardinality, d) <= target)
    return min(range(1, reference_width + 1), key=lambda d: (abs(weights(cardinality, d) - target), d))


WRONG_WIDTHS = {
    "rounded down": lambda c, in_channels=256, reference_width=64: matching_width(
        c, in_channels, reference_width, rounding="floor"),
    "3x3 as dense over C*d maps": lambda c, in_channels=256, reference_width=64: min(
        range(1, reference_width + 1),
        key=lambda d: abs(2 * in_channels * c * d + 9 * (c * d) ** 2 - 2 * in_channels * reference_width
                          - 9 * reference_width ** 2)),
    "1x1s forgotten": lambda c, in_channels=256, reference_width=64: round(reference_width / c ** 0.5),
    "width divided by C": lambda c, in_channels=256, reference_width=64: max(1, reference_width // c),
    "3x3 forgotten": lambda c, in_channels=256, reference_width=64: matching_width(
        c, in_channels, reference_width, three_by_three=0),
    "no default arguments": lambda c, in_channels, reference_width: matching_width(c, in_channels, reference_width),
    "float": lambda c, in_channels=256, reference_width=64: float(matching_width(c, in_channels, reference_width)),
    "stub": stub,
}


def test_matching_width_accepts_the_right_answer():
    assert repr(exercises.check_matching_width(matching_width)).startswith("✓ Correct")


def test_matching_width_reproduces_table_2():
    # Table 2 of Xie et al. (2017): at ResNet-50's complexity, C = 1, 2, 4, 8, 32 go with d = 64, 40, 24, 14, 4.
    assert [matching_width(c) for c in (1, 2, 4, 8, 32)] == [64, 40, 24, 14, 4]


@pytest.mark.parametrize("mistake", WRONG_WIDTHS)
def test_matching_width_rejects(mistake):
    assert "matching_width" in failure(exercises.check_matching_width, WRONG_WIDTHS[mistake])


# --------------------------------------------------------------------------- merging the paths


def merge_paths(convs, *, dim=0, bias=True, groups=None, order=1):
    first = convs[0]
    merged = nn.Conv2d(len(convs) * first.in_channels, len(convs) * first.out_channels, first.kernel_size,
                       padding=first.padding, groups=len(convs) if groups is None else groups)
    convs = list(convs)[::order]
    with torch.no_grad():
        if dim == 0:
            merged.weight.copy_(torch.cat([conv.weight for conv in convs], dim=0))
        else:  # the weights laid side by side along the input maps: the wrong axis, same shape when d = d
            merged.weight.copy_(torch.cat([conv.weight for conv in convs], dim=1).reshape(merged.weight.shape))
        if bias:
            merged.bias.copy_(torch.cat([conv.bias for conv in convs]))
        else:
            merged.bias.zero_()
    return merged


def _dense(convs):
    """Right output, but a dense convolution with zeros outside the diagonal blocks: not grouped."""
    c, d = len(convs), convs[0].in_channels
    merged = nn.Conv2d(c * d, c * d, convs[0].kernel_size, padding=convs[0].padding)
    with torch.no_grad():
        merged.weight.zero_()
        for i, conv in enumerate(convs):
            merged.weight[i * d:(i + 1) * d, i * d:(i + 1) * d] = conv.weight
        merged.bias.copy_(torch.cat([conv.bias for conv in convs]))
    return merged


WRONG_MERGES = {
    "weights along the input axis": lambda convs: merge_paths(convs, dim=1),
    "biases zeroed, not copied": lambda convs: merge_paths(convs, bias=False),
    "paths in reverse order": lambda convs: merge_paths(convs, order=-1),
    "dense with zeros (not grouped)": _dense,
    "a Sequential of the paths": lambda convs: nn.Sequential(*convs),
    "stub": stub,
}


def test_merge_paths_accepts_the_right_answer():
    assert repr(exercises.check_merge_paths(merge_paths)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_MERGES)
def test_merge_paths_rejects(mistake):
    assert "merge_paths" in failure(exercises.check_merge_paths, WRONG_MERGES[mistake])


def test_merge_paths_says_a_dense_convolution_is_not_grouped():
    assert "groups=1" in failure(exercises.check_merge_paths, _dense)
