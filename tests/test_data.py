"""Tests of cnnzoo.data: the offline digits, clear errors for full-mode data, seeded loaders."""

from __future__ import annotations

import socket
import time
import urllib.error

import pytest
import torch
from torch.utils.data import TensorDataset
from sklearn.datasets import load_digits as sklearn_digits
from sklearn.model_selection import train_test_split
from torchvision import datasets

from cnnzoo import data


# --------------------------------------------------------------------------- quick-mode digits


def test_digit_split_sizes_follow_the_stratified_80_20_split():
    labels = sklearn_digits().target
    assert len(labels) == 1797
    train_labels, test_labels = train_test_split(labels, test_size=0.2, random_state=0, stratify=labels)
    assert (len(train_labels), len(test_labels)) == (1437, 360)
    assert len(data.load_digits("train")) == len(train_labels)
    assert len(data.load_digits("test")) == len(test_labels)


@pytest.mark.parametrize("image_size", [32, 16, 12])
def test_digit_shapes_and_dtypes(image_size):
    images, labels = data.load_digits("train", image_size=image_size).tensors
    assert images.shape == (1437, 1, image_size, image_size)
    assert images.dtype == torch.float32
    assert labels.shape == (1437,)
    assert labels.dtype == torch.int64
    assert set(labels.tolist()) == set(range(10))


@pytest.mark.parametrize("split", ["train", "test"])
def test_digit_values_are_lecun_normalized(split):
    images, _ = data.load_digits(split).tensors
    assert images.min().item() == pytest.approx(-0.1, abs=1e-6)   # background
    assert images.max().item() == pytest.approx(1.175, abs=1e-6)  # full ink


def test_digit_border_is_background():
    images, _ = data.load_digits("test", image_size=32).tensors
    border = torch.ones(32, 32, dtype=torch.bool)
    border[2:-2, 2:-2] = False
    assert torch.allclose(images[:, 0, border], torch.tensor(-0.1))
    assert (images[:, 0, 2:-2, 2:-2] > -0.1 + 1e-6).any()  # the digits themselves have ink


def test_lecun_normalize_maps_background_and_ink():
    out = data.lecun_normalize(torch.tensor([0.0, 1.0]))
    assert torch.allclose(out, torch.tensor([-0.1, 1.175]))


def test_digits_are_the_same_on_every_call():
    first_x, first_y = data.load_digits("train").tensors
    second_x, second_y = data.load_digits("train").tensors
    assert torch.equal(first_x, second_x) and torch.equal(first_y, second_y)


def test_digits_returned_tensors_are_not_shared_with_the_cache():
    images, _ = data.load_digits("test").tensors
    images.zero_()
    assert data.load_digits("test").tensors[0].max().item() == pytest.approx(1.175, abs=1e-6)


def test_digit_test_split_is_stratified():
    _, train_labels = data.load_digits("train").tensors
    _, test_labels = data.load_digits("test").tensors
    test_counts = torch.bincount(test_labels, minlength=10)
    train_counts = torch.bincount(train_labels, minlength=10)
    assert (test_counts > 0).all()
    # Stratified: each class takes about a fifth of its examples to the test set.
    fraction = test_counts.float() / (test_counts + train_counts).float()
    assert ((fraction - 0.2).abs() < 0.01).all()
    assert data.DIGITS_CLASSES == tuple("0123456789")


@pytest.mark.parametrize("split", ["val", "Train", "", None])
def test_bad_split_is_a_value_error(split):
    with pytest.raises(ValueError, match="split"):
        data.load_digits(split)


@pytest.mark.parametrize("image_size", [11, 0, -32, 32.0, "32", True])
def test_bad_image_size_is_a_value_error(image_size):
    with pytest.raises(ValueError, match="image_size"):
        data.load_digits("train", image_size=image_size)


# --------------------------------------------------------------------------- full mode, offline


@pytest.mark.parametrize("loader, name", [(data.mnist, "MNIST"), (data.cifar10, "CIFAR-10")])
def test_missing_dataset_without_download_is_a_clear_error(tmp_path, loader, name):
    start = time.perf_counter()
    with pytest.raises(data.DatasetUnavailableError, match="download=True") as info:
        loader(root=tmp_path, download=False)
    assert time.perf_counter() - start < 5
    assert name in str(info.value)
    assert str(tmp_path) in str(info.value)
    assert isinstance(info.value, RuntimeError)


@pytest.mark.parametrize("loader, class_name, name", [
    (data.mnist, "MNIST", "MNIST"),
    (data.cifar10, "CIFAR10", "CIFAR-10"),
])
def test_failed_download_is_a_clear_error_and_restores_the_timeout(tmp_path, monkeypatch, loader, class_name, name):
    class Offline:
        def __init__(self, *args, download: bool = False, **kwargs):
            assert download is True
            assert socket.getdefaulttimeout() is not None  # a timeout while downloading
            raise urllib.error.URLError("no network")

    monkeypatch.setattr(datasets, class_name, Offline)
    previous = socket.getdefaulttimeout()
    with pytest.raises(data.DatasetUnavailableError) as info:
        loader(root=tmp_path, download=True)
    assert isinstance(info.value.__cause__, urllib.error.URLError)
    message = str(info.value)
    assert name in message and str(tmp_path) in message and "network" in message
    assert socket.getdefaulttimeout() == previous


