"""Data for the chapters: offline quick-mode datasets, and MNIST / CIFAR-10 on request.

Quick mode needs no network and runs in seconds. It has two datasets, both built from
what scikit-learn ships:

    * ``load_digits``: its handwritten digits (1,797 real 8x8 scans), grey, prepared like
      LeNet-5's MNIST (below); easy enough that a linear classifier does well.
    * ``load_colour_digits``: the same digits at random sizes and places, blended over
      patches of its two colour photographs as MNIST-M (Ganin et al. 2016) blends MNIST
      over photographs; 3x32x32, for the ImageNet-era chapters, hard for a linear
      classifier and sensitive to a network's depth.

Full mode uses MNIST and CIFAR-10 through ``torchvision.datasets``; they are downloaded
only when the reader passes ``download=True``.

The grey digits and MNIST are prepared as LeCun et al. (1998), Section II.B, prepared
MNIST for LeNet-5:

    * the digit is padded into a larger field (28x28 into 32x32), so that the ends of the
      strokes can reach the centre of the receptive fields of the top feature detectors;
    * pixel values are mapped so that the background (white) is -0.1 and the ink (black)
      is 1.175, which on MNIST, the paper says, "makes the mean input roughly 0, and the
      variance roughly 1". On the quick-mode digits it does not: scaled up, they fill their
      box with ink, and the mean is about 0.20 and the variance about 0.16 (measured in the
      LeNet-5 chapter, section 4).

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
from sklearn.datasets import load_sample_images
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset
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
    "COLOUR_DIGITS_CLASSES",
    "COLOUR_DIGITS_MEAN",
    "COLOUR_DIGITS_STD",
    "load_colour_digits",
    "mnist",
    "cifar10",
    "RandomShift",
    "PadCropFlip",
    "train_val_split",
    "cifar10_splits",
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
    which, the paper says, makes MNIST's mean input roughly 0 and its variance roughly 1
    (other images, with more or less ink, get other statistics).
    """
    return x * (FOREGROUND - BACKGROUND) + BACKGROUND


def _check_image_size(image_size: object) -> None:
    if not isinstance(image_size, int) or isinstance(image_size, bool) or image_size < 12:
        raise ValueError(f"image_size must be an integer >= 12 (the digit plus a 2-pixel border); got {image_size!r}")


@functools.lru_cache(maxsize=1)
def _digit_split() -> tuple[np.ndarray, np.ndarray]:
    """Indices into scikit-learn's 1,797 digits: 1,437 for training, 360 for testing.

    An 80/20 split, stratified by class, with a fixed seed; the quick-mode digits and the
    colour digits use the same split, so that no test image comes from a training scan.
    """
    labels = _sklearn_digits().target
    train_index, test_index = train_test_split(
        np.arange(len(labels)), test_size=0.2, random_state=0, stratify=labels
    )
    return train_index, test_index


@functools.lru_cache(maxsize=1)
def _digit_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's digits, split once: train images, train labels, test images, test labels."""
    digits = _sklearn_digits()
    images = digits.images.astype(np.float32) / 16.0  # (1797, 8, 8), ink in [0, 1]
    labels = digits.target.astype(np.int64)           # (1797,)
    train_index, test_index = _digit_split()
    return images[train_index], labels[train_index], images[test_index], labels[test_index]


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


# --------------------------------------------------------------------------- quick mode, in colour

# The colour digits: MNIST-M's construction (Ganin et al. 2016) on scikit-learn's digits and photographs.
COLOUR_DIGITS_CLASSES = DIGITS_CLASSES
COLOUR_SIZE = 32                         # side of the images, in pixels
COLOUR_COPIES = {"train": 6, "test": 5}  # photo backgrounds per source digit: 8,622 train, 1,800 test images
DIGIT_SIDES = (12, 28)                   # smallest and largest side of a pasted digit, in pixels
PHOTO_SPLIT_COLUMN = 480                 # train backgrounds lie left of this column of a photo, test ones right

