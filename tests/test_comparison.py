"""cnnzoo.comparison: the ImageNet models, their depth, counts, memory, years and cited accuracies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from cnnzoo import analysis, comparison, models
from cnnzoo.graph import trace

pytestmark = pytest.mark.usefixtures("one_thread")

BIB_KEYS = set(re.findall(r"^@\w+\{([^,]+),", (Path(__file__).parents[1] / "references.bib").read_text(), re.M))

# The ImageNet networks the issue lists, by name.
EXPECTED = {"alexnet", "alexnet_2012", "zfnet", "googlenet", "googlenet_2014", "plain18", "plain34",
            "squeezenet1_0", "squeezenet1_1", "wide_resnet50_2", "wide_resnet101_2",
            "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d",
            *(f"resnet{d}" for d in (18, 34, 50, 101, 152)), *(f"densenet{d}" for d in (121, 161, 169, 201)),
            *(f"vgg{d}" for d in (11, 13, 16, 19)), *(f"vgg{d}_bn" for d in (11, 13, 16, 19)), "vgg11_lrn", "vgg16_c"}


@pytest.fixture(scope="module")
def names():
    return comparison.imagenet_models()


def test_imagenet_models_are_every_3x224_network(names):
    assert set(names) == EXPECTED
    assert names == sorted(names)
    for small in ("lenet5", "resnet20_cifar", "nin", "densenet_bc_100_12", "wrn28_10"):
        assert small in models.available() and small not in names


@pytest.mark.parametrize("name, depth", [("vgg16", 16), ("resnet50", 50), ("googlenet", 22), ("alexnet", 8),
                                         ("alexnet_2012", 8), ("densenet121", 121), ("resnet18", 18)])
def test_depth_is_the_papers_name(name, depth):
    assert comparison.profile(name, device="meta").depth == depth


def test_weighted_depth_takes_the_longest_path_and_counts_only_weighted_layers():
    chain = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 4, 1), nn.Flatten(),
                          nn.Linear(4 * 6 * 6, 2))
    assert comparison.weighted_depth(trace(chain, (1, 3, 8, 8))) == 3
    from cnnzoo.models.resnet import BasicBlock
    from cnnzoo.models.squeezenet import Fire

    block = BasicBlock(4, 8, stride=2, shortcut="B")           # two 3x3 convolutions beside a 1x1 projection
    assert comparison.weighted_depth(trace(block, (1, 4, 8, 8))) == 2
    assert comparison.weighted_depth(trace(Fire(8, 2, 4, 4), (1, 8, 5, 5))) == 2   # squeeze, then one expand


def test_weighted_depth_refuses_a_model():
    with pytest.raises(ValueError, match="ModelGraph"):
        comparison.weighted_depth(nn.Conv2d(1, 1, 1))


@pytest.mark.parametrize("name", ["alexnet", "vgg11", "googlenet", "resnet50", "resnet152", "densenet121",
                                  "squeezenet1_1", "resnext50_32x4d"])
def test_counts_equal_torchvision_published_metadata(name):
    meta = torchvision.models.get_model_weights(name)["IMAGENET1K_V1"].meta
    profile = comparison.profile(name, device="meta")
    assert profile.params == meta["num_params"]
    assert abs(profile.macs / 1e9 - meta["_ops"]) < 0.0015   # torchvision prints GMACs to 3 decimals
    assert profile.activation_bytes is None and profile.forward_s is None


def test_a_real_profile_equals_the_analysis_functions():
    size = 64
    profile = comparison.profile("squeezenet1_1", size=size, repeats=2)
    model = models.build("squeezenet1_1").eval()
    shape = (1, 3, size, size)
    assert profile.activation_bytes == analysis.layer_table(model, shape).total_activation_bytes > 0
    assert profile.params == analysis.count_parameters(model)
    assert profile.macs == analysis.count_macs(model, shape)
    assert 0 < profile.forward_s < 5
    assert profile.year == 2016 and profile.depth == 18


def test_build_for_profile_has_zero_weights_and_the_twin_setting():
    model = comparison.build_for_profile("resnet50")
    assert not model.training and all(torch.count_nonzero(p) == 0 for p in model.parameters())
    assert model.stride_on == "3x3"    # the setting torchvision's weights were trained with
    assert next(comparison.build_for_profile("resnet18", "meta").parameters()).is_meta


def test_accuracy_of_twins_is_torchvision_metadata_and_others_are_cited(names):
    for name in ("alexnet", "resnet50", "densenet121"):
        metrics = torchvision.models.get_model_weights(name)["IMAGENET1K_V1"].meta["_metrics"]["ImageNet-1K"]
        got = comparison.accuracy(name)
        assert (got.top1, got.top5) == (metrics["acc@1"], metrics["acc@5"]) and "torchvision" in got.source
    assert "new training recipe" in comparison.accuracy("resnext101_64x4d").source
    assert "new training recipe" not in comparison.accuracy("resnext101_32x8d").source
    for name, (top1, top5, source) in comparison.PAPER_ACCURACY.items():
        assert name in names and source.split()[0] in BIB_KEYS
        assert all(v is None or 50 < v < 100 for v in (top1, top5))
        assert top1 is None or top5 is None or top1 < top5


def test_every_model_has_a_year_and_a_cited_paper_in_lineage_order(names):
    years = {name: comparison.paper_of(name) for name in names}
    assert all(key in BIB_KEYS for _, key in years.values())
    year = {name: y for name, (y, _) in years.items()}
    assert year["alexnet_2012"] < year["zfnet"] < year["vgg16"] == year["googlenet"] < year["resnet50"]
    assert year["resnet50"] == year["plain34"] < year["densenet121"] == year["resnext50_32x4d"] == year["wide_resnet50_2"]
    assert comparison.paper_of("alexnet")[1] == "krizhevsky2014one"   # torchvision's one-tower AlexNet


def test_ilsvrc_winners_and_human_reference_are_cited():
    years = [row[0] for row in comparison.ILSVRC_WINNERS]
    errors = [row[2] for row in comparison.ILSVRC_WINNERS]
    assert years == list(range(2010, 2018)) and errors == sorted(errors, reverse=True)
    assert all(row[3] in BIB_KEYS for row in comparison.ILSVRC_WINNERS)
    assert comparison.HUMAN_TOP5_ERROR[1] in BIB_KEYS


@pytest.mark.parametrize("call, match", [
    (lambda: comparison.profile("lenet5"), "ImageNet-scale"),
    (lambda: comparison.profile("resnet18", size=0, device="meta"), "size"),
    (lambda: comparison.profile("alexnet", size=32, device="meta"), "at least 63"),
    (lambda: comparison.profile("resnet18", repeats=0), "repeats"),
    (lambda: comparison.accuracy("nin"), "ImageNet-scale"),
    (lambda: comparison.paper_of(7), "ImageNet-scale"),
])
def test_bad_input_says_what_was_expected(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_profile_table_shows_missing_values_as_dashes():
    p = comparison.Profile("googlenet_2014", 2014, 22, 7_000_000, 1_500_000_000, None, None,
                           comparison.Accuracy(None, 89.93, "szegedy2015going Table 3"))
    table = comparison.profile_table([p])
    assert table.rows[0][:5] == ["googlenet_2014", "2014", 22, "7.0", "1.50"]
    assert table.rows[0][5:9] == ["—", "—", "—", "89.9"]
    assert "forward (ms)" not in comparison.profile_table([p], times=False).headers
    narrow = comparison.profile_table([p], times=False, accuracy=False)
    assert narrow.headers[-1] == "activations (MiB)" and len(narrow.rows[0]) == 6
