"""The ResNet chapter's self-checks: right answers pass, the common wrong ones raise without giving the answer."""

from __future__ import annotations

import pytest
import torch

from cnnzoo import exercises

from check_helpers import failure, stub


def test_checks_are_exported():
    for name in ("check_residual_forward", "check_stack_gradient", "check_make_identity"):
        assert name in exercises.__all__ and callable(getattr(exercises, name))


# --------------------------------------------------------------------------- a residual block's forward pass


def residual_forward(block, x):
    out = block.relu(block.bn1(block.conv1(x)))
    out = block.bn2(block.conv2(out))
    return block.relu(out + block.shortcut(x))


def relu_before_addition(block, x):
    out = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))
    return block.relu(out) + block.shortcut(x)


def addition_forgotten(block, x):
    return block.relu(block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x))))))


def input_added_twice(block, x):
    out = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))
    return block.relu(out + 2 * block.shortcut(x))


def added_before_last_norm(block, x):
    out = block.conv2(block.relu(block.bn1(block.conv1(x))))
    return block.relu(block.bn2(out + block.shortcut(x)))


def added_after_first_norm(block, x):
    out = block.relu(block.bn1(block.conv1(x)) + block.shortcut(x))
    return block.relu(block.bn2(block.conv2(out)))


def no_last_relu(block, x):
    out = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))
    return out + block.shortcut(x)


def x_instead_of_shortcut(block, x):
    out = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))
    return block.relu(out + x)


def second_relu_forgotten_inside(block, x):
    out = block.bn2(block.conv2(block.bn1(block.conv1(x))))
    return block.relu(out + block.shortcut(x))


WRONG_FORWARDS = {
    "ReLU before the addition": relu_before_addition,
    "addition forgotten": addition_forgotten,
    "input added twice": input_added_twice,
    "added before the last batch norm": added_before_last_norm,
    "added after the first batch norm": added_after_first_norm,
    "no ReLU after the addition": no_last_relu,
    "x instead of the shortcut": x_instead_of_shortcut,
    "ReLU inside the branch forgotten": second_relu_forgotten_inside,
    "returns a list": lambda block, x: [residual_forward(block, x)],
    "stub": stub,
    "not a function": None,
}


def test_residual_forward_accepts_the_right_answer():
    assert repr(exercises.check_residual_forward(residual_forward)).startswith("✓ Correct")


def test_residual_forward_accepts_the_blocks_own_forward():
    assert exercises.check_residual_forward(lambda block, x: block(x))


@pytest.mark.parametrize("mistake", WRONG_FORWARDS)
def test_residual_forward_rejects(mistake):
    message = failure(exercises.check_residual_forward, WRONG_FORWARDS[mistake])
    assert "residual_forward" in message


# --------------------------------------------------------------------------- the gradient through a stack of blocks


def stack_gradient(a, k, residual):
    return (1 + a) ** k if residual else a**k


WRONG_GRADIENTS = {
    "plain formula for both": lambda a, k, residual: a**k,
    "residual formula for both": lambda a, k, residual: (1 + a) ** k,
    "one plus a^k": lambda a, k, residual: 1 + a**k if residual else a**k,
    "k times a": lambda a, k, residual: 1 + k * a if residual else a**k,
    "the two swapped": lambda a, k, residual: a**k if residual else (1 + a) ** k,
    "one block only": lambda a, k, residual: 1 + a if residual else a,
    "stub": stub,
    "a string": lambda a, k, residual: "(1 + a) ** k",
}


def test_stack_gradient_accepts_the_right_answer():
    assert repr(exercises.check_stack_gradient(stack_gradient)).startswith("✓ Correct")


def test_stack_gradient_accepts_a_tensor_answer():
    assert exercises.check_stack_gradient(lambda a, k, residual: torch.tensor(stack_gradient(a, k, residual),
                                                                              dtype=torch.float64))


@pytest.mark.parametrize("mistake", WRONG_GRADIENTS)
def test_stack_gradient_rejects(mistake):
    message = failure(exercises.check_stack_gradient, WRONG_GRADIENTS[mistake])
    assert "stack_gradient" in message


def test_stack_gradient_message_does_not_give_the_value_away():
    message = failure(exercises.check_stack_gradient, WRONG_GRADIENTS["plain formula for both"])
    a, k, residual = next(case for case in exercises.GRADIENT_STACK_CASES if case[2] and (1 + case[0]) ** case[1] != case[0] ** case[1])
    assert "not right" in message and repr((1 + a) ** k) not in message


# --------------------------------------------------------------------------- making a block the identity


def make_identity(block):
    with torch.no_grad():
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()


def zero_scale_only(block):
    with torch.no_grad():
        block.bn2.weight.zero_()


def zero_conv2(block):
    with torch.no_grad():
        block.conv2.weight.zero_()


def zero_conv1(block):
    with torch.no_grad():
        block.conv1.weight.zero_()


def zero_first_norm(block):
    with torch.no_grad():
        block.bn1.weight.zero_()
        block.bn1.bias.zero_()


def zero_everything(block):
    with torch.no_grad():
        for p in block.parameters():
            p.zero_()


def copy_instead(block):
    import copy

    clone = copy.deepcopy(block)
    make_identity(clone)
    return clone


def patch_forward(block):
    block.forward = lambda x: x


WRONG_IDENTITIES = {
    "batch norm scale only (its shift remains)": zero_scale_only,
    "second convolution only (the batch norm's shift and mean remain)": zero_conv2,
    "first convolution only": zero_conv1,
    "first batch norm": zero_first_norm,
    "every weight of the block": zero_everything,
    "a copy changed, not the block": copy_instead,
    "forward replaced": patch_forward,
    "does nothing": lambda block: None,
    "stub": stub,
}


def test_make_identity_accepts_the_right_answer():
    assert repr(exercises.check_make_identity(make_identity)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_IDENTITIES)
def test_make_identity_rejects(mistake):
    message = failure(exercises.check_make_identity, WRONG_IDENTITIES[mistake])
    assert "make_identity" in message


def zero_convolutions_and_last_shift(block):
    # The identity in training mode (batch statistics of zeros), not in evaluation mode.
    with torch.no_grad():
        block.conv1.weight.zero_()
        block.conv2.weight.zero_()
        block.bn2.bias.zero_()


def change_a_weight_and_patch_forward(block):
    with torch.no_grad():
        block.bn1.bias.zero_()
    block.forward = lambda x: x


@pytest.mark.parametrize("mistake", [zero_convolutions_and_last_shift, change_a_weight_and_patch_forward])
def test_make_identity_rejects_answers_that_pass_in_one_mode_or_by_patching(mistake):
    message = failure(exercises.check_make_identity, mistake)
    assert "make_identity" in message
