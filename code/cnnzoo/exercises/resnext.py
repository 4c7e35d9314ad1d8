"""Self-checks for the exercises of the ResNeXt chapter (``chapters/resnext.ipynb``).

Each expected value is computed from ``cnnzoo`` itself: a block's weights by counting the
convolutions of a real ``grouped_block`` (form (c)) on the "meta" device, the matching width
by searching over real blocks, and a merged grouped convolution by comparing its output with
the paths' concatenated outputs on random input.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._core import CheckFailed, CheckResult, _call, _function_problem

__all__ = [
    "BLOCK_CASES",
    "WIDTH_CASES",
    "MERGE_CASES",
    "check_resnext_block_params",
    "check_matching_width",
    "check_merge_paths",
]

#: (in_channels, cardinality, width, out_channels): ResNeXt-50's four stages and others, so that a
#: formula that fits one shape only (in == out, C = 32, ...) shows.
BLOCK_CASES = [
    (256, 32, 4, 256),
    (64, 32, 4, 256),
    (512, 32, 8, 512),
    (1024, 32, 16, 1024),
    (256, 1, 64, 256),
    (64, 4, 4, 64),
    (48, 3, 5, 96),
    (256, 64, 4, 256),
]

#: (cardinality, in_channels, reference_width): the ResNet bottleneck in -> w -> in to match.
WIDTH_CASES = [
    (1, 256, 64),
    (2, 256, 64),
    (16, 256, 64),
    (64, 256, 64),
    (3, 256, 64),
    (8, 512, 128),
    (32, 1024, 256),
    (4, 64, 16),
]

#: (cardinality, width, kernel): C path convolutions of d -> d maps to merge into one grouped one.
MERGE_CASES = [(4, 4, 3), (2, 3, 3), (8, 2, 1), (3, 5, 3)]


def _branch_weights(in_channels: int, cardinality: int, width: int, out_channels: int) -> int:
    """The weights of the three convolutions of a real form (c) block (no batch norm, no shortcut)."""
    from ..models.resnet import Bottleneck

    # The 3x3 of Bottleneck(channels, groups, width_per_group) has channels * width_per_group // 64 * groups
    # maps: channels = 64 gives exactly cardinality * width of them; conv3 is then replaced to write out_channels.
    with torch.device("meta"):
        block = Bottleneck(in_channels, 64, groups=cardinality, width_per_group=width, shortcut=None)
        block.conv3 = nn.Conv2d(cardinality * width, out_channels, kernel_size=1, bias=False)
    return sum(layer.weight.numel() for layer in (block.conv1, block.conv2, block.conv3))


def check_resnext_block_params(function: Any) -> CheckResult:
    """Exercise: ``resnext_block_params(in_channels, cardinality, width, out_channels)``.

    The weights of a ResNeXt block's residual branch: 1x1 (in -> C*d), 3x3 with C groups
    (C*d -> C*d), 1x1 (C*d -> out); no biases, batch norm and shortcut not counted.

    Raises:
        CheckFailed: at the first call that goes wrong, without the right value.
    """
    name = "resnext_block_params"
    cases = [(case, {}, _branch_weights(*case)) for case in BLOCK_CASES]
    problem = _function_problem(function, cases, name)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult(f"Correct: {name} passed all {len(cases)} cases.")


def _matching_width(cardinality: int, in_channels: int, reference_width: int) -> int:
    """The d whose C-path block (in -> d -> in per path) is closest in weights to the 1-path block of width w."""
    target = _branch_weights(in_channels, 1, reference_width, in_channels)

    def weights(width: int) -> int:
        return _branch_weights(in_channels, cardinality, width, in_channels)

    # The weights grow with d: bisect for the smallest d at or above the target, then take the closer neighbour.
    low, high = 1, reference_width
    while low < high:
        middle = (low + high) // 2
        if weights(middle) >= target:
            high = middle
        else:
            low = middle + 1
    if low > 1 and target - weights(low - 1) <= weights(low) - target:
        return low - 1
    return low


def check_matching_width(function: Any) -> CheckResult:
    """Exercise: ``matching_width(cardinality, in_channels=256, reference_width=64)``.

    The bottleneck width d (a whole number) for which a ResNeXt block with ``cardinality``
    paths, reading and writing ``in_channels`` maps, has the number of weights closest to
    ResNet's bottleneck ``in_channels -> reference_width -> in_channels`` (Table 2's
    construction). Called with and without the keyword arguments.

    Raises:
        CheckFailed: at the first call that goes wrong, without the right value.
    """
    name = "matching_width"
    cases = []
    for cardinality, in_channels, reference in WIDTH_CASES:
        expected = _matching_width(cardinality, in_channels, reference)
        if (in_channels, reference) == (256, 64):
            cases.append(((cardinality,), {}, expected))
        cases.append(((cardinality,), {"in_channels": in_channels, "reference_width": reference}, expected))
    problem = _function_problem(function, cases, name)
    if problem:
        raise CheckFailed(problem) from None
    return CheckResult(f"Correct: {name} passed all {len(cases)} cases.")


def _merge_problem(function: Any, cardinality: int, width: int, kernel: int, seed: int) -> str | None:
    generator = torch.Generator().manual_seed(seed)
    paths = []
    for _ in range(cardinality):
        conv = nn.Conv2d(width, width, kernel_size=kernel, padding=kernel // 2)
        with torch.no_grad():
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator))
            conv.bias.copy_(torch.randn(conv.bias.shape, generator=generator))
        paths.append(conv)
    call = f"merge_paths(<{cardinality} Conv2d({width}, {width}, {kernel})>)"
    merged, problem = _call(function, (paths,), {})
    if problem:
        return f"{call} {problem}"
    if not isinstance(merged, nn.Conv2d):
        return f"{call} returned {type(merged).__name__}; an nn.Conv2d was expected."
    if merged.groups != cardinality:
        return f"{call} returned a convolution with groups={merged.groups}; one group per path was expected."
    expected_params = sum(p.numel() for conv in paths for p in conv.parameters())
    params = sum(p.numel() for p in merged.parameters())
    if params != expected_params:
        return f"{call} returned a convolution with {params:,} parameters; the paths have {expected_params:,}."
    x = torch.randn(2, cardinality * width, 6, 6, generator=generator)
    with torch.no_grad():
        expected = torch.cat([conv(part) for conv, part in zip(paths, x.chunk(cardinality, dim=1))], dim=1)
        result, problem = _call(merged, (x,), {})
    if problem:
        return f"the convolution from {call} {problem}"
    if result.shape != expected.shape:
        return f"the convolution from {call} gives outputs of shape {tuple(result.shape)}, not {tuple(expected.shape)}."
    if not torch.allclose(result, expected, atol=1e-5, rtol=1e-5):
        return (f"the convolution from {call} does not compute the paths' outputs, concatenated in order; "
                "check which slice of the weight (and bias) each path's tensors go to.")
    return None


def check_merge_paths(function: Any) -> CheckResult:
    """Exercise: ``merge_paths(convs)``: C convolutions of d -> d maps (with biases) into one grouped convolution.

    The result must be an ``nn.Conv2d`` with ``groups=C`` and as many parameters as the paths,
    whose output on C*d maps equals the concatenation of path i's output on the i-th d maps.

    Raises:
        CheckFailed: at the first case that goes wrong.
    """
    for seed, (cardinality, width, kernel) in enumerate(MERGE_CASES):
        problem = _merge_problem(function, cardinality, width, kernel, seed)
        if problem:
            raise CheckFailed(problem) from None
    return CheckResult(f"Correct: merge_paths passed all {len(MERGE_CASES)} cases.")
