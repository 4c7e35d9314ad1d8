"""Tests of cnnzoo.training on a tiny model and the 12x12 quick-mode digits (a few seconds)."""

from __future__ import annotations

import math
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cnnzoo import data
from cnnzoo.training import (
    AUX_WEIGHT, History, evaluate, fit, pick_device, plot_history, predict, seed_everything, split_outputs,
)

CPU = torch.device("cpu")


def tiny_model() -> nn.Module:
    """A small conv net for 12x12 digits: 4 maps, 2x2 max pooling, a linear classifier."""
    return nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, padding=1),  # (N, 4, 12, 12)
        nn.ReLU(),
        nn.MaxPool2d(2),                            # (N, 4, 6, 6)
        nn.Flatten(),                               # (N, 144)
        nn.Linear(4 * 6 * 6, 10),                   # (N, 10)
    )


pytestmark = pytest.mark.usefixtures("one_thread")


def make_loaders() -> tuple[DataLoader, DataLoader]:
    return data.make_loaders(data.load_digits("train", image_size=12), data.load_digits("test", image_size=12), seed=0)


@pytest.fixture
def loaders() -> tuple[DataLoader, DataLoader]:
    return make_loaders()


def train_once(epochs: int = 3, log=None) -> tuple[nn.Module, History]:
    """Seed, build fresh loaders (a loader's shuffling generator moves on each epoch), train."""
    seed_everything(0)
    train_loader, test_loader = make_loaders()
    model = tiny_model()
    history = fit(model, train_loader, epochs=epochs, lr=1e-2, test_loader=test_loader, device=CPU, log=log)
    return model, history


# --------------------------------------------------------------------------- set-up


def test_pick_device_returns_an_available_device():
    device = pick_device()
    assert isinstance(device, torch.device)
    if torch.cuda.is_available():
        assert device.type == "cuda"
    elif not torch.backends.mps.is_available():
        assert device.type == "cpu"


def test_seed_everything_repeats_random_numbers():
    seed_everything(3)
    first = torch.rand(5)
    seed_everything(3)
    assert torch.equal(first, torch.rand(5))
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark


# --------------------------------------------------------------------------- fit


def test_fit_lowers_the_loss_and_logs_one_line_per_epoch(loaders):
    lines: list[str] = []
    _, history = train_once(epochs=3, log=lines.append)
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.epochs == 3
    for name in ("train_loss", "train_acc", "test_loss", "test_acc", "seconds"):
        assert len(getattr(history, name)) == 3
    assert len(lines) == 3
    pattern = r"epoch +\d+/3  train loss \d\.\d{4}  acc +\d+\.\d%  \|  test loss \d\.\d{4}  acc +\d+\.\d%  \|  \d+\.\d s"
    for epoch, line in enumerate(lines, start=1):
        assert re.fullmatch(pattern, line), line
        assert f"{epoch}/3" in line and "\n" not in line
    assert history.final_test_acc == history.test_acc[-1] > 0.8
    assert history.best_test_acc == max(history.test_acc)


def test_fit_is_repeatable_after_seed_everything(loaders):
    model_a, history_a = train_once(epochs=2)
    model_b, history_b = train_once(epochs=2)
    for (name, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values()):
        assert torch.equal(a, b), name
    for name in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert getattr(history_a, name) == getattr(history_b, name)


def test_fit_without_test_loader_and_silent(loaders, capsys):
    train_loader, _ = loaders
    history = fit(tiny_model(), train_loader, epochs=1, device=CPU, log=None)
    assert capsys.readouterr().out == ""
    assert history.test_loss == [] and history.test_acc == [] and history.epochs == 1
    with pytest.raises(ValueError, match="test"):
        history.best_test_acc
    with pytest.raises(ValueError, match="test"):
        history.final_test_acc


def test_fit_prints_by_default(loaders, capsys):
    train_loader, _ = loaders
    fit(tiny_model(), train_loader, epochs=1, device=CPU)
    assert capsys.readouterr().out.startswith("epoch 1/1  train loss")


def test_fit_takes_an_optimizer(loaders):
    train_loader, _ = loaders
    model = tiny_model()
    before = [p.detach().clone() for p in model.parameters()]
    fit(model, train_loader, epochs=1, optimizer=torch.optim.SGD(model.parameters(), lr=0.1), device=CPU, log=None)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


@pytest.mark.parametrize("kwargs, word", [
    ({"epochs": 0}, "epochs"),
    ({"epochs": -2}, "epochs"),
    ({"epochs": 2.0}, "epochs"),
    ({"epochs": 1, "lr": 0}, "lr"),
    ({"epochs": 1, "lr": -1e-3}, "lr"),
    ({"epochs": 1, "schedule": "step"}, "schedule"),
])
def test_fit_rejects_bad_settings(loaders, kwargs, word):
    with pytest.raises(ValueError, match=word):
        fit(tiny_model(), loaders[0], device=CPU, log=None, **kwargs)


