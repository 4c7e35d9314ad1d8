"""VGG (models/vgg.py) against the paper's Tables 1 and 2, and against torchvision's twins.

Most checks build the models on PyTorch's "meta" device (shapes, no values: a VGG's half a
gigabyte of weights is never made); the checks of values use 32x32 inputs, the smallest VGG
takes, where its convolutions cost 1/49 of 224x224.
"""

from __future__ import annotations

import functools
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from torch import nn  # noqa: E402

from cnnzoo import analysis, diagrams, models  # noqa: E402
from cnnzoo.analysis import count_parameters  # noqa: E402
from cnnzoo.models import alexnet, pretrained, vgg  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

TWINS = ["vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]
OURS_ONLY = ["vgg11_lrn", "vgg16_c"]

# Simonyan and Zisserman (2015), Table 1's header row: weight layers of each column.
PAPER_WEIGHT_LAYERS = {"A": 11, "A-LRN": 11, "B": 13, "C": 16, "D": 16, "E": 19}


def _meta(name: str, **kwargs) -> nn.Module:
    """The registered model on the "meta" device: its structure without its weights."""
    with torch.device("meta"):
        return models.build(name, **kwargs)


@functools.lru_cache(maxsize=1)
def _vgg16() -> nn.Module:
    """One real vgg16 for the module (a second to build), seeded; tests must not change it."""
    torch.manual_seed(0)
    return models.build("vgg16").eval()


def _stages(column: tuple[str, ...]) -> list[list[str]]:
    """The layers between max poolings: five stages of convolutions (LRN included)."""
    features = column[: column.index("FC-4096")]
    stages, stage = [], []
    for layer in features:
        if layer == "maxpool":
            stages.append(stage)
            stage = []
        else:
            stage.append(layer)
    assert stage == [], "the features end with a max pooling"
    return stages


# --------------------------------------------------------------------------- Table 1


def test_table_1_has_the_paper_s_columns_and_weight_layers():
    assert list(vgg.TABLE_1) == list(PAPER_WEIGHT_LAYERS)
    assert {column: vgg.weight_layers(layers) for column, layers in vgg.TABLE_1.items()} == PAPER_WEIGHT_LAYERS
    for column, layers in vgg.TABLE_1.items():
        assert layers[-4:] == ("FC-4096", "FC-4096", "FC-1000", "soft-max"), column
        assert layers.count("maxpool") == 5, column
        # width 64, doubling after each pooling up to 512 (Sec. 2.2)
        assert [{layer.split("-")[1] for layer in stage if layer != "LRN"} for stage in _stages(layers)] == [
            {"64"}, {"128"}, {"256"}, {"512"}, {"512"}
        ], column


def test_columns_differ_only_where_the_paper_adds_layers():
    """Each column is the one before it plus the layers Table 1 prints in bold."""
    a, lrn, b, c, d, e = (_stages(vgg.TABLE_1[k]) for k in ["A", "A-LRN", "B", "C", "D", "E"])
    assert a == [["conv3-64"], ["conv3-128"], ["conv3-256"] * 2, ["conv3-512"] * 2, ["conv3-512"] * 2]
    assert lrn == [["conv3-64", "LRN"], *a[1:]]  # LRN after the first layer only
    assert b == [stage[:1] * 2 for stage in a[:2]] + a[2:]  # a second conv in stages 1 and 2
    assert c == b[:2] + [stage + [stage[0].replace("conv3", "conv1")] for stage in b[2:]]  # a 1x1 conv in 3-5
    assert d == [[layer.replace("conv1", "conv3") for layer in stage] for stage in c]  # 3x3 instead of 1x1
    assert e == d[:2] + [stage + stage[:1] for stage in d[2:]]  # a fourth conv in stages 3-5


@pytest.mark.parametrize("name", [*TWINS, *OURS_ONLY])
def test_built_layers_are_the_table_s(name):
    """The weight layers of the built model, in order: kernel sizes, widths, and the FC layers."""
    model = _meta(name)
    column = vgg.TABLE_1[vgg.COLUMNS[name.removesuffix("_bn")]]
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [f"conv{m.kernel_size[0]}-{m.out_channels}" for m in convs] == [x for x in column if x.startswith("conv")]
    assert all(m.stride == (1, 1) and m.padding == (m.kernel_size[0] // 2,) * 2 for m in convs)  # size kept
    linears = [m for m in model.classifier if isinstance(m, nn.Linear)]
    assert [f"FC-{m.out_features}" for m in linears] == [x for x in column if x.startswith("FC-")]
    assert len(convs) + len(linears) == PAPER_WEIGHT_LAYERS[vgg.COLUMNS[name.removesuffix("_bn")]]
    dropouts = [m.p for m in model.classifier if isinstance(m, nn.Dropout)]
    assert dropouts == [0.5, 0.5]  # on the first two FC layers (Sec. 3.1)
    pools = [m for m in model.features if isinstance(m, nn.MaxPool2d)]
    assert len(pools) == 5 and all(m.kernel_size == 2 and m.stride == 2 for m in pools)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == (len(convs) if name.endswith("_bn") else 0)


def test_column_c_has_1x1_convolutions_at_the_end_of_stages_3_to_5():
    model = _meta("vgg16_c")
    layers = list(model.features)
    ones = [i for i, m in enumerate(layers) if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)]
    assert len(ones) == 3
    for i in ones:  # conv1 - ReLU - maxpool, with as many channels in as out
        assert isinstance(layers[i + 1], nn.ReLU) and isinstance(layers[i + 2], nn.MaxPool2d)
        assert layers[i].in_channels == layers[i].out_channels and layers[i].padding == (0, 0)
    assert [layers[i].out_channels for i in ones] == [256, 512, 512]


def test_a_lrn_has_lrn_after_the_first_convolution_only():
    for name in models.available():
        if name.startswith("vgg") and name != "vgg11_lrn":
            assert not any(isinstance(m, nn.LocalResponseNorm) for m in _meta(name).modules()), name
    layers = list(_meta("vgg11_lrn").features)
    assert [type(m) for m in layers[:4]] == [nn.Conv2d, nn.ReLU, nn.LocalResponseNorm, nn.MaxPool2d]
    assert sum(isinstance(m, nn.LocalResponseNorm) for m in layers) == 1


def test_lrn_is_krizhevsky_s_formula():
    """b = a / (k + alpha * sum of a^2 over the n = 5 nearest maps)^beta, k = 2, alpha = 1e-4, beta = 0.75."""
    torch.manual_seed(0)
    a = torch.randn(2, 9, 3, 3) * 30  # large enough that the sum matters
    squares = torch.nn.functional.pad(a.pow(2), (0, 0, 0, 0, 2, 2))  # maps i-2 .. i+2, zero beyond the ends
    sums = sum(squares[:, i : i + 9] for i in range(5))
    expected = a / (2 + 1e-4 * sums) ** 0.75
    assert torch.allclose(alexnet.local_response_norm()(a), expected, rtol=1e-5)


def test_unknown_column_or_layer_is_refused():
    with pytest.raises(ValueError, match=r"column must be one of .*'A-LRN'.*got 'F'"):
        vgg.VGG("F")
    with pytest.raises(ValueError, match=r"unknown layer 'conv3x3-64'"):
        vgg.make_features(("conv3x3-64", "maxpool"))
    with pytest.raises(ValueError, match="FC-"):
        vgg.make_classifier(("conv3-64", "maxpool"), 64)


# --------------------------------------------------------------------------- parameters: Table 2 and torchvision


@pytest.mark.parametrize("name", [*TWINS, *OURS_ONLY])
def test_parameters_round_to_table_2(name):
    """Table 2 prints millions, rounded: ours round to the same (the _bn models add 0.01 M at most)."""
    column = vgg.COLUMNS[name.removesuffix("_bn")]
    assert round(count_parameters(_meta(name)) / 1e6) == vgg.PAPER_PARAMETERS_MILLIONS[column]


def test_table_2_counts_as_printed():
    assert vgg.PAPER_PARAMETERS_MILLIONS == {"A": 133, "A-LRN": 133, "B": 133, "C": 134, "D": 138, "E": 144}


@pytest.mark.parametrize("name", TWINS)
def test_parameter_names_and_shapes_are_torchvision_s(name):
    with torch.device("meta"):
        theirs = torchvision.models.get_model(name, weights=None)
    ours = _meta(name)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [(k, v.shape) for k, v in theirs.state_dict().items()]
    assert count_parameters(ours) == count_parameters(theirs) == torchvision.models.get_model_weights(name).DEFAULT.meta["num_params"]


def _random_twin(name: str) -> nn.Module:
    """torchvision's model with random weights, and batch-norm statistics that are not the identity.

    With fresh statistics (mean 0, variance 1, scale 1, shift 0) batch norm in eval mode is a
    positive rescaling, which commutes with ReLU: a twin with the ReLU before the batch norm
    would give the same outputs. Random ones tell the two orders apart.
    """
    with torch.device("meta"):
        model = torchvision.models.get_model(name, weights=None)
    model.to_empty(device="cpu")
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for key, tensor in model.state_dict().items():
            if key.endswith("num_batches_tracked"):
                tensor.zero_()
            elif key.endswith("running_var"):
                tensor.uniform_(0.5, 2.0, generator=generator)
            elif tensor.dim() > 1:  # weights: He's scale, so 19 layers neither vanish nor explode
                tensor.normal_(0.0, math.sqrt(2 / tensor[0].numel()), generator=generator)
            else:  # biases, batch-norm scales and shifts, running means
                tensor.normal_(0.0, 0.5, generator=generator)
    return model.eval()


@pytest.mark.parametrize("name", TWINS)
def test_outputs_equal_torchvision_s_on_its_weights(name):
    theirs = _random_twin(name)
    ours = _meta(name)
    ours.load_state_dict(theirs.state_dict(), strict=True, assign=True)
    ours.eval()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = theirs(x)
        assert expected.std() > 0.1  # a real signal, not one squashed to zero
        assert torch.equal(ours(x), expected)


# --------------------------------------------------------------------------- input size, initialisation


def test_min_size_is_the_smallest_the_five_poolings_allow():
    model = _meta("vgg11")
    assert model.input_spec.min_size == 32 and not model.input_spec.fixed
    assert model.input_size == (3, 224, 224)
    with torch.device("meta"):
        assert model.features(torch.zeros(1, 3, 32, 32)).shape == (1, 512, 1, 1)
        with pytest.raises(RuntimeError):  # below it, the fifth pooling has nothing to pool
            model.features(torch.zeros(1, 3, 31, 31))
        with pytest.raises(ValueError, match=r"^vgg11 needs images of at least 32x32; got 31x31"):
            model(torch.zeros(1, 3, 31, 31))
        assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 1000)


def test_adaptive_pool_is_the_identity_at_224():
    """At the paper's size the pooling before the classifier changes nothing (it is torchvision's addition)."""
    torch.manual_seed(0)
    x = torch.randn(1, 512, 7, 7)
    assert torch.equal(_vgg16().avgpool(x), x)


def test_initialisation_is_he_s_for_convolutions_and_small_normal_for_fc():
    model = _vgg16()
    for conv in (m for m in model.features if isinstance(m, nn.Conv2d)):
        fan_out = conv.out_channels * conv.kernel_size[0] * conv.kernel_size[1]
        assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / fan_out), rel=0.05)
        assert conv.weight.mean().abs() < 0.1 * conv.weight.std() and not conv.bias.any()
    for linear in (m for m in model.classifier if isinstance(m, nn.Linear)):
        assert linear.weight.std().item() == pytest.approx(0.01, rel=0.05) and not linear.bias.any()
    torch.manual_seed(0)
    bn = models.build("vgg11_bn", num_classes=10).features[1]
    assert isinstance(bn, nn.BatchNorm2d) and bool((bn.weight == 1).all()) and not bn.bias.any()


