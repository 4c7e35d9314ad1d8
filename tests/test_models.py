"""Sweeps over the model registry, and LeNet-5's details checked against the paper."""

from __future__ import annotations

import inspect
import re

import pytest
import torch
from torch import nn

from cnnzoo import models
from cnnzoo.analysis import count_parameters, layer_table
from cnnzoo.models import lenet

ALL = models.available()

# Trainable parameters as published, with where they are printed.
PAPER_PARAMETERS = {
    "lenet5_1998": 60_000,  # LeCun et al. 1998, Sec. II.B: "only 60,000 trainable parameters"
}
# Variants that are not in a paper, with the count their docstring promises.
DOCUMENTED_PARAMETERS = {
    "lenet5": 61_706,
}


def test_registry_lists_every_model():
    assert {"lenet5", "lenet5_1998"} <= set(ALL)
    assert ALL == sorted(ALL)
    assert set(PAPER_PARAMETERS) | set(DOCUMENTED_PARAMETERS) == set(ALL), "every model needs a checked count"


def test_unknown_name_suggests_close_names():
    with pytest.raises(ValueError, match="lenet5"):
        models.build("lenet")


@pytest.mark.parametrize("name", ALL)
def test_output_shape_and_no_nans(name):
    torch.manual_seed(0)
    model = models.build(name, num_classes=7).eval()
    x = torch.randn(3, *model.input_size)
    with torch.no_grad():
        y = model(x)
    assert y.shape == (3, 7)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", ALL)
def test_parameter_count(name):
    expected = {**PAPER_PARAMETERS, **DOCUMENTED_PARAMETERS}[name]
    assert count_parameters(models.build(name)) == expected


