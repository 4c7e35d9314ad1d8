"""Helpers shared by the tests of the exercises' self-checks (`test_exercises*.py`)."""

from __future__ import annotations

import pytest

from cnnzoo.exercises import CheckFailed


def failure(check, *args) -> str:
    """The message of the CheckFailed that ``check(*args)`` must raise."""
    with pytest.raises(CheckFailed) as info:
        check(*args)
    message = str(info.value)
    assert message.startswith("✗ ") and "\n" not in message
    assert isinstance(info.value, AssertionError)  # what an autograder counts as a failed test
    return message


def stub(*args, **kwargs):
    # YOUR CODE HERE
    raise NotImplementedError()
