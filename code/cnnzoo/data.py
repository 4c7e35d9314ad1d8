"""Data for the chapters: offline quick-mode digits, and MNIST / CIFAR-10 on request.

Quick mode uses scikit-learn's handwritten digits (1,797 real 8x8 scans, shipped with
scikit-learn), so every chapter runs without a network in seconds. Full mode uses MNIST
and CIFAR-10 through ``torchvision.datasets``; they are downloaded only when the reader
passes ``download=True``.

Digits are prepared as LeCun et al. (1998), Section II.B, prepared MNIST for LeNet-5:

    * the digit is padded into a larger field (28x28 into 32x32), so that the ends of the
      strokes can reach the centre of the receptive fields of the top feature detectors;
    * pixel values are mapped so that the background (white) is -0.1 and the ink (black)
      is 1.175, which "makes the mean input roughly 0, and the variance roughly 1".

Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning applied to
document recognition", Proceedings of the IEEE 86(11), 1998.
"""

from __future__ import annotations

import functools
import socket
import urllib.error
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits as _sklearn_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, Dataset, TensorDataset
from torchvision import datasets, transforms

__all__ = [
    "DIGITS_CLASSES",
    "MNIST_CLASSES",
    "CIFAR10_CLASSES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "DatasetUnavailableError",
    "lecun_normalize",
    "load_digits",
    "mnist",
    "cifar10",
    "RandomShift",
    "make_loaders",
]

DIGITS_CLASSES = tuple("0123456789")
MNIST_CLASSES = DIGITS_CLASSES
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)

# LeCun et al. (1998), Section II.B: background -> -0.1, ink -> 1.175.
BACKGROUND = -0.1
FOREGROUND = 1.175

# Per-channel mean and standard deviation of the 50,000 CIFAR-10 training images, over all
# their pixels, after ToTensor (values in [0, 1]). Many repositories copy a std of
# (0.2023, 0.1994, 0.2010) instead: that is the mean of the per-image stds, not the std.
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)

DOWNLOAD_TIMEOUT_S = 30.0  # seconds a download may wait on the network before it fails
PADDING = 2                # pixels of background on each side (28x28 -> 32x32 for MNIST)


class DatasetUnavailableError(RuntimeError):
    """A full-mode dataset is not on disk, or could not be downloaded."""


# --------------------------------------------------------------------------- helpers


def lecun_normalize(x: torch.Tensor) -> torch.Tensor:
    """Map ink values in [0, 1] (0 = background) to [-0.1, 1.175]: x * 1.275 - 0.1.

    LeCun et al. (1998), Section II.B: the background is -0.1 and the foreground 1.175,
    which makes the mean input roughly 0 and the variance roughly 1.
    """
    return x * (FOREGROUND - BACKGROUND) + BACKGROUND


def _check_image_size(image_size: object) -> None:
    if not isinstance(image_size, int) or isinstance(image_size, bool) or image_size < 12:
        raise ValueError(f"image_size must be an integer >= 12 (the digit plus a 2-pixel border); got {image_size!r}")


@functools.lru_cache(maxsize=1)
def _digit_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's digits, split once: train images, train labels, test images, test labels."""
    digits = _sklearn_digits()
    images = digits.images.astype(np.float32) / 16.0  # (1797, 8, 8), ink in [0, 1]
    labels = digits.target.astype(np.int64)           # (1797,)
    train_x, test_x, train_y, test_y = train_test_split(
        images, labels, test_size=0.2, random_state=0, stratify=labels
    )
    return train_x, train_y, test_x, test_y


# --------------------------------------------------------------------------- quick mode


