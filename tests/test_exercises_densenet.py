"""The DenseNet chapter's self-checks: right answers pass, the common wrong ones raise without giving the answer."""

from __future__ import annotations

import pytest
import torch

from cnnzoo import exercises

from check_helpers import failure, stub

pytestmark = pytest.mark.usefixtures("one_thread")


def test_checks_are_exported():
    for name in ("check_input_maps", "check_layer_parameters", "check_dense_block_forward"):
        assert name in exercises.__all__ and callable(getattr(exercises, name))


# --------------------------------------------------------------------------- the maps layer l reads


def input_maps(k0, k, l):
    return k0 + (l - 1) * k


WRONG_MAPS = {
    "l k": lambda k0, k, l: l * k,
    "k_0 + l k (one layer too many)": lambda k0, k, l: k0 + l * k,
    "(l - 1) k (the block's input forgotten)": lambda k0, k, l: (l - 1) * k,
    "k (only the previous layer)": lambda k0, k, l: k if l > 1 else k0,
    "k_0 + (l - 2) k": lambda k0, k, l: k0 + max(l - 2, 0) * k,
    "a float": lambda k0, k, l: float(input_maps(k0, k, l)),
    "stub": stub,
    "not a function": 24,
}


def test_input_maps_accepts_the_right_answer():
    assert repr(exercises.check_input_maps(input_maps)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_MAPS)
def test_input_maps_rejects(mistake):
    assert "input_maps" in failure(exercises.check_input_maps, WRONG_MAPS[mistake])


def test_input_maps_message_does_not_give_the_value_away():
    message = failure(exercises.check_input_maps, WRONG_MAPS["l k"])
    assert "not right" in message and "24" in message and "36" not in message  # input_maps(24, 12, 2) = 36


# --------------------------------------------------------------------------- a DenseNet-BC layer's parameters


def layer_parameters(c, k):
    return 2 * c + c * 4 * k + 2 * 4 * k + 4 * k * k * 9


WRONG_PARAMETERS = {
    "no batch norms": lambda c, k: c * 4 * k + 4 * k * k * 9,
    "one parameter per batch-norm map": lambda c, k: c + c * 4 * k + 4 * k + 4 * k * k * 9,
    "no bottleneck (a 3x3 on all the maps)": lambda c, k: 2 * c + c * k * 9,
    "the bottleneck to k, not 4k": lambda c, k: 2 * c + c * k + 2 * k + k * k * 9,
    "biases in the convolutions": lambda c, k: layer_parameters(c, k) + 4 * k + k,
    "the second batch norm forgotten": lambda c, k: 2 * c + c * 4 * k + 4 * k * k * 9,
    "stub": stub,
}


def test_layer_parameters_accepts_the_right_answer():
    assert exercises.check_layer_parameters(layer_parameters)


@pytest.mark.parametrize("mistake", WRONG_PARAMETERS)
def test_layer_parameters_rejects(mistake):
    assert "layer_parameters" in failure(exercises.check_layer_parameters, WRONG_PARAMETERS[mistake])


def test_layer_parameters_message_gives_a_direction_not_the_value():
    message = failure(exercises.check_layer_parameters, WRONG_PARAMETERS["no batch norms"])
    assert "too few" in message and str(layer_parameters(24, 12)) not in message


# --------------------------------------------------------------------------- a dense block's forward pass


def dense_block_forward(layers, x):
    features = [x]
    for layer in layers:
        features.append(layer(torch.cat(features, 1)))
    return torch.cat(features, 1)


def _sum_instead(layers, x):
    out = x
    for layer in layers:
        out = out + layer(out)
    return out


def _last_only(layers, x):
    features = [x]
    for layer in layers:
        features.append(layer(torch.cat(features, 1)))
    return features[-1]


def _input_forgotten(layers, x):
    features = [x]
    for layer in layers:
        features.append(layer(torch.cat(features, 1)))
    return torch.cat(features[1:], 1)


def _new_maps_first(layers, x):
    features = [x]
    for layer in layers:
        features.insert(0, layer(torch.cat(features, 1)))
    return torch.cat(features, 1)


def _each_reads_the_previous(layers, x):
    out, features = x, [x]
    for layer in layers:
        out = layer(out)
        features.append(out)
    return torch.cat(features, 1)


WRONG_BLOCKS = {
    "a sum instead of a concatenation": _sum_instead,
    "only the last layer's maps": _last_only,
    "the block's input left out": _input_forgotten,
    "the new maps put first": _new_maps_first,
    "each layer reads only the previous one": _each_reads_the_previous,
    "a list returned": lambda layers, x: [x],
    "stub": stub,
}


def test_dense_block_forward_accepts_the_right_answer():
    assert repr(exercises.check_dense_block_forward(dense_block_forward)).startswith("✓ Correct")


@pytest.mark.parametrize("mistake", WRONG_BLOCKS)
def test_dense_block_forward_rejects(mistake):
    assert "dense_block_forward" in failure(exercises.check_dense_block_forward, WRONG_BLOCKS[mistake])


def test_dense_block_forward_hints_at_the_block_s_maps_not_a_shortcut():
    message = failure(exercises.check_dense_block_forward, _last_only)
    assert "How many maps does a dense block output?" in message and "shortcut" not in message
