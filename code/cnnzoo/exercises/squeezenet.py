"""Self-checks for the exercises of the SqueezeNet chapter (``chapters/squeezenet.ipynb``).

Each expected value is computed by ``cnnzoo`` itself: a fire module's parameters by counting a
real ``models.squeezenet.Fire``, a quantised weight's payload by quantising and packing a real
tensor with ``cnnzoo.compression``, a fire module's output by running the module.
"""

from __future__ import annotations

from typing import Any

import torch

from ._core import CheckFailed, CheckResult, _call, _count, _function_problem, _randomise, _tensor_problem

__all__ = [
    "FIRE_CASES",
    "PAYLOAD_CASES",
    "check_fire_parameters",
    "check_payload_bytes",
    "check_fire_forward",
]

#: (in_channels, s1x1, e1x1, e3x3): fire2, fire4 and fire9 of Table 1, then small and uneven ones.
FIRE_CASES = [(96, 16, 64, 64), (128, 32, 128, 128), (512, 64, 256, 256), (3, 1, 1, 1), (10, 5, 7, 3), (64, 16, 48, 80)]

#: (weight shape, bits): conv layers and a linear layer, with n * bits not always a multiple of 8.
PAYLOAD_CASES = [((64, 16, 3, 3), 8), ((64, 16, 3, 3), 6), ((16, 96, 1, 1), 4), ((10, 3, 3, 3), 3),
                 ((7, 5, 1, 1), 5), ((1000, 512, 1, 1), 6), ((256, 10), 1), ((3, 1, 1, 1), 7)]


def check_fire_parameters(function: Any) -> CheckResult:
    """Exercise: ``fire_parameters(in_channels, squeeze, expand1x1, expand3x3)``, weights and biases of a fire module.

    The right value is the parameter count of ``models.squeezenet.Fire`` built with those numbers.

    Raises:
        CheckFailed: at the first case that goes wrong, without the right value.
    """
    from ..models.squeezenet import Fire

    cases = [(case, {}, _count(Fire(*case))) for case in FIRE_CASES]
    problem = _function_problem(function, cases, "fire_parameters")
    if problem:
        raise CheckFailed(problem + " Which layer does each expand filter see, and did you count the biases?") from None
    return CheckResult(f"Correct: fire_parameters passed all {len(cases)} cases.")


def _payload(shape: tuple[int, ...], bits: int) -> int:
    """The bytes of a real weight's packed codes, minima and scales (``cnnzoo.compression``)."""
    from .. import compression

    q = compression.quantize_tensor(torch.zeros(shape), bits)
    return compression.pack_bits(q.codes, bits).numel() + q.minimum.nbytes + q.scale.nbytes


def check_payload_bytes(function: Any) -> CheckResult:
    """Exercise: ``payload_bytes(shape, bits)``, the bytes a weight of ``shape`` takes at ``bits`` bits.

    As ``cnnzoo.compression`` stores it: the codes packed ``bits`` to a value, eight bits to a
    byte, plus a float32 minimum and scale per output channel (``shape[0]``); file headers not
    counted. The right value is measured on a real quantised, packed tensor.

    Raises:
        CheckFailed: at the first case that goes wrong, without the right value.
    """
    cases = [((shape, bits), {}, _payload(shape, bits)) for shape, bits in PAYLOAD_CASES]
    problem = _function_problem(function, cases, "payload_bytes")
    if problem:
        raise CheckFailed(problem + " Bits or bytes? What else is stored for each output channel, "
                          "and how is a last partial byte stored?") from None
    return CheckResult(f"Correct: payload_bytes passed all {len(cases)} cases.")


def check_fire_forward(function: Any) -> CheckResult:
    """Exercise: ``fire_forward(fire, x)``, a fire module's output from its three convolutions.

    Run on real ``Fire`` modules with random weights (e1x1 and e3x3 equal and unequal); the
    right output is the module's own.

    Raises:
        CheckFailed: at the first module whose output differs, without the right value.
    """
    from ..models.squeezenet import Fire

    name = "fire_forward"
    if not callable(function):
        raise CheckFailed(f"{name} should be a function; got {type(function).__name__}.") from None
    for k, case in enumerate([(8, 4, 6, 6), (6, 3, 5, 7), (5, 2, 4, 2)]):
        fire = _randomise(Fire(*case), seed=k)
        x = torch.relu(torch.randn(2, case[0], 5, 5, generator=torch.Generator().manual_seed(10 + k)))
        with torch.no_grad():
            expected = fire(x.clone())
            result, problem = _call(function, (fire, x.clone()), {})
        what = f"{name} on Fire{case}"
        wrong = _tensor_problem(what, result, problem, expected,
                                "Where are the ReLUs, and in which order are the expand maps joined?",
                                shape_hint="How are the two expand layers' maps combined?")
        if wrong:
            raise CheckFailed(wrong) from None
    return CheckResult(f"Correct: {name} matches the fire module on 3 modules.")