@pytest.mark.parametrize("name", [*TWINS, *OURS_ONLY])
def test_builders_pass_their_arguments(name):
    model = _meta(name, num_classes=10, in_channels=1)
    assert model.features[0].in_channels == 1 and model.classifier[-1].out_features == 10
    assert model.input_spec.channels == 1 and model.input_spec.name == name


# --------------------------------------------------------------------------- analysis and diagrams


def test_receptive_field_of_vgg16_is_araujo_s():
    """Araujo, Norris and Sim (Distill 2019) publish VGG-16's fields: conv5_3 196 px, pool5 212 px."""
    table = analysis.receptive_field(_vgg16())
    last_conv, pool5 = "features.28", "features.30"
    assert isinstance(_vgg16().features[28], nn.Conv2d) and isinstance(_vgg16().features[30], nn.MaxPool2d)
    assert table[last_conv].size == 196 and table[last_conv].jump == 16
    assert table[pool5].size == 212 and table[pool5].jump == 32


def test_diagram_of_vgg16_draws_every_layer():
    # depth=0: every layer its own box (by default runs of identical layers collapse, test_diagrams.py)
    figure = diagrams.draw(_vgg16(), (1, 3, 224, 224), depth=0)
    try:
        text = " ".join(t.get_text() for t in figure.findobj(matplotlib.text.Text))
        assert text.count("conv 3×3") == 13 and text.count("max pool") == 5 and text.count("fc ") == 3
    finally:
        plt.close(figure)


# --------------------------------------------------------------------------- torchvision's published weights


def test_published_weights_load_into_a_twin(monkeypatch):
    """load_torchvision_weights takes a VGG twin; the download is replaced by a state dict in memory."""
    theirs = _random_twin("vgg11")
    calls = []

    def fake_download(url, **kwargs):
        calls.append((url, kwargs))
        return theirs.state_dict()

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", fake_download)
    torch.manual_seed(0)
    ours = models.build("vgg11").eval()
    assert pretrained.load_torchvision_weights(ours, "vgg11", progress=False) is ours
    [(url, kwargs)] = calls
    assert url == torchvision.models.VGG11_Weights.DEFAULT.url and kwargs["weights_only"] is True
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x))


@pytest.mark.parametrize("name", OURS_ONLY)
def test_columns_without_a_twin_have_no_published_weights(name, monkeypatch):
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", lambda *a, **k: pytest.fail("no download"))
    with pytest.raises(ValueError, match="has no torchvision twin"):
        pretrained.load_torchvision_weights(_meta(name), name)
