"""Tests of cnnzoo.data: the offline digits (grey and colour), full-mode loaders on fake files, seeded loaders."""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import socket
import struct
import time
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset
from sklearn.datasets import load_digits as sklearn_digits
from sklearn.datasets import load_sample_images
from sklearn.model_selection import train_test_split
from torchvision import datasets

from cnnzoo import data


# --------------------------------------------------------------------------- quick-mode digits


def test_digit_split_sizes_follow_the_stratified_80_20_split():
    labels = sklearn_digits().target
    assert len(labels) == 1797
    train_labels, test_labels = train_test_split(labels, test_size=0.2, random_state=0, stratify=labels)
    assert (len(train_labels), len(test_labels)) == (1437, 360)
    assert torch.equal(data.load_digits("train").tensors[1], torch.from_numpy(train_labels))  # same split, same order
    assert torch.equal(data.load_digits("test").tensors[1], torch.from_numpy(test_labels))


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


# --------------------------------------------------------------------------- quick-mode colour digits


@pytest.mark.parametrize("split, count", [("train", 1437 * 6), ("test", 360 * 5)])
def test_colour_digit_shapes_and_dtypes(split, count):
    images, labels = data.load_colour_digits(split).tensors
    assert images.shape == (count, 3, 32, 32) and images.dtype == torch.float32
    assert labels.shape == (count,) and labels.dtype == torch.int64
    assert data.COLOUR_DIGITS_CLASSES == tuple("0123456789")


def test_colour_digit_statistics_are_computed_from_the_seed_0_training_images():
    raw = data._colour_digit_arrays("train", 0)[0].astype(np.float64) / 255.0  # (N, 3, 32, 32)
    assert raw.mean(axis=(0, 2, 3)) == pytest.approx(data.COLOUR_DIGITS_MEAN, abs=5e-5)
    assert raw.std(axis=(0, 2, 3)) == pytest.approx(data.COLOUR_DIGITS_STD, abs=5e-5)


@pytest.mark.parametrize("seed, tolerance", [(0, 1e-3), (1, 0.05)])
def test_colour_digits_are_standardized_per_channel(seed, tolerance):
    images, _ = data.load_colour_digits("train", seed=seed).tensors
    assert images.mean(dim=(0, 2, 3)).tolist() == pytest.approx([0.0] * 3, abs=tolerance)
    assert images.std(dim=(0, 2, 3)).tolist() == pytest.approx([1.0] * 3, abs=tolerance)


def test_colour_digits_are_deterministic_by_seed():
    # __wrapped__ skips the cache, so the images are really generated twice.
    first = data._colour_digit_arrays.__wrapped__("test", 3)
    again = data._colour_digit_arrays.__wrapped__("test", 3)
    other = data._colour_digit_arrays.__wrapped__("test", 4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], other[0])
    assert torch.equal(data.load_colour_digits("test", seed=0).tensors[0], data.load_colour_digits("test").tensors[0])


def test_colour_digits_returned_tensors_are_not_shared_with_the_cache():
    images, labels = data.load_colour_digits("test").tensors
    before = images[0].clone()
    images.zero_()
    labels.zero_()
    again, again_labels = data.load_colour_digits("test").tensors
    assert torch.equal(again[0], before) and again_labels.max().item() == 9


def test_colour_digit_test_images_come_from_unseen_scans_and_unseen_photo_regions():
    digit_labels = sklearn_digits().target
    _, train_labels, train_sources, train_patches = data._colour_digit_arrays("train", 0)
    _, test_labels, test_sources, test_patches = data._colour_digit_arrays("test", 0)
    assert set(train_sources.tolist()).isdisjoint(test_sources.tolist())
    assert len(set(train_sources.tolist()) | set(test_sources.tolist())) == 1797
    assert np.array_equal(train_labels, digit_labels[train_sources])  # each label is its scan's
    assert np.array_equal(test_labels, digit_labels[test_sources])
    assert set(np.bincount(train_sources)[train_sources].tolist()) == {6}  # each scan on 6 backgrounds
    assert set(np.bincount(test_sources)[test_sources].tolist()) == {5}
    # Backgrounds (photo, top, left): training patches end by column 480, test patches start there.
    assert (train_patches[:, 2] + 32 <= 480).all() and (test_patches[:, 2] >= 480).all()
    assert (test_patches[:, 2] + 32 <= 640).all() and (test_patches[:, 1] + 32 <= 427).all()
    assert set(train_patches[:, 0].tolist()) == set(test_patches[:, 0].tolist()) == {0, 1}  # both photos


