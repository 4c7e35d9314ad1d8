"""The VGG chapter's self-checks: right answers pass, the common wrong ones raise without giving the answer."""

from __future__ import annotations

import pytest

from cnnzoo import exercises

from check_helpers import failure, stub


def test_checks_are_exported():
    for name in ("check_stack_receptive_field", "check_activation_memory", "check_stack_parameters"):
        assert name in exercises.__all__ and callable(getattr(exercises, name))


# --------------------------------------------------------------------------- receptive field of a stack


def stack_receptive_field(n, kernel=3):
    return n * (kernel - 1) + 1


WRONG_FIELDS = {
    "3n": lambda n, kernel=3: 3 * n,
    "2n (the +1 forgotten)": lambda n, kernel=3: 2 * n,
    "n times the kernel": lambda n, kernel=3: n * kernel,
    "kernel to the n": lambda n, kernel=3: kernel**n,
    "kernel ignored": lambda n, kernel=3: 2 * n + 1,
    "+1 per layer": lambda n, kernel=3: n * (kernel - 1) + n,
    "float": lambda n, kernel=3: float(n * (kernel - 1) + 1),
    "stub": stub,
    "not a function": 7,
    "no kernel argument": lambda n: 2 * n + 1,
}


def test_stack_receptive_field_accepts_the_right_answer():
    assert repr(exercises.check_stack_receptive_field(stack_receptive_field)).startswith("✓ Correct")
    # a loop that grows the field layer by layer is as right as the formula
    def by_loop(n, kernel=3):
        size = 1
        for _ in range(n):
            size += kernel - 1
        return size
    assert exercises.check_stack_receptive_field(by_loop)


@pytest.mark.parametrize("mistake", WRONG_FIELDS)
def test_stack_receptive_field_rejects(mistake):
    message = failure(exercises.check_stack_receptive_field, WRONG_FIELDS[mistake])
    assert "stack_receptive_field" in message or "function" in message


def test_stack_receptive_field_message_does_not_give_the_field_away():
    message = failure(exercises.check_stack_receptive_field, WRONG_FIELDS["2n (the +1 forgotten)"])
    # "stack_receptive_field(1) returned 2, which is not right." and nothing about 3
    assert "returned 2," in message and "3" not in message


# --------------------------------------------------------------------------- activation memory


def activation_memory(channels, height, width, batch_size=1, bytes_per_value=4):
    return batch_size * channels * height * width * bytes_per_value


WRONG_MEMORY = {
    "batch forgotten": (lambda c, h, w, batch_size=1, bytes_per_value=4: c * h * w * bytes_per_value, "returned"),
    "bits, not bytes": (lambda c, h, w, batch_size=1, bytes_per_value=4: 8 * batch_size * c * h * w * bytes_per_value, "bytes (a byte is 8 bits)"),
    "channels forgotten": (lambda c, h, w, batch_size=1, bytes_per_value=4: batch_size * h * w * bytes_per_value, "returned"),
    "always 4 bytes": (lambda c, h, w, batch_size=1, bytes_per_value=4: batch_size * c * h * w * 4, "returned"),
    "values, not bytes": (lambda c, h, w, batch_size=1, bytes_per_value=4: batch_size * c * h * w, "returned"),
    "MiB, not bytes": (lambda c, h, w, batch_size=1, bytes_per_value=4: batch_size * c * h * w * bytes_per_value / 2**20, "int"),
    "stub": (stub, "NotImplementedError"),
    "no batch argument": (lambda c, h, w: c * h * w * 4, "TypeError"),
}


def test_activation_memory_accepts_the_right_answer():
    assert repr(exercises.check_activation_memory(activation_memory)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_MEMORY)
def test_activation_memory_rejects(mistake):
    attempt, words = WRONG_MEMORY[mistake]
    assert words in failure(exercises.check_activation_memory, attempt)


def test_memory_cases_catch_each_mistake_on_their_own():
    """Every wrong formula is wrong on at least one case (computed), so none passes by luck of the cases."""
    for mistake in ("batch forgotten", "always 4 bytes", "channels forgotten"):
        attempt = WRONG_MEMORY[mistake][0]
        assert any(attempt(c, h, w, b, v) != activation_memory(c, h, w, b, v) for c, h, w, b, v in exercises.MEMORY_CASES)


def test_memory_message_does_not_give_the_bytes_away():
    message = failure(exercises.check_activation_memory, WRONG_MEMORY["bits, not bytes"][0])
    assert f"{64 * 224 * 224 * 4}" not in message and f"{64 * 224 * 224 * 4:,}" not in message


# --------------------------------------------------------------------------- parameters of a stack


def stack_parameters(channels, n):
    stack = n * (3 * 3 * channels * channels + channels)
    kernel = 2 * n + 1
    return stack, kernel * kernel * channels * channels + channels


WRONG_STACKS = {
    "no biases (the lecture's formula)": (lambda c, n: (n * 9 * c * c, (2 * n + 1) ** 2 * c * c), "stack count"),
    "biases in the stack only": (lambda c, n: (n * (9 * c * c + c), (2 * n + 1) ** 2 * c * c), "single count"),
    "swapped": (lambda c, n: stack_parameters(c, n)[::-1], "wrong order"),
    "single kernel 3n": (lambda c, n: (stack_parameters(c, n)[0], (3 * n) ** 2 * c * c + c), "single count"),
    "one bias per stack": (lambda c, n: (n * 9 * c * c + c, stack_parameters(c, n)[1]), "stack count"),
    "one number": (lambda c, n: stack_parameters(c, n)[0], "two whole numbers"),
    "floats": (lambda c, n: tuple(float(v) for v in stack_parameters(c, n)), "two whole numbers"),
    "stub": (stub, "NotImplementedError"),
    "not a function": (None, "function"),
}


def test_stack_parameters_accepts_the_right_answer():
    assert repr(exercises.check_stack_parameters(stack_parameters)).startswith("✓ Correct")
    assert exercises.check_stack_parameters(lambda c, n: list(stack_parameters(c, n)))


@pytest.mark.parametrize("mistake", WRONG_STACKS)
def test_stack_parameters_rejects(mistake):
    attempt, words = WRONG_STACKS[mistake]
    assert words in failure(exercises.check_stack_parameters, attempt)


def test_stack_message_does_not_give_the_count_away():
    message = failure(exercises.check_stack_parameters, WRONG_STACKS["no biases (the lecture's formula)"][0])
    right_stack, right_single = stack_parameters(64, 2)
    assert f"{right_stack:,}" not in message and f"{right_single:,}" not in message and "too small" in message
