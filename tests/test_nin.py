"""Network in Network (Lin et al. 2014): mlpconv layers, global average pooling, CIFAR-10 sizes."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo import analysis, diagrams, graph, models
from cnnzoo.analysis import count_parameters
from cnnzoo.models import nin as zoo

matplotlib.use("Agg")

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def net() -> nn.Module:
    torch.manual_seed(0)
    return models.build("nin").eval()


def _conv_parameters(conv: nn.Conv2d) -> int:
    kh, kw = conv.kernel_size
    return conv.out_channels * conv.in_channels * kh * kw + conv.out_channels


def test_three_mlpconv_layers_with_the_published_widths(net):
    layers = [net.mlpconv1, net.mlpconv2, net.mlpconv3]
    in_channels = 3
    for layer, spec in zip(layers, zoo.MLPCONV_LAYERS):
        assert layer.conv.in_channels == in_channels
        assert layer.conv.kernel_size == (spec.kernel_size, spec.kernel_size)
        assert layer.conv.padding == (spec.kernel_size // 2, spec.kernel_size // 2)
        assert (layer.conv.out_channels, layer.cccp1.out_channels) == (spec.conv, spec.cccp1)
        assert layer.cccp1.kernel_size == layer.cccp2.kernel_size == (1, 1)  # the cross-channel "pooling"
        in_channels = layer.cccp2.out_channels
    assert [layer.cccp2.out_channels for layer in layers] == [96, 192, 10]  # one map per CIFAR-10 class
    assert zoo.MLPCONV_LAYERS[0] == zoo.MLPConvSpec(kernel_size=5, conv=192, cccp1=160, cccp2=96)


def test_parameter_count_by_hand(net):
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 9 and not any(isinstance(m, nn.Linear) for m in net.modules())  # no fully connected layer
    assert count_parameters(net) == sum(_conv_parameters(c) for c in convs) == 966_986  # the docstring's count


def test_forward_is_mlpconv_pool_dropout_and_a_global_average(net):
    """The network written again with torch.nn.functional on its weights (eval mode: no dropout)."""
    torch.manual_seed(0)
    x = torch.randn(3, 3, 32, 32)

    def mlpconv(x, layer):
        for conv in (layer.conv, layer.cccp1, layer.cccp2):
            x = F.relu(F.conv2d(x, conv.weight, conv.bias, padding=conv.padding))
        return x

    y = F.max_pool2d(mlpconv(x, net.mlpconv1), 3, stride=2, ceil_mode=True)
    assert y.shape[-2:] == (16, 16)
    y = F.max_pool2d(mlpconv(y, net.mlpconv2), 3, stride=2, ceil_mode=True)
    assert y.shape[-2:] == (8, 8)
    expected = mlpconv(y, net.mlpconv3).mean(dim=(2, 3))
    with torch.no_grad():
        assert torch.allclose(net(x), expected, atol=1e-5)


def test_dropout_after_the_first_two_mlpconv_layers_only():
    torch.manual_seed(0)
    model = models.build("nin", dropout=0.3)
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.3, 0.3]
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert not torch.equal(model.train()(x), model(x))  # two training passes differ
        assert torch.equal(model.eval()(x), model(x))


def test_num_classes_is_the_last_layers_maps():
    model = models.build("nin", num_classes=100)
    assert model.mlpconv3.cccp2.out_channels == 100
    with torch.no_grad():
        assert model.eval()(torch.zeros(2, 3, 32, 32)).shape == (2, 100)


def test_min_size_is_the_smallest_input_that_runs():
    model = models.build("nin").eval()
    min_size = model.input_spec.min_size
    with torch.no_grad():
        assert model(torch.zeros(1, 3, min_size, min_size)).shape == (1, 10)
        model.input_spec = model.input_spec.__class__(3, (32, 32), fixed=False, min_size=1)  # let it through
        with pytest.raises(RuntimeError):
            model(torch.zeros(1, 3, min_size - 1, min_size - 1))


def test_bad_arguments():
    for bad in (1.0, -0.1, True, "0.5"):
        with pytest.raises(ValueError, match="dropout"):
            models.build("nin", dropout=bad)
    with pytest.raises(ValueError, match="kernel_size"):
        zoo.MLPConv(3, kernel_size=0, conv=4, cccp1=4, cccp2=4)
    with pytest.raises(ValueError, match="cccp2"):
        zoo.MLPConv(3, kernel_size=3, conv=4, cccp1=4, cccp2=0)


def test_initialisation():
    torch.manual_seed(0)
    model = models.build("nin")
    conv = model.mlpconv2.conv  # 192 maps of 5x5: fan_out = 192 * 25
    assert conv.weight.std().item() == pytest.approx((2 / (192 * 25)) ** 0.5, rel=0.03)
    assert all(not m.bias.any() for m in model.modules() if isinstance(m, nn.Conv2d))


def test_receptive_field_by_hand(net):
    """size_l = size_{l-1} + (k - 1) * jump_{l-1}: 5x5 conv, 3x3/2 pool, 5x5 conv, 3x3/2 pool, 3x3 conv."""
    table = analysis.receptive_field(net)
    size, jump = 1, 1
    for name, kernel, stride in [("mlpconv1.conv", 5, 1), ("pool1", 3, 2), ("mlpconv2.conv", 5, 1),
                                 ("pool2", 3, 2), ("mlpconv3.conv", 3, 1), ("mlpconv3.cccp2", 1, 1)]:
        size, jump = size + (kernel - 1) * jump, jump * stride
        assert (table[name].size, table[name].jump) == (size, jump), name
    assert size == 27 and table["global_pool"].size == "global"


def test_layer_table_graph_and_diagram(net):
    table = analysis.layer_table(net, (1, 3, 32, 32), depth=1)
    assert [row.name for row in table.layers] == [
        "mlpconv1", "pool1", "dropout1", "mlpconv2", "pool2", "dropout2", "mlpconv3", "global_pool", "flatten"]
    assert table.total_params == count_parameters(net) and table.not_run == {}
    assert table["mlpconv3"].output_shape == (1, 10, 8, 8)
    assert table.total_macs == analysis.count_macs(net, (1, 3, 32, 32))
    traced = graph.trace(net, (1, 3, 32, 32))
    assert [node for node in traced.nodes if node.op != "output"][-1].shape == (1, 10)
    figure = diagrams.graph_from_model(net, (1, 3, 32, 32))
    assert figure.nodes[-1].name == "global_pool"
    inside = diagrams.graph_from_model(net, (1, 3, 32, 32), expand="mlpconv1")
    assert [node.name for node in inside.nodes][1:] == ["conv", "cccp1", "cccp2"]
    plt.close(diagrams.draw(net, (1, 3, 32, 32)))


NARROW = (zoo.MLPConvSpec(5, 16, 16, 8), zoo.MLPConvSpec(5, 16, 16, 16), zoo.MLPConvSpec(3, 16, 16, None))


def test_fc_head_is_the_same_network_with_a_linear_layer_for_the_average():
    torch.manual_seed(0)
    gap = models.build("nin").eval()
    fc = models.build("nin", head="fc").eval()
    fc.load_state_dict(gap.state_dict(), strict=False)  # the same mlpconv weights
    assert fc.fc.in_features == 10 * 8 * 8 and fc.fc.out_features == 10
    assert count_parameters(fc) - count_parameters(gap) == 10 * 8 * 8 * 10 + 10
    # With the weights of an average (1/64 on each value of its own map), the fc head is the gap head.
    with torch.no_grad():
        fc.fc.weight.copy_(torch.kron(torch.eye(10), torch.full((1, 64), 1 / 64)))
        fc.fc.bias.zero_()
        x = torch.randn(2, 3, 32, 32)
        assert torch.allclose(fc(x), gap(x), atol=1e-6)
        with pytest.raises(ValueError, match="32"):
            fc(torch.zeros(1, 3, 40, 40))  # the fc head fixes the size; gap takes any
        assert gap(torch.zeros(1, 3, 40, 40)).shape == (1, 10)


def test_layers_and_input_size_options():
    torch.manual_seed(0)
    model = models.build("nin", head="fc", layers=NARROW, input_size=(16, 16)).eval()
    assert [m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d)] == [16, 16, 8, 16, 16, 16, 16, 16, 10]
    assert model.fc.in_features == 10 * 4 * 4  # 16 -> 8 -> 4
    with torch.no_grad():
        assert model(torch.zeros(2, 3, 16, 16)).shape == (2, 10)
    odd = models.build("nin", input_size=(15, 15), head="fc").eval()
    assert odd.fc.in_features == 10 * 3 * 3  # 15 -> 7 -> 3, rounding up
    with torch.no_grad():
        assert odd(torch.zeros(1, 3, 15, 15)).shape == (1, 10)  # PyTorch's pooling agrees


def test_bad_head_and_layers():
    with pytest.raises(ValueError, match="head"):
        models.build("nin", head="dense")
    with pytest.raises(ValueError, match="three MLPConvSpec"):
        models.build("nin", layers=NARROW[:2])
    with pytest.raises(ValueError, match="cccp2=None"):
        models.build("nin", layers=(NARROW[0], NARROW[1], NARROW[1]))
    with pytest.raises(ValueError, match="at least 4x4"):
        models.build("nin", head="fc", input_size=(3, 3))