def test_failed_download_restores_a_custom_timeout(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(datasets, "MNIST", offline)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(7.5)
    try:
        with pytest.raises(data.DatasetUnavailableError) as info:
            data.mnist(root=tmp_path, download=True)
        assert isinstance(info.value.__cause__, RuntimeError)
        assert socket.getdefaulttimeout() == 7.5
    finally:
        socket.setdefaulttimeout(previous)


def test_mnist_transform_pads_and_normalizes(tmp_path, monkeypatch):
    """Without the real files: capture the transform mnist() builds and apply it to a fake digit."""
    captured = {}

    def fake_mnist(root, train, transform, download):
        captured["transform"] = transform
        return "dataset"

    monkeypatch.setattr(datasets, "MNIST", fake_mnist)
    assert data.mnist(root=tmp_path) == "dataset"
    digit = torch.zeros(28, 28, dtype=torch.uint8).numpy()
    digit[10:18, 12:16] = 255
    image = captured["transform"](digit)
    assert image.shape == (1, 32, 32)
    assert image.min().item() == pytest.approx(-0.1) and image.max().item() == pytest.approx(1.175)
    assert torch.allclose(image[0, :2], torch.tensor(-0.1))


def test_cifar10_transform_standardizes_each_channel(tmp_path, monkeypatch):
    captured = {}

    def fake_cifar10(root, train, transform, download):
        captured["transform"] = transform
        return "dataset"

    monkeypatch.setattr(datasets, "CIFAR10", fake_cifar10)
    data.cifar10(root=tmp_path)
    mean_image = (torch.tensor(data.CIFAR10_MEAN) * 255).round().to(torch.uint8)
    image = captured["transform"](mean_image.expand(32, 32, 3).contiguous().numpy())
    assert image.shape == (3, 32, 32)
    assert image.abs().max().item() < 0.01  # the mean colour maps to about 0


# --------------------------------------------------------------------------- loaders


def _first_labels(seed: int) -> torch.Tensor:
    train_loader, _ = data.make_loaders(data.load_digits("train"), data.load_digits("test"), seed=seed)
    return next(iter(train_loader))[1]


def test_make_loaders_same_seed_same_order_different_seed_different_order():
    assert torch.equal(_first_labels(0), _first_labels(0))
    assert not torch.equal(_first_labels(0), _first_labels(1))


def test_make_loaders_test_loader_keeps_the_dataset_order():
    test_set = data.load_digits("test")
    train_loader, test_loader = data.make_loaders(data.load_digits("train"), test_set, batch_size=32)
    assert train_loader.batch_size == 32 and train_loader.num_workers == 0
    labels = torch.cat([y for _, y in test_loader])
    assert torch.equal(labels, test_set.tensors[1])


@pytest.mark.parametrize("batch_size", [0, -1, 1.5])
def test_make_loaders_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        data.make_loaders(data.load_digits("train"), data.load_digits("test"), batch_size=batch_size)


# --------------------------------------------------------------------------- RandomShift


def test_random_shift_moves_the_image_and_fills_with_background():
    image = torch.full((1, 6, 6), -0.1)
    image[0, 2, 3] = 1.0  # one ink pixel
    shifted = data.RandomShift(TensorDataset(image.unsqueeze(0), torch.tensor([7])), max_shift=2)
    seen = set()
    torch.manual_seed(0)
    for _ in range(200):
        moved, label = shifted[0]
        assert moved.shape == image.shape and int(label) == 7
        rows, cols = (moved[0] == 1.0).nonzero(as_tuple=True)
        assert len(rows) == 1  # the ink moved, it was not duplicated or lost
        dy, dx = int(rows[0]) - 2, int(cols[0]) - 3
        assert -2 <= dy <= 2 and -2 <= dx <= 2
        assert torch.all((moved == 1.0) | (moved == -0.1))  # the uncovered border is background
        seen.add((dy, dx))
    assert len(seen) == 25  # every shift in the 5x5 range occurs


def test_random_shift_of_zero_is_the_identity_and_keeps_the_length():
    digits = data.load_digits("test")
    same = data.RandomShift(digits, max_shift=0)
    assert len(same) == len(digits)
    assert torch.equal(same[5][0], digits[5][0])


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_random_shift_rejects_bad_shifts(bad):
    with pytest.raises(ValueError, match="max_shift"):
        data.RandomShift(data.load_digits("test"), max_shift=bad)