@pytest.mark.parametrize("name", ALL)
def test_bad_input_raises_clear_value_error(name):
    model = models.build(name)
    channels, height, width = model.input_size
    with pytest.raises(ValueError, match=rf"{channels} input channel.*got {channels + 2}"):
        model(torch.zeros(1, channels + 2, height, width))
    with pytest.raises(ValueError, match=rf"{height}x{width}.*got {height // 2}x{width // 2}"):
        model(torch.zeros(1, channels, height // 2, width // 2))
    with pytest.raises(ValueError, match=r"4-D batch.*unsqueeze"):
        model(torch.zeros(channels, height, width))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model([[0.0]])


@pytest.mark.parametrize("name", ALL)
def test_bad_constructor_arguments(name):
    with pytest.raises(ValueError, match="num_classes"):
        models.build(name, num_classes=0)
    with pytest.raises(ValueError, match="in_channels"):
        models.build(name, in_channels=-1)


def _shape_comments(model: nn.Module) -> list[tuple[str, str]]:
    """(module name, shape comment) for each line of forward like `x = f(self.c1(x))  # (N, 6, 28, 28)`."""
    found = []
    for line in inspect.getsource(type(model).forward).splitlines():
        comment = re.search(r"#\s*(\([^)]*\))", line)
        called = [n for n in re.findall(r"self\.(\w+)\(", line) if isinstance(getattr(model, n, None), nn.Module)]
        if comment and len(called) == 1:
            found.append((called[0], comment.group(1)))
    return found


@pytest.mark.parametrize("name", ALL)
def test_stage_shapes_equal_the_shape_comments(name):
    model = models.build(name)
    comments = _shape_comments(model)
    assert len(comments) >= 5, "forward should carry a shape comment after each stage"
    table = layer_table(model, (2, *model.input_size))
    for module_name, comment in comments:
        expected = comment.replace("N", "2").replace("num_classes", "10")
        assert str(table[module_name].output_shape) == expected, f"{name}.{module_name}: comment says {comment}"


# --------------------------------------------------------------------------- LeNet-5 (1998)

# LeCun et al. 1998, Sec. II.B: trainable parameters of each layer.
PAPER_LAYER_PARAMETERS = {"c1": 156, "s2": 12, "c3": 1_516, "s4": 32, "c5": 48_120, "f6": 10_164}


def test_lenet1998_layer_parameters_equal_the_paper():
    model = models.build("lenet5_1998")
    for name, expected in PAPER_LAYER_PARAMETERS.items():
        assert count_parameters(getattr(model, name)) == expected, name
    assert count_parameters(model.output) == 0  # the RBF centres are fixed, not trained


def test_c3_connection_table_follows_table_one():
    sizes = [len(inputs) for inputs in lenet.C3_CONNECTIONS]
    assert sizes == [3] * 6 + [4] * 9 + [6]

    def contiguous(inputs):  # neighbours on a ring of 6 maps
        return any(set(inputs) == {(start + i) % 6 for i in range(len(inputs))} for start in range(6))

    assert all(contiguous(c) for c in lenet.C3_CONNECTIONS[:12])
    assert not any(contiguous(c) for c in lenet.C3_CONNECTIONS[12:15])
    # every S2 map feeds some C3 map in each group, and no pair of C3 maps reads the same subset
    assert len(set(lenet.C3_CONNECTIONS)) == 16


def test_partial_conv_output_map_reads_only_its_inputs():
    torch.manual_seed(0)
    c3 = lenet.PartialConv2d(lenet.C3_CONNECTIONS, kernel_size=5)
    x = torch.randn(1, 6, 14, 14)
    changed = x.clone()
    changed[:, 3] += 1.0  # S2 map 3 feeds C3 maps whose table row lists 3
    difference = (c3(changed) - c3(x)).abs().amax(dim=(0, 2, 3))
    for k, inputs in enumerate(lenet.C3_CONNECTIONS):
        assert (difference[k] > 0) == (3 in inputs), k


def test_scaled_tanh_maps_one_to_one():
    assert lenet.scaled_tanh(torch.tensor(1.0)).item() == pytest.approx(1.0, abs=1e-3)
    assert lenet.scaled_tanh(torch.tensor(1e6)).item() == pytest.approx(1.7159)


def test_subsampling_is_coefficient_times_block_sum_plus_bias():
    layer = lenet.Subsampling(1)
    with torch.no_grad():
        layer.weight.fill_(0.5)
        layer.bias.fill_(-1.0)
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    expected = torch.tensor([[0 + 1 + 4 + 5, 2 + 3 + 6 + 7], [8 + 9 + 12 + 13, 10 + 11 + 14 + 15]]) * 0.5 - 1
    assert torch.equal(layer(x)[0, 0], expected)


def test_rbf_centres_are_fixed_plus_minus_one_bitmaps():
    model = models.build("lenet5_1998")
    centres = model.output.centres
    assert centres.shape == (10, 84) and set(centres.unique().tolist()) == {-1.0, 1.0}
    assert all(len(rows) == 12 and all(len(r) == 7 for r in rows) for rows in lenet.DIGIT_BITMAPS.values())
    assert len({tuple(c.tolist()) for c in centres}) == 10  # ten different codes
    assert "output.centres" in dict(model.named_buffers()) and not any("centres" in n for n, _ in model.named_parameters())


def test_lenet1998_output_is_minus_squared_distance_to_the_centres():
    model = models.build("lenet5_1998").eval()
    features = {}
    model.f6.register_forward_hook(lambda m, i, o: features.setdefault("f6", o))
    x = torch.randn(2, 1, 32, 32)
    y = model(x)
    f6 = lenet.scaled_tanh(features["f6"])
    expected = -torch.cdist(f6, model.output.centres).pow(2)
    assert torch.allclose(y, expected, atol=1e-4)


def test_lenet1998_initialisation_range():
    torch.manual_seed(0)
    model = models.build("lenet5_1998")
    for layer in (model.c1, model.c5, model.f6):
        fan_in = layer.weight[0].numel()
        assert layer.weight.abs().max() <= 2.4 / fan_in
        assert layer.weight.abs().max() > 2.4 / fan_in * 0.9  # uniform over the whole range


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("pool", ["max", "avg"])
def test_modern_variants_share_the_parameter_count(activation, pool):
    assert count_parameters(models.build("lenet5", activation=activation, pool=pool)) == 61_706


def test_modern_variant_rejects_unknown_options():
    with pytest.raises(ValueError, match="activation"):
        models.build("lenet5", activation="sigmoid")
    with pytest.raises(ValueError, match="pool"):
        models.build("lenet5", pool="min")