def load_digits(split: str = "train", image_size: int = 32) -> TensorDataset:
    """scikit-learn's handwritten digits, prepared like LeNet-5's MNIST; no network needed.

    The 1,797 images are split 80/20, stratified by class, with a fixed seed (1,437 train,
    360 test). Each 8x8 image is resized bilinearly to (image_size - 4) pixels a side,
    padded with 2 pixels of background on each side, and normalized so that the background
    is -0.1 and the ink 1.175 (LeCun et al. 1998, Section II.B).

    Args:
        split: ``"train"`` or ``"test"``.
        image_size: the side of the returned images (32 for LeNet-5); at least 12.

    Returns:
        A ``TensorDataset`` of float32 images (N, 1, image_size, image_size) and int64 labels (N,).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    _check_image_size(image_size)
    train_x, train_y, test_x, test_y = _digit_arrays()
    images, labels = (train_x, train_y) if split == "train" else (test_x, test_y)

    x = torch.from_numpy(images).unsqueeze(1)  # (N, 1, 8, 8)
    inner = image_size - 2 * PADDING
    x = F.interpolate(x, size=(inner, inner), mode="bilinear", align_corners=False)  # (N, 1, inner, inner)
    x = x.clamp(0.0, 1.0)                      # guard against rounding just outside [0, 1]
    x = F.pad(x, (PADDING,) * 4, value=0.0)    # (N, 1, image_size, image_size), border = background
    x = lecun_normalize(x)
    y = torch.from_numpy(labels.copy())
    return TensorDataset(x, y)


# --------------------------------------------------------------------------- full mode


def _open(dataset_class: type, name: str, size: str, root: str | Path, train: bool, download: bool,
          transform: transforms.Compose) -> Dataset:
    """Build a torchvision dataset, turning a missing file or a failed download into a clear error."""
    root_text = f"{Path(root).as_posix().rstrip('/')}/"
    if not download:
        try:
            return dataset_class(root=str(root), train=train, transform=transform, download=False)
        except RuntimeError as error:  # torchvision: "Dataset not found ..."
            raise DatasetUnavailableError(
                f"{name} is not under {root_text!r}. Pass download=True to fetch it (about {size}), "
                "or put the files there."
            ) from error

    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)  # fail instead of hanging on a dead network
    try:
        return dataset_class(root=str(root), train=train, transform=transform, download=True)
    except (urllib.error.URLError, socket.timeout, OSError, RuntimeError) as error:
        raise DatasetUnavailableError(
            f"Could not download {name} (about {size}) into {root_text!r}: there seems to be no "
            f"network connection ({type(error).__name__}: {error}). Use the quick-mode digits "
            "(cnnzoo.data.load_digits), or copy the files there by hand."
        ) from error
    finally:
        socket.setdefaulttimeout(previous_timeout)


def mnist(root: str | Path = "data", train: bool = True, download: bool = False, image_size: int = 32) -> Dataset:
    """MNIST, padded from 28x28 to 32x32 and normalized as LeCun et al. (1998), Section II.B.

    Args:
        root: the folder that holds (or will hold) torchvision's ``MNIST/`` folder.
        train: the 60,000 training images if True, else the 10,000 test images.
        download: fetch the files (about 12 MB) if they are not under ``root``.
        image_size: the side of the returned images; the digit is resized to
            (image_size - 4) and padded with 2 pixels on each side (32: no resizing).

    Returns:
        A dataset of (float32 image (1, image_size, image_size), int label) pairs,
        background -0.1, ink 1.175.

    Raises:
        DatasetUnavailableError: if the files are missing and ``download`` is False, or the
            download fails.
    """
    _check_image_size(image_size)
    steps: list = [transforms.ToTensor()]  # (1, 28, 28), ink in [0, 1]
    inner = image_size - 2 * PADDING
    if inner != 28:
        steps.append(transforms.Resize((inner, inner), antialias=True))
    steps += [
        transforms.Pad(PADDING, fill=0),       # background border: (1, image_size, image_size)
        transforms.Lambda(lecun_normalize),    # background -0.1, ink 1.175
    ]
    return _open(datasets.MNIST, "MNIST", "12 MB", root, train, download, transforms.Compose(steps))


def cifar10(root: str | Path = "data", train: bool = True, download: bool = False) -> Dataset:
    """CIFAR-10, each channel standardized with the training set's mean and std.

    Args:
        root: the folder that holds (or will hold) ``cifar-10-batches-py/``.
        train: the 50,000 training images if True, else the 10,000 test images.
        download: fetch the archive (about 170 MB) if it is not under ``root``.

    Returns:
        A dataset of (float32 image (3, 32, 32), int label) pairs; the labels name
        ``CIFAR10_CLASSES``.

    Raises:
        DatasetUnavailableError: if the files are missing and ``download`` is False, or the
            download fails.
    """
    transform = transforms.Compose([
        transforms.ToTensor(),                          # (3, 32, 32), values in [0, 1]
        transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD),  # (x - mean) / std, per channel
    ])
    return _open(datasets.CIFAR10, "CIFAR-10", "170 MB", root, train, download, transform)


# --------------------------------------------------------------------------- distortions


class RandomShift(Dataset):
    """A dataset whose images are moved by a random whole number of pixels each time they are read.

    Each image moves by up to ``max_shift`` pixels up or down and left or right, and the
    uncovered border is filled with the image's background (its top-left pixel). LeCun et
    al. (1998, Sec. III.C) trained on distorted copies of the digits in the same spirit
    (random translations, scalings and shears), which lowered LeNet-5's test error on MNIST
    from 0.95% to 0.8%. The random numbers come from ``torch``'s global generator, so
    ``training.seed_everything`` makes them repeatable.

    Args:
        dataset: yields ``(image, label)`` with images of shape (C, H, W).
        max_shift: the largest shift in pixels, a non-negative int.
    """

    def __init__(self, dataset: Dataset, max_shift: int = 2) -> None:
        if not isinstance(max_shift, int) or isinstance(max_shift, bool) or max_shift < 0:
            raise ValueError(f"max_shift must be a non-negative int; got {max_shift!r}")
        self.dataset = dataset
        self.max_shift = max_shift

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, label = self.dataset[index]
        m = self.max_shift
        if m == 0:
            return image, label
        dy, dx = (torch.randint(-m, m + 1, (2,))).tolist()
        height, width = image.shape[-2:]
        padded = F.pad(image, (m, m, m, m), value=float(image[..., 0, 0].flatten()[0]))
        top, left = m - dy, m - dx  # content moves down by dy and right by dx
        return padded[..., top : top + height, left : left + width], label


# --------------------------------------------------------------------------- loaders


def make_loaders(
    train_set: Dataset, test_set: Dataset, batch_size: int = 64, seed: int = 0
) -> tuple[DataLoader, DataLoader]:
    """Data loaders for training (shuffled, seeded) and testing (in order).

    Args:
        train_set: the training dataset; its order is shuffled each epoch by a
            ``torch.Generator`` seeded with ``seed``. New loaders with the same seed repeat
            the same sequence of orders; reusing a loader continues it.
        test_set: the test dataset, read in order.
        batch_size: examples per batch.
        seed: the seed of the shuffling.

    Returns:
        ``(train_loader, test_loader)``, both with ``num_workers=0`` (no worker processes).
    """
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    generator = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=generator, num_workers=0)
    test_loader = DataLoader(test_set, batch_size=batch_size, shuffle=False, num_workers=0)
    return train_loader, test_loader