def test_cosine_schedule_lowers_the_learning_rate_to_zero(loaders):
    model = tiny_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    rates = []
    fit(model, loaders[0], epochs=4, optimizer=optimizer, schedule="cosine", device=CPU,
        log=lambda line: rates.append(optimizer.param_groups[0]["lr"]))
    # after epoch e of 4 the rate is 0.1 * (1 + cos(pi * e / 4)) / 2
    assert rates == pytest.approx([0.1 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(1, 5)])
    assert rates[-1] == pytest.approx(0.0, abs=1e-12)


def test_constant_schedule_keeps_the_learning_rate(loaders):
    model = tiny_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    fit(model, loaders[0], epochs=2, optimizer=optimizer, device=CPU, log=None)
    assert optimizer.param_groups[0]["lr"] == 0.1


def test_a_scheduler_steps_after_every_batch(loaders):
    # He et al.'s CIFAR-10 schedule counts iterations: 0.1, divided by 10 at given iterations.
    train_loader = loaders[0]
    per_epoch = len(train_loader)
    model = tiny_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[per_epoch + 3, 2 * per_epoch + 5], gamma=0.1)
    rates = []
    fit(model, train_loader, epochs=3, optimizer=optimizer, scheduler=scheduler, device=CPU,
        log=lambda line: rates.append(optimizer.param_groups[0]["lr"]))
    assert scheduler.last_epoch == 3 * per_epoch  # one step per iteration
    assert rates == pytest.approx([0.1, 0.01, 0.001])


@pytest.mark.parametrize("other", ["cosine schedule", "another optimizer"])
def test_fit_rejects_a_scheduler_that_cannot_apply(loaders, other):
    model = tiny_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    owner = optimizer if other == "cosine schedule" else torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(owner, milestones=[5])
    schedule = "cosine" if other == "cosine schedule" else "constant"
    with pytest.raises(ValueError, match="scheduler"):
        fit(model, loaders[0], epochs=1, optimizer=optimizer, scheduler=scheduler, schedule=schedule, device=CPU, log=None)


def test_fit_rejects_an_empty_loader():
    empty = DataLoader(TensorDataset(torch.zeros(0, 1, 12, 12), torch.zeros(0, dtype=torch.int64)))
    with pytest.raises(ValueError, match="train_loader"):
        fit(tiny_model(), empty, epochs=1, device=CPU, log=None)
    with pytest.raises(ValueError, match="empty"):
        fit(tiny_model(), [], epochs=1, device=CPU, log=None)
    with pytest.raises(ValueError, match="loader"):
        evaluate(tiny_model(), empty)


# --------------------------------------------------------------------------- auxiliary outputs


class MainAndAux(nn.Module):
    """Two linear heads on one-hot inputs, returning (main, aux) in both modes.

    The main head scores the input's class 2 and the others 0; the auxiliary head scores
    it -2. On input one_hot(y) the cross-entropies are, by hand,
    main: -log(e^2 / (e^2 + 2)) = log(1 + 2 e^-2), aux: log(1 + 2 e^2).
    """

    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Linear(3, 3, bias=False)
        self.aux = nn.Linear(3, 3, bias=False)
        with torch.no_grad():
            self.main.weight.copy_(2 * torch.eye(3))
            self.aux.weight.copy_(-2 * torch.eye(3))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.main(x), self.aux(x)


LABELS = torch.tensor([0, 1, 2, 2, 1, 0])
ONE_BATCH = [(F.one_hot(LABELS, 3).float(), LABELS)]
MAIN_LOSS = math.log(1 + 2 * math.exp(-2))
AUX_LOSS = math.log(1 + 2 * math.exp(2))


def test_aux_weight_is_googlenets():
    assert AUX_WEIGHT == 0.3  # Szegedy et al. 2015, Sec. 5


@pytest.mark.parametrize("aux_weight", [AUX_WEIGHT, 0.5, 0.0])
def test_fit_adds_the_weighted_auxiliary_loss(aux_weight):
    model = MainAndAux()
    kwargs = {} if aux_weight == AUX_WEIGHT else {"aux_weight": aux_weight}  # the default is AUX_WEIGHT
    history = fit(model, ONE_BATCH, epochs=1, optimizer=torch.optim.SGD(model.parameters(), lr=0.0),
                  device=CPU, log=None, **kwargs)
    assert history.train_loss == [pytest.approx(MAIN_LOSS + aux_weight * AUX_LOSS)]
    assert history.train_acc == [1.0]  # from the main head; the auxiliary head gets every example wrong