@pytest.mark.parametrize("split", ["train", "test"])
def test_colour_digit_classes_are_balanced(split):
    _, labels = data.load_colour_digits(split).tensors
    fraction = torch.bincount(labels, minlength=10).float() / len(labels)
    assert ((fraction - 0.1).abs() < 0.01).all()


def _blend_of(monkeypatch, ink: float):
    """The test images made from scans that are all ``ink`` (0 blank, 16 full), beside their backgrounds."""
    digits = sklearn_digits()
    digits.images = np.full_like(digits.images, ink)
    monkeypatch.setattr(data, "_sklearn_digits", lambda: digits)
    images, _, _, patches = data._colour_digit_arrays.__wrapped__("test", 0)
    photos = (np.stack(load_sample_images().images)).astype(np.int64)
    background = np.stack([photos[p, t : t + 32, l : l + 32].transpose(2, 0, 1) for p, t, l in patches])
    return images.astype(np.int64), background


def test_colour_digits_without_ink_are_the_photo_patches(monkeypatch):
    images, background = _blend_of(monkeypatch, ink=0.0)
    assert np.array_equal(images, background)


def test_colour_digits_blend_as_mnist_m_a_square_of_full_ink_inverts_the_photo(monkeypatch):
    images, background = _blend_of(monkeypatch, ink=16.0)  # each scan is a full square of ink
    inverted = images == 255 - background
    assert np.array_equal(inverted | (images == background), np.ones_like(inverted))  # |patch - ink|
    assert (inverted.all(axis=1) == inverted.any(axis=1)).all()  # the same place in every channel
    sides, places = [], set()
    for mask in inverted[:, 0]:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        side = len(rows)
        assert len(cols) == side and mask.sum() == side * side  # a filled square
        sides.append(side)
        places.add((rows[0], cols[0]))
    assert (min(sides), max(sides)) == data.DIGIT_SIDES == (12, 28)  # random scale, both ends reached
    assert len(places) > 100  # random position


@pytest.mark.parametrize("split", ["val", "Train", "", None])
def test_colour_digits_bad_split_is_a_value_error(split):
    with pytest.raises(ValueError, match="split"):
        data.load_colour_digits(split)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0", None])
def test_colour_digits_bad_seed_is_a_value_error(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        data.load_colour_digits("train", seed=seed)


# The models of the measurement in load_colour_digits's docstring (`python tests/test_data.py`
# repeats it); nothing in the package depends on them.


def _linear() -> nn.Module:
    """Pixels to classes: a linear classifier."""
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))


def _small_cnn(width: int, stages: int) -> nn.Module:
    """``stages`` times [3x3 conv, batch norm, ReLU, 2x2 max pool], channels width, 2 width, ...;
    then global average pooling and a linear layer."""
    layers: list[nn.Module] = []
    in_channels = 3
    for stage in range(stages):
        out_channels = width * 2**stage
        layers += [nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.BatchNorm2d(out_channels),
                   nn.ReLU(), nn.MaxPool2d(2)]
        in_channels = out_channels
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_channels, 10))


