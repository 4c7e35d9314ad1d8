"""AlexNet (torchvision's twin and the 2012 paper's network) and ZFNet, checked against torchvision and the papers."""

from __future__ import annotations

import dataclasses
import math

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from cnnzoo import analysis, diagrams, models
from cnnzoo.analysis import count_parameters
from cnnzoo.models import alexnet as zoo

matplotlib.use("Agg")
torchvision = pytest.importorskip("torchvision")

pytestmark = pytest.mark.usefixtures("one_thread")


def _output_shapes(model: nn.Module, size: tuple[int, int], names: list[str]) -> dict[str, tuple[int, ...]]:
    """The (C, H, W) output of each named child for one image of ``size``, from forward hooks."""
    shapes = {}
    hooks = [
        getattr(model, name).register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:])))
        for name in names
    ]
    with torch.no_grad():
        model.eval()(torch.zeros(1, model.input_spec.channels, *size))
    for hook in hooks:
        hook.remove()
    return shapes


def _conv_parameters(conv: nn.Conv2d) -> int:
    """out * (in / groups) * kh * kw weights, plus one bias per output map."""
    kh, kw = conv.kernel_size
    return conv.out_channels * (conv.in_channels // conv.groups) * kh * kw + conv.out_channels


def _linear_parameters(fc: nn.Linear) -> int:
    return fc.out_features * fc.in_features + fc.out_features


# --------------------------------------------------------------------------- the twin


def test_twin_has_torchvisions_names_shapes_and_order():
    ours = models.build("alexnet")
    theirs = torchvision.models.alexnet(weights=None)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [(n, p.shape) for n, p in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [type(m) for m in ours.modules()][1:] == [type(m) for m in theirs.modules()][1:]


def test_twin_outputs_equal_torchvisions_on_its_weights():
    torch.manual_seed(0)
    theirs = torchvision.models.alexnet(weights=None).eval()
    ours = models.build("alexnet").eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    with torch.no_grad():
        for size in [(224, 224), (63, 63), (100, 131)]:  # the weights' size, the smallest, any other
            x = torch.randn(2, 3, *size)
            assert torch.equal(ours(x), theirs(x)), size


def test_twin_initialises_like_torchvision():
    """The same layers built in the same order with the same defaults: the same seed, the same weights."""
    torch.manual_seed(3)
    theirs = torchvision.models.alexnet(weights=None).state_dict()
    torch.manual_seed(3)
    ours = models.build("alexnet").state_dict()
    assert all(torch.equal(ours[name], theirs[name]) for name in theirs)


def test_twin_parameter_count_and_min_size_equal_torchvisions():
    meta = torchvision.models.AlexNet_Weights.IMAGENET1K_V1.meta
    model = models.build("alexnet")
    assert count_parameters(model) == meta["num_params"] == count_parameters(torchvision.models.alexnet(weights=None))
    assert (model.input_spec.min_size,) * 2 == meta["min_size"]


def test_twin_dropout_argument_reaches_both_dropout_layers():
    model = models.build("alexnet", dropout=0.25)
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.25, 0.25]


# --------------------------------------------------------------------------- AlexNet (2012): the paper's numbers

PAPER_FIGURE_2 = {  # Krizhevsky et al. 2012, Figure 2: (maps, height, width) of each stage
    "conv1": (96, 55, 55), "pool1": (96, 27, 27), "conv2": (256, 27, 27), "pool2": (256, 13, 13),
    "conv3": (384, 13, 13), "conv4": (384, 13, 13), "conv5": (256, 13, 13), "pool5": (256, 6, 6),
}


def test_alexnet2012_layer_sizes_are_figure_2s():
    model = models.build("alexnet_2012")
    assert model.input_spec.size == (227, 227)
    shapes = _output_shapes(model, (227, 227), [*PAPER_FIGURE_2, "norm1", "norm2", "avgpool", "fc6", "fc7", "fc8"])
    assert {name: shapes[name] for name in PAPER_FIGURE_2} == PAPER_FIGURE_2
    assert shapes["norm1"] == shapes["conv1"] and shapes["norm2"] == shapes["conv2"]
    assert shapes["avgpool"] == (256, 6, 6)
    assert (shapes["fc6"], shapes["fc7"], shapes["fc8"]) == ((4096,), (4096,), (1000,))


def test_224_does_not_give_the_papers_first_layer_but_227_does():
    """The lecture's puzzle: 11x11 kernels 4 apart fit 54 times into 224 pixels, 55 times into 227."""
    conv1 = models.build("alexnet_2012").conv1
    assert conv1(torch.zeros(1, 3, 224, 224)).shape[-1] == 54
    assert conv1(torch.zeros(1, 3, 227, 227)).shape[-1] == 55


def test_adaptive_pooling_is_the_identity_at_the_papers_size():
    model = models.build("alexnet_2012").eval()
    x = torch.randn(2, 256, 6, 6)
    assert torch.equal(model.avgpool(x), x)


def test_alexnet2012_kernels_are_the_papers():
    model = models.build("alexnet_2012")
    assert {name: tuple(getattr(model, name).weight.shape) for name in zoo.PAPER_KERNELS} == zoo.PAPER_KERNELS
    assert [model.fc6.out_features, model.fc7.out_features, model.fc8.out_features] == [4096, 4096, 1000]


def test_alexnet2012_neurons_are_figure_2s_caption():
    """Layers 2-8 as the caption prints them; its first number is not 55x55x96 (a misprint we keep out)."""
    model = models.build("alexnet_2012")
    names = list(zoo.PAPER_NEURONS)
    neurons = {name: math.prod(shape) for name, shape in _output_shapes(model, (227, 227), names).items()}
    assert {n: neurons[n] for n in names[1:]} == {n: zoo.PAPER_NEURONS[n] for n in names[1:]}
    assert neurons["conv1"] == 55 * 55 * 96 != zoo.PAPER_NEURONS["conv1"]
    # "650,000 neurons" (abstract): 659,272 with conv1's 290,400 (within 1.5%); the caption's own sum is 622,312.
    assert abs(sum(neurons.values()) - zoo.PAPER_TOTAL_NEURONS) / zoo.PAPER_TOTAL_NEURONS < 0.015


def test_alexnet2012_parameters_are_60_million():
    model = models.build("alexnet_2012")
    convs = {name: _conv_parameters(getattr(model, name)) for name in zoo.PAPER_KERNELS}
    fcs = {name: _linear_parameters(getattr(model, name)) for name in ("fc6", "fc7", "fc8")}
    assert {name: count_parameters(getattr(model, name)) for name in {**convs, **fcs}} == {**convs, **fcs}
    # The paper's kernels (Sec. 3.5), by hand: number x depth x height x width, plus biases.
    assert convs == {"conv1": 96 * 3 * 121 + 96, "conv2": 256 * 48 * 25 + 256, "conv3": 384 * 256 * 9 + 384,
                     "conv4": 384 * 192 * 9 + 384, "conv5": 256 * 192 * 9 + 256}
    total = count_parameters(model)
    assert total == sum(convs.values()) + sum(fcs.values()) == 60_965_224
    # "60 million" (abstract, Sec. 4) is the count to one significant figure; it is 1.6% below ours.
    assert round(total, -7) == zoo.PAPER_TOTAL_PARAMETERS
    assert abs(total - zoo.PAPER_TOTAL_PARAMETERS) / zoo.PAPER_TOTAL_PARAMETERS < 0.02


# --------------------------------------------------------------------------- the two towers as groups


def _changed_maps(layer: nn.Module, x: torch.Tensor, inputs: slice) -> torch.Tensor:
    """Which output maps of ``layer`` change when the input maps ``inputs`` change."""
    changed = x.clone()
    changed[:, inputs] += torch.randn_like(changed[:, inputs])
    with torch.no_grad():
        return (layer(changed) - layer(x)).abs().amax(dim=(0, 2, 3)) > 0


@pytest.mark.parametrize("name, in_maps, out_maps", [("conv2", 96, 256), ("conv4", 384, 384), ("conv5", 384, 256)])
def test_towers_do_not_talk_in_conv2_conv4_conv5(name, in_maps, out_maps):
    torch.manual_seed(0)
    layer = getattr(models.build("alexnet_2012"), name)
    assert layer.groups == 2
    x = torch.randn(1, in_maps, 7, 7)
    first = _changed_maps(layer, x, slice(0, in_maps // 2))
    assert first[: out_maps // 2].all() and not first[out_maps // 2 :].any()
    second = _changed_maps(layer, x, slice(in_maps // 2, in_maps))
    assert second[out_maps // 2 :].all() and not second[: out_maps // 2].any()


def test_towers_talk_in_conv3():
    torch.manual_seed(0)
    conv3 = models.build("alexnet_2012").conv3
    assert conv3.groups == 1
    assert _changed_maps(conv3, torch.randn(1, 256, 7, 7), slice(0, 128)).all()


def test_grouping_halves_conv2s_multiply_adds():
    """Each of conv2's units reads 48 maps, not 96 (layer_table at the paper's size)."""
    model = models.build("alexnet_2012")
    table = analysis.layer_table(model, (1, 3, 227, 227))
    assert table["conv1"].macs == 55 * 55 * 96 * (11 * 11 * 3)
    assert table["conv2"].macs == 27 * 27 * 256 * (5 * 5 * 48)
    assert table["conv3"].macs == 13 * 13 * 384 * (3 * 3 * 256)
    assert table.total_params == count_parameters(model)
    names = [row.name for row in table.layers]
    assert names.index("fc6") < names.index("dropout6") < names.index("fc7") < names.index("dropout7") < names.index("fc8")


# --------------------------------------------------------------------------- response normalisation


def paper_lrn(a: torch.Tensor, k: float, n: int, alpha: float, beta: float) -> torch.Tensor:
    """Sec. 3.3, written out: b^i = a^i / (k + alpha * sum_{j=max(0, i-n/2)}^{min(N-1, i+n/2)} (a^j)^2)^beta."""
    maps = a.shape[1]
    b = torch.empty_like(a)
    for i in range(maps):
        window = a[:, max(0, i - n // 2) : min(maps - 1, i + n // 2) + 1]
        b[:, i] = a[:, i] / (k + alpha * window.pow(2).sum(dim=1)) ** beta
    return b


def test_local_response_norm_is_the_papers_formula():
    torch.manual_seed(0)
    a = torch.randn(2, 9, 4, 4) * 30  # large responses, so that the sum matters beside k
    constants = zoo.PAPER_LRN
    expected = paper_lrn(a, **constants)
    assert torch.allclose(zoo.local_response_norm()(a), expected, rtol=1e-5)
    assert torch.allclose(models.build("alexnet_2012").norm1(a), expected, rtol=1e-5)
    assert not torch.allclose(expected, a / constants["k"] ** constants["beta"], rtol=1e-2)  # the sum matters
    assert constants == {"k": 2.0, "n": 5, "alpha": 1e-4, "beta": 0.75}


def test_local_response_norm_rejects_an_even_window():
    with pytest.raises(ValueError, match="odd"):
        zoo.local_response_norm(n=4)


# --------------------------------------------------------------------------- initialisation


def test_alexnet2012_initialisation_is_the_papers():
    torch.manual_seed(0)
    model = models.build("alexnet_2012")
    for name in ("conv2", "conv4", "conv5", "fc6", "fc7"):
        assert torch.equal(getattr(model, name).bias, torch.ones_like(getattr(model, name).bias)), name
    for name in ("conv1", "conv3", "fc8"):
        assert not getattr(model, name).bias.any(), name
    assert model.fc6.weight.mean().abs() < 1e-4 and model.fc6.weight.std().item() == pytest.approx(0.01, rel=0.01)
    assert model.conv1.weight.std().item() == pytest.approx(0.01, rel=0.05)


def test_zfnet_initialisation_and_filter_renormalisation():
    torch.manual_seed(0)
    model = models.build("zfnet")
    assert not any(layer.bias.any() for layer in (model.conv1, model.conv5, model.fc6, model.fc8))
    assert model.fc6.weight.std().item() == pytest.approx(0.01, rel=0.01)
    with torch.no_grad():
        model.conv1.weight[0].fill_(1.0)   # RMS 1: scaled down to 0.1
        model.conv1.weight[1].fill_(0.05)  # RMS 0.05: kept
    zoo.renormalize_filters(model)
    rms = model.conv1.weight.pow(2).mean(dim=(1, 2, 3)).sqrt()
    assert rms[0].item() == pytest.approx(0.1) and rms[1].item() == pytest.approx(0.05)
    assert (rms <= 0.1 + 1e-6).all()
    with pytest.raises(ValueError, match="radius"):
        zoo.renormalize_filters(model, radius=0)


# --------------------------------------------------------------------------- ZFNet

ZF_FIGURE_3 = {  # Zeiler and Fergus 2014, Figure 3: (maps, height, width) of each stage
    "conv1": (96, 110, 110), "pool1": (96, 55, 55), "norm1": (96, 55, 55), "conv2": (256, 26, 26),
    "pool2": (256, 13, 13), "conv3": (384, 13, 13), "conv4": (384, 13, 13), "conv5": (256, 13, 13),
    "pool5": (256, 6, 6),
}


def test_zfnet_layer_sizes_are_figure_3s():
    model = models.build("zfnet")
    assert model.input_spec.size == (224, 224)
    assert model.conv1.kernel_size == (7, 7) and model.conv1.stride == (2, 2)
    assert model.conv2.kernel_size == (5, 5) and model.conv2.stride == (2, 2)
    assert all(conv.groups == 1 for conv in model.modules() if isinstance(conv, nn.Conv2d))  # one GPU, dense
    shapes = _output_shapes(model, (224, 224), list(ZF_FIGURE_3))
    assert shapes == ZF_FIGURE_3
    assert model.fc6.in_features == 6 * 6 * 256 == 9216  # Figure 3's caption


def _counted(model: nn.Module) -> int:
    """Parameters by the formulas, layer by layer."""
    convs = sum(_conv_parameters(m) for m in model.modules() if isinstance(m, nn.Conv2d))
    return convs + sum(_linear_parameters(m) for m in model.modules() if isinstance(m, nn.Linear))


def test_zfnet_parameters():
    model = models.build("zfnet")
    assert count_parameters(model) == _counted(model) == 62_357_608


def test_zfnet_wide_variant_has_512_1024_512_maps():
    model = models.build("zfnet", variant="wide")
    shapes = _output_shapes(model, (224, 224), ["conv3", "conv4", "conv5", "pool5"])
    assert shapes == {"conv3": (512, 13, 13), "conv4": (1024, 13, 13), "conv5": (512, 13, 13), "pool5": (512, 6, 6)}
    assert model.fc6.in_features == 6 * 6 * 512
    assert count_parameters(model) == _counted(model) == 107_627_624


def test_zfnet_rejects_unknown_variant():
    with pytest.raises(ValueError, match="variant.*'figure3'.*'wide'"):
        models.build("zfnet", variant="cs231n")


# --------------------------------------------------------------------------- input contract


def _smallest_size_that_runs(model: nn.Module) -> int:
    """The smallest square input on which every layer has a non-empty output, found by trying."""
    relaxed = dataclasses.replace(model.input_spec, min_size=1)
    model.input_spec, spec = relaxed, model.input_spec
    try:
        for size in range(1, 300):
            try:
                with torch.no_grad():
                    model(torch.zeros(1, relaxed.channels, size, size))
                return size
            except RuntimeError:
                continue
    finally:
        model.input_spec = spec
    raise AssertionError("no size up to 300 runs")


@pytest.mark.parametrize("name, min_size", [("alexnet", 63), ("alexnet_2012", 67), ("zfnet", 47)])
def test_min_size_is_the_smallest_input_that_runs(name, min_size):
    model = models.build(name, num_classes=3).eval()
    assert model.input_spec.min_size == min_size == _smallest_size_that_runs(model)
    with torch.no_grad():
        assert model(torch.zeros(1, 3, min_size, min_size)).shape == (1, 3)
    with pytest.raises(ValueError, match=rf"^{name} needs images of at least {min_size}x{min_size}"):
        model(torch.zeros(1, 3, min_size - 1, min_size))


@pytest.mark.parametrize("name", ["alexnet", "alexnet_2012", "zfnet"])
def test_bad_arguments(name):
    with pytest.raises(ValueError, match="dropout"):
        models.build(name, dropout=1.0)
    with pytest.raises(ValueError, match="in_channels"):
        models.build(name, in_channels=0)
    model = models.build(name, in_channels=1, num_classes=4).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 1, 80, 80)).shape == (1, 4)


# --------------------------------------------------------------------------- the package's tools on these models


def test_receptive_fields_by_hand():
    """conv1: 11 pixels, 4 apart; pool1 adds 2 steps of 4; conv2 adds 4 steps of 8 (Araujo et al. 2019)."""
    table = analysis.receptive_field(models.build("alexnet_2012"), (1, 3, 227, 227))
    assert (table["conv1"].size, table["conv1"].jump) == (11, 4)
    assert (table["pool1"].size, table["pool1"].jump) == (11 + 2 * 4, 8)
    assert (table["conv2"].size, table["conv2"].jump) == (19 + 4 * 8, 8)
    zf = analysis.receptive_field(models.build("zfnet"), (1, 3, 224, 224))
    assert (zf["conv1"].size, zf["conv1"].jump) == (7, 2)
    assert (zf["conv2"].size, zf["conv2"].jump) == (7 + 2 * 2 + 4 * 4, 8)
    twin = analysis.receptive_field(models.build("alexnet"))
    assert (twin["features.0"].size, twin["features.0"].jump, twin["features.0"].start) == (11, 4, 5 - 2)


@pytest.mark.parametrize("name", ["alexnet", "alexnet_2012", "zfnet"])
def test_layer_table_and_diagram(name):
    model = models.build(name)
    table = analysis.layer_table(model, (1, 3, 96, 96))
    assert table.total_params == count_parameters(model)
    figure = diagrams.draw(model, (1, 3, 96, 96))
    texts = " ".join(t.get_text() for t in figure.axes[0].texts)
    assert "conv 11×11" in texts or "conv 7×7" in texts
    if name == "alexnet_2012":
        assert "2 groups" in texts and "LRN" in texts
    plt.close(figure)
