"""Loading torchvision's published weights into the book's twins, offline: no test touches the network."""

from __future__ import annotations

import os
import pickle
import socket
import urllib.error
from urllib.parse import urlparse

import pytest
import torch

from cnnzoo import models
from cnnzoo.models import pretrained

torchvision = pytest.importorskip("torchvision")

pytestmark = pytest.mark.usefixtures("one_thread")

ALEXNET_FILE = os.path.basename(urlparse(torchvision.models.AlexNet_Weights.IMAGENET1K_V1.url).path)


@pytest.fixture
def no_network(monkeypatch):
    """Every connection and name lookup fails, as on a machine without network."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


class _NotATensor:
    """An object a weights file must not be able to carry (weights_only=True refuses to build it)."""


def test_cached_weights_load_and_outputs_equal_torchvisions(tmp_path, no_network):
    torch.manual_seed(0)
    theirs = torchvision.models.alexnet(weights=None).eval()
    torch.save(theirs.state_dict(), tmp_path / ALEXNET_FILE)  # as if downloaded before
    ours = models.build("alexnet").eval()
    assert not torch.equal(ours.features[0].weight, theirs.features[0].weight)
    returned = pretrained.load_torchvision_weights(ours, "alexnet", model_dir=tmp_path, progress=False)
    assert returned is ours
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x))
    assert no_network == []  # the cached file was read; nothing was downloaded


def test_the_file_is_unpickled_with_weights_only(tmp_path, no_network):
    torch.save({"features.0.weight": _NotATensor()}, tmp_path / ALEXNET_FILE)
    with pytest.raises(pickle.UnpicklingError, match="weights_only"):
        pretrained.load_torchvision_weights(models.build("alexnet"), "alexnet", model_dir=tmp_path, progress=False)


def test_default_cache_is_torch_hubs(tmp_path, monkeypatch, no_network):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    (tmp_path / "checkpoints").mkdir()
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), tmp_path / "checkpoints" / ALEXNET_FILE)
    pretrained.load_torchvision_weights(models.build("alexnet"), "alexnet", progress=False)


def test_without_network_a_clear_error_and_the_timeout_restored(tmp_path, no_network):
    model = models.build("alexnet")
    before = {name: p.clone() for name, p in model.state_dict().items()}
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(7.5)  # the caller's own timeout, which must come back
    try:
        with pytest.raises(pretrained.WeightsUnavailableError) as info:
            pretrained.load_torchvision_weights(model, "alexnet", model_dir=tmp_path, progress=False)
        assert socket.getdefaulttimeout() == 7.5
    finally:
        socket.setdefaulttimeout(previous)
    message = str(info.value)
    assert "alexnet" in message and "network" in message
    assert str(tmp_path / ALEXNET_FILE) in message  # where to put the file by hand
    assert torchvision.models.AlexNet_Weights.IMAGENET1K_V1.url in message
    assert isinstance(info.value, RuntimeError) and isinstance(info.value.__cause__, urllib.error.URLError)
    assert no_network, "the download was never tried"
    assert all(torch.equal(model.state_dict()[name], value) for name, value in before.items())
    assert not (tmp_path / ALEXNET_FILE).exists()


def test_download_waits_with_a_timeout(tmp_path, monkeypatch):
    seen = []

    def offline(*args, **kwargs):
        seen.append(socket.getdefaulttimeout())
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(pretrained.WeightsUnavailableError):
        pretrained.load_torchvision_weights(models.build("alexnet"), "alexnet", model_dir=tmp_path, progress=False)
    assert seen == [pretrained.DOWNLOAD_TIMEOUT_S]


@pytest.mark.parametrize("name, reason", [
    ("lenet5", "has no torchvision twin"),
    ("zfnet", "has no torchvision twin"),
    ("alexnet_2012", "has no torchvision twin"),
    ("resnet9000", "is not a registered model"),
])
def test_models_without_a_twin_are_refused(name, reason, no_network):
    with pytest.raises(ValueError, match=rf"'{name}' {reason}.*alexnet"):
        pretrained.load_torchvision_weights(torch.nn.Linear(1, 1), name)
    assert no_network == []


def test_a_model_built_for_other_classes_is_refused_before_downloading(tmp_path, no_network):
    with pytest.raises(ValueError, match=r"61,100,840 parameters.*num_classes=1000"):
        pretrained.load_torchvision_weights(models.build("alexnet", num_classes=10), "alexnet", model_dir=tmp_path)
    with pytest.raises(ValueError, match="nn.Module"):
        pretrained.load_torchvision_weights("alexnet", "alexnet", model_dir=tmp_path)
    with pytest.raises(ValueError, match="no weights 'IMAGENET1K_V9'.*IMAGENET1K_V1"):
        pretrained.load_torchvision_weights(models.build("alexnet"), "alexnet", weights="IMAGENET1K_V9")
    assert no_network == []


def test_weights_entry_is_torchvisions_default():
    assert pretrained.torchvision_weights("alexnet") is torchvision.models.AlexNet_Weights.DEFAULT
    assert pretrained.torchvision_weights("alexnet", "IMAGENET1K_V1") is torchvision.models.AlexNet_Weights.IMAGENET1K_V1


def test_loading_is_strict(tmp_path, no_network):
    state = torchvision.models.alexnet(weights=None).state_dict()
    del state["classifier.6.bias"]
    torch.save(state, tmp_path / ALEXNET_FILE)
    with pytest.raises(RuntimeError, match="Missing key.*classifier.6.bias"):
        pretrained.load_torchvision_weights(models.build("alexnet"), "alexnet", model_dir=tmp_path, progress=False)


# --------------------------------------------------------------------------- googlenet: auxiliary heads and transform_input

GOOGLENET_FILE = os.path.basename(urlparse(torchvision.models.GoogLeNet_Weights.IMAGENET1K_V1.url).path)


@pytest.fixture(scope="module")
def googlenet_file_state():
    """A state dict laid out as torchvision's published googlenet file: auxiliary heads included."""
    torch.manual_seed(0)
    theirs = torchvision.models.googlenet(weights=None, aux_logits=True, transform_input=True, init_weights=True).eval()
    return theirs, theirs.state_dict()