# Per-channel mean and standard deviation of the training images of seed 0, over all their
# pixels, with values in [0, 1] (a test recomputes them).
COLOUR_DIGITS_MEAN = (0.4170, 0.4040, 0.3707)
COLOUR_DIGITS_STD = (0.3374, 0.2774, 0.2970)


@functools.lru_cache(maxsize=1)
def _photos() -> np.ndarray:
    """scikit-learn's two photographs (china.jpg, flower.jpg): float32 (2, 427, 640, 3) in [0, 1]."""
    return np.stack(load_sample_images().images).astype(np.float32) / 255.0


@functools.lru_cache(maxsize=4)
def _colour_digit_arrays(split: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The colour digits of one split, before standardization.

    Returns:
        ``(images, labels, sources, patches)``: uint8 images (N, 3, 32, 32); int64 labels (N,);
        the index of each image's source digit in scikit-learn's 1,797 (N,); and where its
        background was cut, as (photo, top, left) rows (N, 3).
    """
    rng = np.random.default_rng((seed, 0 if split == "train" else 1))
    digits = _sklearn_digits()
    train_index, test_index = _digit_split()
    sources = np.tile(train_index if split == "train" else test_index, COLOUR_COPIES[split])  # (N,)
    n, side = len(sources), COLOUR_SIZE

    # 1. Each digit is scaled to a random side and pasted at a random place on a blank field.
    sides = rng.integers(DIGIT_SIDES[0], DIGIT_SIDES[1] + 1, size=n)
    tops = rng.integers(0, side - sides + 1)
    lefts = rng.integers(0, side - sides + 1)
    ink = np.zeros((n, side, side), dtype=np.float32)  # (N, 32, 32), ink in [0, 1]
    scans = torch.from_numpy(digits.images[sources].astype(np.float32) / 16.0).unsqueeze(1)  # (N, 1, 8, 8)
    for digit_side in np.unique(sides):
        chosen = np.flatnonzero(sides == digit_side)
        scaled = F.interpolate(scans[chosen], size=(int(digit_side),) * 2, mode="bilinear", align_corners=False)
        scaled = scaled.clamp(0.0, 1.0).squeeze(1).numpy()  # (n_chosen, digit_side, digit_side)
        for i, digit in zip(chosen, scaled):
            ink[i, tops[i] : tops[i] + digit_side, lefts[i] : lefts[i] + digit_side] = digit

    # 2. Each background is a 32x32 patch of one of the two photographs, cut left of
    #    PHOTO_SPLIT_COLUMN for training and right of it for testing.
    photos = _photos()
    if split == "train":  # first and last column where a patch may start
        first, last = 0, PHOTO_SPLIT_COLUMN - side
    else:
        first, last = PHOTO_SPLIT_COLUMN, photos.shape[2] - side
    patches = np.stack([
        rng.integers(0, len(photos), size=n),                # photo
        rng.integers(0, photos.shape[1] - side + 1, size=n),  # top
        rng.integers(first, last + 1, size=n),               # left
    ], axis=1)
    background = np.stack([photos[p, t : t + side, l : l + side] for p, t, l in patches])  # (N, 32, 32, 3)

    # 3. MNIST-M's blend: |patch - digit|, so the ink inverts the photo's colours.
    images = np.abs(background - ink[..., None])                   # (N, 32, 32, 3) in [0, 1]
    images = np.round(images * 255).astype(np.uint8).transpose(0, 3, 1, 2)  # (N, 3, 32, 32)
    return images, digits.target[sources].astype(np.int64), sources, patches


def load_colour_digits(split: str = "train", seed: int = 0) -> TensorDataset:
    """Colour digits on photographs, 3x32x32, 10 classes: an offline dataset on which architecture matters.

    The construction is MNIST-M's (Ganin and Lempitsky 2015; Ganin et al. 2016), which
    blends MNIST digits over random patches of the BSDS500 photographs, with what
    scikit-learn ships in their place: its 1,797 8x8 digits and its two photographs
    (``china.jpg``, ``flower.jpg``, 427x640). Each image is made in three steps:

    1. a digit scan is scaled bilinearly to a random side of 12 to 28 pixels and put at a
       random place on a 32x32 field (ink in [0, 1]);
    2. a random 32x32 patch is cut from one of the two photographs;
    3. the two are blended as MNIST-M does, ``|patch - ink|``: where there is no ink the
       photo is unchanged, where the ink is full its colours are inverted.

    The split follows ``load_digits``: the 1,437 training scans make the training images
    (6 backgrounds each, 8,622 images) and the 360 test scans the test images (5 each,
    1,800), so no test image shows a scan seen in training. Training backgrounds are cut
    from the left three quarters of each photograph (columns 0 to 479) and test backgrounds
    from the rest, so no test background overlaps a training one. Each channel is then
    standardized with ``COLOUR_DIGITS_MEAN`` and ``COLOUR_DIGITS_STD`` (the statistics of
    the training images of seed 0). The images are generated once per (split, seed), in
    under two seconds, and kept in memory (uint8, 26 MB for the training split).

    Measured with ``python tests/test_data.py`` (one CPU thread; Adam, batch 128; seed s
    for the data, the initial weights and the order of the examples; the linear classifier
    trained for 20 epochs at learning rate 1e-3, the CNNs for 3 epochs at 3e-3). A CNN of
    width w and k stages has k stages of [3x3 conv, batch norm, ReLU, 2x2 max pool] with
    w, 2w, 4w, ... channels, then global average pooling and a linear layer. Test accuracy:

    ==========================  ======  ======  ======  =====
    model                       seed 0  seed 1  seed 2  mean
    ==========================  ======  ======  ======  =====
    linear (pixels to classes)  15.9%   15.9%   14.4%   15.4%
    CNN, width 8, 2 stages      19.0%   20.6%   18.5%   19.4%
    CNN, width 8, 3 stages      23.2%   45.1%   25.9%   31.4%
    CNN, width 8, 4 stages      68.6%   72.8%   74.6%   72.0%
    CNN, width 4, 4 stages      62.1%   60.9%   66.6%   63.2%
    CNN, width 16, 4 stages     79.7%   73.6%   80.4%   77.9%
    ==========================  ======  ======  ======  =====

    Training the width-8, 4-stage CNN for its 3 epochs took 4.9 s on a lightly loaded core
    (about 10 s with generation and testing on a busy shared 2-core machine). So a linear
    classifier is poor, a small CNN does much better within seconds, and both depth and
    width change the result; depth most, because with global average pooling a network of
    two or three 2x2 poolings sees too little of a digit that can be 28 pixels wide.
    Three epochs are short, so single runs vary by several points; the ranking held on
    every seed.
    ``tests/test_data.py`` holds these models and checks the linear-versus-CNN claim.

    Args:
        split: ``"train"`` or ``"test"``.
        seed: a non-negative int; the same seed gives the same images, another seed others.

    Returns:
        A ``TensorDataset`` of float32 images (N, 3, 32, 32) and int64 labels (N,) that
        name ``COLOUR_DIGITS_CLASSES``.

    References:
        Y. Ganin, E. Ustinova, H. Ajakan, P. Germain, H. Larochelle, F. Laviolette,
        M. Marchand and V. Lempitsky, "Domain-adversarial training of neural networks",
        JMLR 17(59), 2016. Y. Ganin and V. Lempitsky, "Unsupervised domain adaptation by
        backpropagation", ICML 2015.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    images, labels, _, _ = _colour_digit_arrays(split, seed)
    x = torch.from_numpy(images).float() / 255.0  # (N, 3, 32, 32) in [0, 1], a fresh tensor
    mean = torch.tensor(COLOUR_DIGITS_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(COLOUR_DIGITS_STD).view(1, 3, 1, 1)
    return TensorDataset((x - mean) / std, torch.from_numpy(labels.copy()))


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


class PadCropFlip(Dataset):
    """He et al.'s CIFAR-10 augmentation: pad, take a random crop of the original size, flip half of them.

    "4 pixels are padded on each side, and a 32x32 crop is randomly sampled from the padded
    image or its horizontal flip" (He et al. 2016, Sec. 4.2). The padding is zeros; on images
    standardized per channel (``cifar10``) zero is the mean colour, as on the paper's images,
    from which the per-pixel mean was subtracted. The random numbers come from ``torch``'s
    global generator, so ``training.seed_everything`` makes them repeatable.

    Args:
        dataset: yields ``(image, label)`` with images of shape (C, H, W).
        padding: pixels of zeros added on each side, a non-negative int (the paper's 4).
        flip: flip each read image left to right with probability 1/2.
    """

    def __init__(self, dataset: Dataset, padding: int = 4, flip: bool = True) -> None:
        if not isinstance(padding, int) or isinstance(padding, bool) or padding < 0:
            raise ValueError(f"padding must be a non-negative int; got {padding!r}")
        if not isinstance(flip, bool):
            raise ValueError(f"flip must be True or False; got {flip!r}")
        self.dataset = dataset
        self.padding = padding
        self.flip = flip

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, label = self.dataset[index]
        if self.flip and torch.rand(()).item() < 0.5:
            image = image.flip(-1)  # the horizontal flip: left and right swap
        p = self.padding
        if p == 0:
            return image, label
        height, width = image.shape[-2:]
        padded = F.pad(image, (p, p, p, p))  # (C, H + 2p, W + 2p), zeros around
        top, left = torch.randint(0, 2 * p + 1, (2,)).tolist()
        return padded[..., top : top + height, left : left + width], label


def train_val_split(dataset: Dataset, val_size: int, seed: int = 0) -> tuple[Subset, Subset]:
    """Split ``dataset`` at random into a training part and a validation part of ``val_size`` examples.

    He et al. (2016, Sec. 4.2) chose their CIFAR-10 schedule "on a 45k/5k train/val split" of the
    50,000 training images: ``train_val_split(cifar10(), 5000)``. The paper does not say which
    5,000; here a permutation seeded by ``seed`` chooses them, the same ones on every call.

    Args:
        dataset: any dataset with a length.
        val_size: how many examples go to validation, 1 to ``len(dataset) - 1``.
        seed: the seed of the permutation.

    Returns:
        ``(train, val)``, two ``Subset`` views of ``dataset`` that share no example.
    """
    total = len(dataset)
    if not isinstance(val_size, int) or isinstance(val_size, bool) or not 0 < val_size < total:
        raise ValueError(f"val_size must be an int from 1 to {total - 1} (the dataset has {total}); got {val_size!r}")
    order = torch.randperm(total, generator=torch.Generator().manual_seed(seed)).tolist()
    return Subset(dataset, order[val_size:]), Subset(dataset, order[:val_size])


def cifar10_splits(
    root: str | Path = "data", download: bool = False, val_size: int = 5000, seed: int = 0
) -> tuple[Dataset, Dataset, Dataset]:
    """CIFAR-10 as He et al. (2016, Sec. 4.2) train on it: 45k augmented / 5k validation, and the test set.

    Args:
        root: the folder that holds (or will hold) ``cifar-10-batches-py/``.
        download: fetch the archive (about 170 MB) if it is not under ``root``.
        val_size: training images held out for validation (the paper's 5,000).
        seed: the seed of the split (``train_val_split``).

    Returns:
        ``(train, val, test)``: the training part read through ``PadCropFlip`` (padding 4,
        flips), the validation part and the 10,000 test images as they are.

    Raises:
        DatasetUnavailableError: if the files are missing and ``download`` is False, or the
            download fails.
    """
    train, val = train_val_split(cifar10(root, train=True, download=download), val_size, seed)
    return PadCropFlip(train, padding=4), val, cifar10(root, train=False, download=download)


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