def test_fit_steps_along_the_gradient_of_the_combined_loss():
    model, reference = MainAndAux(), MainAndAux()
    images, labels = ONE_BATCH[0]
    main, aux = reference(images)
    (F.cross_entropy(main, labels) + 0.5 * F.cross_entropy(aux, labels)).backward()
    fit(model, ONE_BATCH, epochs=1, optimizer=torch.optim.SGD(model.parameters(), lr=1.0),
        aux_weight=0.5, device=CPU, log=None)
    for (name, after), before in zip(model.named_parameters(), reference.parameters()):
        assert torch.allclose(after, before - before.grad), name


def test_evaluate_and_predict_use_the_main_output():
    model = MainAndAux()
    loss, accuracy = evaluate(model, ONE_BATCH)
    assert loss == pytest.approx(MAIN_LOSS) and accuracy == 1.0
    predicted, true = predict(model, ONE_BATCH)
    assert torch.equal(predicted, LABELS) and torch.equal(true, LABELS)


def test_fit_trains_torchvisions_googlenet_with_its_two_auxiliary_classifiers():
    from torchvision.models import googlenet

    torch.manual_seed(0)
    model = googlenet(weights=None, aux_logits=True, init_weights=False, num_classes=3)
    images, labels = torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 2, 0])
    model.train()
    with torch.no_grad():
        outputs = model(images)
    assert type(outputs).__name__ == "GoogLeNetOutputs" and len(outputs) == 3

    # lr 0: the weights stay, so the loss fit reports can be recomputed; the seed repeats dropout.
    torch.manual_seed(1)
    history = fit(model, [(images, labels)], epochs=1, optimizer=torch.optim.SGD(model.parameters(), lr=0.0),
                  test_loader=[(images, labels)], device=CPU, log=None)
    torch.manual_seed(1)
    model.train()
    with torch.no_grad():
        main, aux2, aux1 = model(images)
    expected = F.cross_entropy(main, labels) + 0.3 * (F.cross_entropy(aux2, labels) + F.cross_entropy(aux1, labels))
    assert history.train_loss == [pytest.approx(expected.item(), rel=1e-5)]
    assert len(history.test_loss) == 1 and math.isfinite(history.test_loss[0])
    assert predict(model, [(images, labels)])[0].shape == (4,)


@pytest.mark.parametrize("aux_weight", [-0.1, float("nan"), float("inf"), True, "0.3", None])
def test_fit_rejects_a_bad_aux_weight(aux_weight):
    with pytest.raises(ValueError, match="aux_weight"):
        fit(MainAndAux(), ONE_BATCH, epochs=1, aux_weight=aux_weight, device=CPU, log=None)


def test_split_outputs():
    main, aux = torch.zeros(2, 3), torch.ones(2, 3)
    assert split_outputs(main) == (main, [])
    first, rest = split_outputs((main, aux, None))
    assert first is main and len(rest) == 1 and rest[0] is aux
    for bad in ({"main": main}, (), ("main", aux), (main, "aux"), None):
        with pytest.raises(ValueError, match="tuple or list of tensors"):
            split_outputs(bad)


# --------------------------------------------------------------------------- evaluate, predict, plot


def test_evaluate_returns_loss_and_accuracy_and_restores_the_mode(loaders):
    model, history = train_once(epochs=1)
    model.train()
    loss, accuracy = evaluate(model, loaders[1])
    assert model.training
    assert 0.0 <= accuracy <= 1.0
    assert loss == pytest.approx(history.test_loss[-1]) and accuracy == pytest.approx(history.test_acc[-1])
    model.eval()
    evaluate(model, loaders[1])
    assert not model.training


def test_predict_gives_labels_for_every_example(loaders):
    model, _ = train_once(epochs=1)
    model.train()
    predicted, true = predict(model, loaders[1])
    assert model.training
    assert predicted.shape == true.shape == (360,)
    assert predicted.dtype == true.dtype == torch.int64
    assert predicted.device.type == "cpu"
    assert torch.equal(true, loaders[1].dataset.tensors[1])
    _, accuracy = evaluate(model, loaders[1])
    assert (predicted == true).float().mean().item() == pytest.approx(accuracy)


def test_plot_history_has_two_labelled_panels():
    history = History(train_loss=[1.0, 0.5], train_acc=[0.6, 0.8], test_loss=[0.9, 0.6],
                      test_acc=[0.65, 0.78], seconds=[0.1, 0.1])
    fig = plot_history(history, title="tiny")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel()
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "test"]
    plt.close(fig)
    fig_train_only = plot_history(History(train_loss=[1.0], train_acc=[0.5], seconds=[0.1]))
    assert len(fig_train_only.axes) == 2
    plt.close(fig_train_only)
    with pytest.raises(ValueError, match="epochs"):
        plot_history(History())