def _colour_accuracy(model: nn.Module, seed: int, epochs: int, lr: float) -> float:
    """Train on the colour digits of ``seed`` with Adam (batch 128); return the test accuracy."""
    train_x, train_y = data.load_colour_digits("train", seed=seed).tensors
    test_x, test_y = data.load_colour_digits("test", seed=seed).tensors
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    order = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(train_y), generator=order).split(128):
            loss = nn.functional.cross_entropy(model(train_x[batch]), train_y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        return (model(test_x).argmax(dim=1) == test_y).float().mean().item()


LINEAR_RUN = {"epochs": 20, "lr": 1e-3}
CNN_RUN = {"epochs": 3, "lr": 3e-3}


@pytest.mark.parametrize("seed", [0, 1])
def test_colour_digits_a_linear_classifier_is_poor_and_a_small_cnn_much_better(seed, one_thread):  # one thread, as measured
    torch.manual_seed(seed)
    linear = _colour_accuracy(_linear(), seed, **LINEAR_RUN)
    torch.manual_seed(seed)
    cnn = _colour_accuracy(_small_cnn(width=8, stages=4), seed, **CNN_RUN)  # about 5 s on one core
    assert linear < 0.3
    assert cnn > 0.5 and cnn > linear + 0.25


def _measure() -> None:
    """Print the table of load_colour_digits's docstring: test accuracy on seeds 0, 1, 2."""
    torch.set_num_threads(1)
    models = {"linear": _linear, **{
        f"CNN width {width}, {stages} stages": functools.partial(_small_cnn, width, stages)
        for width, stages in [(8, 2), (8, 3), (8, 4), (4, 4), (16, 4)]
    }}
    for name, build in models.items():
        accuracies, start = [], time.perf_counter()
        for seed in (0, 1, 2):
            torch.manual_seed(seed)
            accuracies.append(_colour_accuracy(build(), seed, **(LINEAR_RUN if name == "linear" else CNN_RUN)))
        seconds = (time.perf_counter() - start) / 3
        print(f"{name:24s} " + " ".join(f"{a:.1%}" for a in accuracies)
              + f"  mean {np.mean(accuracies):.1%}  {seconds:.1f} s of training and testing per seed")


# --------------------------------------------------------------------------- full mode, offline


@pytest.mark.parametrize("loader, name", [(data.mnist, "MNIST"), (data.cifar10, "CIFAR-10")])
def test_missing_dataset_without_download_is_a_clear_error(tmp_path, monkeypatch, loader, name):
    def no_network(*args, **kwargs):
        raise AssertionError("the loader tried the network without download=True")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(data.DatasetUnavailableError, match="download=True") as info:
        loader(root=tmp_path, download=False)
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


# --------------------------------------------------------------------------- full mode, on fake files
# The files below are written by the tests in torchvision's on-disk formats and read through
# the real code path (torchvision's dataset classes, then our transforms); no network.


def _write_idx(path: Path, magic: int, array: np.ndarray) -> None:
    """An MNIST idx file: big-endian magic number and sizes, then the uint8 values."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(f">{1 + array.ndim}I", magic, *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _fake_mnist(root: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A few 28x28 digits in MNIST/raw/, as torchvision reads them (no processed/ folder)."""
    written = {}
    for prefix, count in (("train", 5), ("t10k", 3)):
        images = np.zeros((count, 28, 28), dtype=np.uint8)
        for i in range(count):
            images[i, 3 + i : 9 + i, 10:14] = 255  # a full-ink stroke, a different place in each image
            images[i, 20, 20 + i] = 51             # one faint pixel: 51 / 255 = 0.2 of full ink
        labels = (np.arange(count) * 3 + (prefix == "t10k")) % 10
        _write_idx(root / "MNIST" / "raw" / f"{prefix}-images-idx3-ubyte", 2051, images)
        _write_idx(root / "MNIST" / "raw" / f"{prefix}-labels-idx1-ubyte", 2049, labels)
        written[prefix] = images, labels
    return written


@pytest.mark.parametrize("train, prefix", [(True, "train"), (False, "t10k")])
def test_mnist_reads_torchvision_files_pads_and_normalizes(tmp_path, train, prefix):
    raw_images, raw_labels = _fake_mnist(tmp_path)[prefix]
    mnist = data.mnist(root=tmp_path, train=train)
    assert len(mnist) == len(raw_labels)
    for (image, label), raw, raw_label in zip(mnist, raw_images, raw_labels):
        assert image.dtype == torch.float32 and image.shape == (1, 32, 32)
        assert label == raw_label
        expected = torch.full((1, 32, 32), -0.1)  # background, and the 2-pixel border
        expected[0, 2:30, 2:30] += torch.from_numpy(raw / 255.0).float() * 1.275
        assert torch.allclose(image, expected, atol=1e-6)
        assert image.max().item() == pytest.approx(1.175)  # full ink
        assert image[0, 22, 22:].max().item() == pytest.approx(0.2 * 1.275 - 0.1)  # the faint pixel, moved by 2


def test_mnist_reads_torchvision_files_at_a_smaller_size(tmp_path):
    _fake_mnist(tmp_path)
    image, _ = data.mnist(root=tmp_path, image_size=16)[0]
    assert image.shape == (1, 16, 16)
    border = torch.ones(16, 16, dtype=torch.bool)
    border[2:-2, 2:-2] = False
    assert torch.allclose(image[0, border], torch.tensor(-0.1))
    assert image.max().item() > 0.5  # the stroke survives the resizing


def _fake_cifar10(root: Path) -> dict[str, tuple[np.ndarray, list[int]]]:
    """Two images per training batch and three test images, pickled as CIFAR-10's python version."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    written = {}
    for index, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        count = 3 if name == "test_batch" else 2
        images = rng.integers(0, 256, size=(count, 3, 32, 32), dtype=np.uint8)
        images[0] = 0
        images[0, 0] = 255  # the first image of each file is pure red
        labels = [(index + i) % 10 for i in range(count)]
        batch = {"batch_label": name, "data": images.reshape(count, 3072), "labels": labels}
        (folder / name).write_bytes(pickle.dumps(batch))
        written[name] = images, labels
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": list(data.CIFAR10_CLASSES)}))
    return written


def _accept_fake_cifar10_md5s(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """torchvision checks each CIFAR-10 file against the real file's md5. Our fake files have
    other md5s, so the test sets the class's expected md5s to those of the files it wrote;
    the check itself still runs, and a missing or changed file still fails it."""
    folder = root / "cifar-10-batches-py"
    md5 = {name: hashlib.md5((folder / name).read_bytes()).hexdigest() for name in os.listdir(folder)}
    cifar = datasets.CIFAR10
    monkeypatch.setattr(cifar, "train_list", [[name, md5[name]] for name, _ in cifar.train_list])
    monkeypatch.setattr(cifar, "test_list", [[name, md5[name]] for name, _ in cifar.test_list])
    monkeypatch.setattr(cifar, "meta", {**cifar.meta, "md5": md5[cifar.meta["filename"]]})


@pytest.mark.parametrize("train, batches", [
    (True, [f"data_batch_{i}" for i in range(1, 6)]),
    (False, ["test_batch"]),
])
def test_cifar10_reads_torchvision_files_and_standardizes_each_channel(tmp_path, monkeypatch, train, batches):
    written = _fake_cifar10(tmp_path)
    _accept_fake_cifar10_md5s(tmp_path, monkeypatch)
    cifar = data.cifar10(root=tmp_path, train=train)
    raw_images = np.concatenate([written[name][0] for name in batches])
    raw_labels = [label for name in batches for label in written[name][1]]
    assert len(cifar) == len(raw_labels)
    mean = torch.tensor(data.CIFAR10_MEAN).view(3, 1, 1)
    std = torch.tensor(data.CIFAR10_STD).view(3, 1, 1)
    for (image, label), raw, raw_label in zip(cifar, raw_images, raw_labels):
        assert image.dtype == torch.float32 and image.shape == (3, 32, 32)
        assert label == raw_label
        assert torch.allclose(image, (torch.from_numpy(raw) / 255.0 - mean) / std, atol=1e-5)
    red, _ = cifar[0]  # pure red: channel 0 is full, channels 1 and 2 are zero
    assert torch.allclose(red[:, 0, 0], (torch.tensor([1.0, 0.0, 0.0]) - mean[:, 0, 0]) / std[:, 0, 0])


def test_cifar10_with_a_changed_file_is_a_clear_error(tmp_path, monkeypatch):
    _fake_cifar10(tmp_path)
    _accept_fake_cifar10_md5s(tmp_path, monkeypatch)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"truncated")
    with pytest.raises(data.DatasetUnavailableError, match="CIFAR-10"):
        data.cifar10(root=tmp_path)


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


# --------------------------------------------------------------------------- PadCropFlip, splits (ResNet, Sec. 4.2)


def _where(window: torch.Tensor, image: torch.Tensor, padding: int) -> tuple[bool, int, int] | None:
    """(flipped, dy, dx) such that ``window`` is ``image`` (flipped or not) moved by (dy, dx), zeros around."""
    height, width = image.shape[-2:]
    for flipped in (False, True):
        source = image.flip(-1) if flipped else image
        padded = torch.nn.functional.pad(source, (padding,) * 4)
        for top in range(2 * padding + 1):
            for left in range(2 * padding + 1):
                if torch.equal(padded[..., top : top + height, left : left + width], window):
                    return flipped, top - padding, left - padding
    return None


def test_pad_crop_flip_gives_every_shift_and_both_flips_with_zeros_around():
    torch.manual_seed(0)
    image = torch.rand(3, 8, 8) + 1.0  # no zero inside, so the zeros seen are the padding's
    augmented = data.PadCropFlip(TensorDataset(image.unsqueeze(0), torch.tensor([4])), padding=2)
    seen = set()
    for _ in range(400):
        window, label = augmented[0]
        assert window.shape == image.shape and int(label) == 4
        where = _where(window, image, 2)
        assert where is not None  # a crop of the zero-padded image or of its mirror image
        seen.add(where)
    assert {flipped for flipped, _, _ in seen} == {False, True}
    assert {(dy, dx) for _, dy, dx in seen} == {(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)}


def test_pad_crop_flip_flips_about_half_the_reads():
    torch.manual_seed(1)
    image = torch.arange(16.0).view(1, 4, 4) + 1.0
    augmented = data.PadCropFlip(TensorDataset(image.unsqueeze(0), torch.tensor([0])), padding=0)
    flips = sum(torch.equal(augmented[0][0], image.flip(-1)) for _ in range(400))
    assert 150 < flips < 250


def test_pad_crop_flip_without_padding_or_flip_is_the_identity_and_repeats_with_the_seed():
    digits = data.load_digits("test")
    same = data.PadCropFlip(digits, padding=0, flip=False)
    assert len(same) == len(digits) and torch.equal(same[3][0], digits[3][0])
    augmented = data.PadCropFlip(digits)
    torch.manual_seed(5)
    first = [augmented[k][0] for k in range(5)]
    torch.manual_seed(5)
    assert all(torch.equal(a, augmented[k][0]) for k, a in enumerate(first))


@pytest.mark.parametrize("kwargs", [{"padding": -1}, {"padding": 1.5}, {"padding": True}, {"flip": 1}])
def test_pad_crop_flip_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        data.PadCropFlip(data.load_digits("test"), **kwargs)


def test_train_val_split_is_disjoint_complete_and_repeatable():
    dataset = TensorDataset(torch.arange(100.0), torch.arange(100))
    train, val = data.train_val_split(dataset, 10, seed=3)
    assert len(train) == 90 and len(val) == 10
    assert sorted(train.indices + val.indices) == list(range(100))
    again_train, again_val = data.train_val_split(dataset, 10, seed=3)
    assert again_val.indices == val.indices and again_train.indices == train.indices
    assert data.train_val_split(dataset, 10, seed=4)[1].indices != val.indices
    assert val.indices != list(range(10))  # chosen at random, not the first ten


@pytest.mark.parametrize("val_size", [0, 100, -1, 2.5, True])
def test_train_val_split_rejects_bad_sizes(val_size):
    with pytest.raises(ValueError, match="val_size"):
        data.train_val_split(TensorDataset(torch.zeros(100)), val_size)


def test_cifar10_splits_read_fake_files_hold_out_validation_and_augment_only_training(tmp_path, monkeypatch):
    written = _fake_cifar10(tmp_path)
    _accept_fake_cifar10_md5s(tmp_path, monkeypatch)
    train, val, test = data.cifar10_splits(root=tmp_path, val_size=3, seed=0)
    plain = data.cifar10(root=tmp_path, train=True)
    assert (len(train), len(val), len(test)) == (7, 3, 3)
    assert isinstance(train, data.PadCropFlip) and train.padding == 4 and train.flip
    assert sorted(train.dataset.indices + val.indices) == list(range(10))
    for k, index in enumerate(val.indices):  # validation images are read as they are
        assert torch.equal(val[k][0], plain[index][0])
    torch.manual_seed(0)
    for k, index in enumerate(train.dataset.indices):  # training images are crops of the padded image or its flip
        window, label = train[k]
        assert label == plain[index][1] and _where(window, plain[index][0], 4) is not None
    raw_test = torch.from_numpy(written["test_batch"][0][1]) / 255.0
    mean, std = torch.tensor(data.CIFAR10_MEAN).view(3, 1, 1), torch.tensor(data.CIFAR10_STD).view(3, 1, 1)
    assert torch.allclose(test[1][0], (raw_test - mean) / std, atol=1e-5)
    loader = torch.utils.data.DataLoader(train, batch_size=4)
    images, labels = next(iter(loader))
    assert images.shape == (4, 3, 32, 32) and labels.shape == (4,)


def test_cifar10_splits_without_files_is_a_clear_error(tmp_path):
    with pytest.raises(data.DatasetUnavailableError, match="CIFAR-10"):
        data.cifar10_splits(root=tmp_path)


if __name__ == "__main__":
    _measure()