@pytest.mark.parametrize("aux_logits", [True, False])
def test_googlenet_weights_load_with_or_without_the_auxiliary_heads(aux_logits, googlenet_file_state, tmp_path, no_network):
    theirs, state = googlenet_file_state
    assert any(key.startswith("aux1.") for key in state)
    torch.save(state, tmp_path / GOOGLENET_FILE)
    ours = models.build("googlenet", transform_input=True, aux_logits=aux_logits).eval()
    pretrained.load_torchvision_weights(ours, "googlenet", model_dir=tmp_path, progress=False)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x))
    if aux_logits:
        assert torch.equal(ours.aux2.fc2.weight, state["aux2.fc2.weight"])
    assert no_network == []


def test_googlenet_needs_transform_input_and_its_class_count(tmp_path, no_network):
    with pytest.raises(ValueError, match=r"transform_input=True.*models.build\('googlenet', transform_input=True\)"):
        pretrained.load_torchvision_weights(models.build("googlenet"), "googlenet", model_dir=tmp_path)
    with pytest.raises(ValueError, match=r"6,624,904 parameters"):
        pretrained.load_torchvision_weights(
            models.build("googlenet", num_classes=10, transform_input=True), "googlenet", model_dir=tmp_path)
    with pytest.raises(ValueError, match="'googlenet_2014' has no torchvision twin"):
        pretrained.load_torchvision_weights(models.build("googlenet_2014"), "googlenet_2014")
    assert no_network == []


def test_googlenet_with_heads_is_strict_about_the_heads(googlenet_file_state, tmp_path, no_network):
    _, state = googlenet_file_state
    torch.save({key: value for key, value in state.items() if not key.startswith("aux")}, tmp_path / GOOGLENET_FILE)
    with pytest.raises(RuntimeError, match="Missing key.*aux1"):
        pretrained.load_torchvision_weights(
            models.build("googlenet", transform_input=True), "googlenet", model_dir=tmp_path, progress=False)
    # without heads, a file without them loads
    pretrained.load_torchvision_weights(
        models.build("googlenet", transform_input=True, aux_logits=False), "googlenet", model_dir=tmp_path, progress=False)


def test_densenet_file_with_the_old_key_names_loads(tmp_path, no_network):
    """torchvision's published DenseNet files say "denselayer1.norm.1.weight"; the loader renames them."""
    torch.manual_seed(0)
    theirs = torchvision.models.densenet121(weights=None).eval()
    old = {}
    for key, value in theirs.state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue  # the published files predate it (PyTorch 0.4.1); batch norm accepts its absence
        for module in ("norm1", "relu1", "conv1", "norm2", "relu2", "conv2"):
            key = key.replace(f".{module}.", f".{module[:-1]}.{module[-1]}.")
        old[key] = value
    assert "features.denseblock1.denselayer1.norm.1.weight" in old  # the file is in the old format
    url = torchvision.models.DenseNet121_Weights.IMAGENET1K_V1.url
    torch.save(old, tmp_path / os.path.basename(urlparse(url).path))
    ours = models.build("densenet121").eval()
    pretrained.load_torchvision_weights(ours, "densenet121", model_dir=tmp_path, progress=False)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x))
    assert no_network == []
