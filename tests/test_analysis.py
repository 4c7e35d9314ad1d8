"""cnnzoo.analysis against cases that can be checked by hand."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnzoo import analysis, models


@pytest.fixture(scope="module")
def paper_table():
    return analysis.layer_table(models.build("lenet5_1998"), (1, 1, 32, 32))


def test_layer_table_rows_follow_the_forward_pass(paper_table):
    assert [r.name for r in paper_table.layers] == ["c1", "s2", "c3", "s4", "c5", "f6", "output"]
    assert paper_table["c3"].output_shape == (1, 16, 10, 10)
    assert paper_table["output"].output_shape == (1, 10)


def test_layer_parameters_equal_the_paper(paper_table):
    # LeCun et al. 1998, Sec. II.B
    paper = {"c1": 156, "s2": 12, "c3": 1_516, "s4": 32, "c5": 48_120, "f6": 10_164}
    assert {name: paper_table[name].params for name in paper} == paper
    assert paper_table.total_params == 60_000


def test_multiply_adds_by_hand(paper_table):
    # C1: 6 maps of 28x28 units, each a 5x5 window of 1 input map.
    assert paper_table["c1"].macs == 6 * 28 * 28 * 5 * 5
    # C3: 16 maps of 10x10 units; map k reads len(table[k]) input maps through 5x5 windows.
    from cnnzoo.models.lenet import C3_CONNECTIONS

    assert paper_table["c3"].macs == 10 * 10 * 5 * 5 * sum(len(c) for c in C3_CONNECTIONS)
    assert paper_table["f6"].macs == 120 * 84
    assert paper_table["s2"].macs == 0  # element-wise work is not counted


@pytest.mark.parametrize("name", models.available())
def test_total_multiply_adds_equal_flop_counter_mode(name):
    model = models.build(name)
    size = (2, *model.input_size)
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(size))
    assert analysis.count_macs(model, size) == counter.get_total_flops() // 2
    assert analysis.layer_table(model, size).total_macs == counter.get_total_flops() // 2


def test_activation_memory_is_output_bytes(paper_table):
    assert paper_table["c1"].activation_bytes == 6 * 28 * 28 * 4  # float32
    assert paper_table.total_activation_bytes == sum(r.activation_bytes for r in paper_table.layers)


def test_layer_table_depth_and_text():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), nn.Flatten(), nn.Linear(2 * 6 * 6, 3))
    shallow = analysis.layer_table(model, (1, 1, 8, 8))
    assert [r.name for r in shallow.layers] == ["0", "1", "2"]
    deep = analysis.layer_table(model, (1, 1, 8, 8), depth=2)
    assert [r.name for r in deep.layers] == ["0.0", "0.1", "1", "2"]
    text = str(shallow)
    assert "total" in text and "2×6×6" in text
    assert "<table>" in shallow._repr_html_()


def test_layer_table_leaves_the_model_as_it_was():
    model = models.build("lenet5").train()
    analysis.layer_table(model, (1, 1, 32, 32))
    assert model.training
    assert not model._forward_hooks and not model.c1._forward_hooks


@pytest.mark.parametrize("bad", [(32, 32), None, (1, 1, 32, 0), [1, "1", 32, 32], (1, 1, 32.0, 32)])
def test_bad_input_size(bad):
    with pytest.raises(ValueError, match="input_size"):
        analysis.layer_table(models.build("lenet5"), bad if bad != (32, 32) else (32,))


def test_receptive_field_of_three_3x3_convolutions_is_7x7():
    table = analysis.receptive_field([("conv1", 3, 1, 1), ("conv2", 3, 1, 1), ("conv3", 3, 1, 1)])
    assert [r.size for r in table.layers] == [3, 5, 7]
    assert all(r.jump == 1 and r.start == 0 for r in table.layers)


def test_receptive_field_with_strides_and_dilation():
    # 7x7 stride-2 pad-3 conv, then 3x3 stride-2 pad-1 max-pool (ResNet's stem): 7, then 7 + 2*2 = 11.
    table = analysis.receptive_field([("conv", 7, 2, 3), ("pool", 3, 2, 1)])
    assert [(r.size, r.jump) for r in table.layers] == [(7, 2), (11, 4)]
    assert [r.start for r in table.layers] == [0.0, 0.0]
    dilated = analysis.receptive_field([("d", 3, 1, 0, 2)])  # effective kernel 5
    assert dilated.layers[0].size == 5 and dilated.layers[0].start == 2.0


def test_receptive_field_of_lenet_covers_the_whole_image():
    table = analysis.receptive_field(models.build("lenet5_1998"))
    assert [r.name for r in table.layers] == ["c1", "s2", "c3", "s4", "c5"]
    assert [r.size for r in table.layers] == [5, 6, 14, 16, 32]
    assert table.layers[-1].jump == 4


@pytest.mark.parametrize("bad", [[("a", 0, 1)], [("a", 3)], [("a", 3, 1, -1)], []])
def test_receptive_field_rejects_bad_layers(bad):
    with pytest.raises(ValueError):
        analysis.receptive_field(bad)


def test_compare_shows_the_difference():
    table = analysis.compare({"C1": 156, "C3": 2_416}, {"C1": 156, "C3": 1_516, "S2": 12}, source="test")
    assert table.differences == {"C1": 0, "C3": 900, "S2": None}
    assert "900" in str(table) and "—" in str(table) and str(table).startswith("paper: test")
    named = analysis.compare({"a": 1}, {"a": 2}, source="both ours", names=("new", "old"))
    assert "value (new)" in str(named) and named.differences == {"a": -1}
    with pytest.raises(ValueError, match="mapping"):
        analysis.compare([1, 2], {"a": 1}, source="test")


def test_summary_has_no_units_glitch():
    text = str(analysis.summary(models.build("lenet5_1998"), (1, 1, 32, 32)))
    assert "Units." not in text
    assert "Total mult-adds (M)" in text
    assert "60,000" in text
