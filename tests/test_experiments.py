"""The chapters' experiment networks (`cnnzoo.experiments`): their structure, and the training loop's bookkeeping."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnzoo import experiments
from cnnzoo.models import vgg

pytestmark = pytest.mark.usefixtures("one_thread")


def kinds(net: nn.Module, kind: type) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, kind)]


@pytest.mark.parametrize("activation, kind", [("relu", nn.ReLU), ("tanh", nn.Tanh)])
def test_four_layer_cnn_has_four_convolutions_and_one_activation_kind(activation, kind):
    net = experiments.four_layer_cnn(activation, width=4)
    assert [m.out_channels for m in kinds(net, nn.Conv2d)] == [4, 8, 16, 16]
    assert len(kinds(net, kind)) == 4 and not kinds(net, nn.ReLU if kind is nn.Tanh else nn.Tanh)
    assert not kinds(net, nn.BatchNorm2d)
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_four_layer_cnn_same_seed_same_weights_for_both_activations():
    torch.manual_seed(0)
    relu = experiments.four_layer_cnn("relu").state_dict()
    torch.manual_seed(0)
    tanh = experiments.four_layer_cnn("tanh").state_dict()
    assert all(torch.equal(relu[key], tanh[key]) for key in relu)


def test_four_layer_cnn_rejects_unknown_activation():
    with pytest.raises(ValueError, match="relu"):
        experiments.four_layer_cnn("sigmoid")


def test_training_errors_counts_the_batches_as_seen_and_repeats_with_the_seed():
    torch.manual_seed(0)
    images, labels = torch.randn(40, 3, 32, 32), torch.randint(0, 10, (40,))

    def run(seed):
        torch.manual_seed(1)
        net = experiments.four_layer_cnn("relu", width=2)
        return experiments.training_errors(net, images, labels, epochs=3, lr=0.01, batch_size=16, seed=seed)

    first = run(0)
    assert len(first) == 3 and all(0 <= e <= 1 for e in first)
    assert all((e * 40).is_integer() for e in first)  # wrong answers over all 40 images, not over one batch
    assert run(0) == first


def test_training_errors_is_the_error_before_each_step():
    # A learning rate of 0 never changes the network: every epoch's error is the network's error on all images.
    torch.manual_seed(0)
    images, labels = torch.randn(30, 3, 32, 32), torch.randint(0, 10, (30,))
    net = experiments.four_layer_cnn("tanh", width=2)
    with torch.no_grad():
        error = (net(images).argmax(dim=1) != labels).float().mean().item()
    errors = experiments.training_errors(net, images, labels, epochs=2, lr=0.0, batch_size=7, seed=0)
    assert errors == pytest.approx([error, error])


def test_epochs_to_reach():
    assert experiments.epochs_to_reach([0.9, 0.5, 0.3, 0.2], 0.3) == 3
    assert experiments.epochs_to_reach([0.9, 0.5], 0.3) is None
    assert experiments.epochs_to_reach([0.2], 0.3) == 1


def test_half_size_averages_2x2_blocks():
    images = torch.arange(16.0).reshape(1, 1, 4, 4)
    halved = experiments.half_size(torch.utils.data.TensorDataset(images, torch.tensor([3])))
    assert halved.tensors[0].tolist() == [[[[2.5, 4.5], [10.5, 12.5]]]]
    assert halved.tensors[1].tolist() == [3]


def test_kernel_nets_stack_and_single_kernel():
    stack, single = experiments.kernel_net((3, 3)), experiments.kernel_net((5,))
    assert [m.kernel_size for m in kinds(stack, nn.Conv2d)] == [(3, 3)] * 6
    assert [m.kernel_size for m in kinds(single, nn.Conv2d)] == [(5, 5)] * 3
    assert all(m.padding == (m.kernel_size[0] // 2,) * 2 for m in kinds(stack, nn.Conv2d) + kinds(single, nn.Conv2d))
    assert len(kinds(stack, nn.BatchNorm2d)) == 6 and len(kinds(stack, nn.MaxPool2d)) == 3
    assert stack(torch.zeros(2, 3, 16, 16)).shape == single(torch.zeros(2, 3, 16, 16)).shape == (2, 10)
    with pytest.raises(ValueError, match="odd"):
        experiments.kernel_net((4,))


def test_narrow_vgg_is_a_column_s_first_stages_divided():
    assert experiments.narrow_column() == (
        "conv3-4", "conv3-4", "maxpool", "conv3-8", "conv3-8", "maxpool",
        "conv3-16", "conv3-16", "conv3-16", "maxpool", "conv3-32", "conv3-32", "conv3-32", "maxpool",
    )
    assert experiments.narrow_column("A", divide_by=1, stages=5) == vgg.TABLE_1["A"][:vgg.TABLE_1["A"].index("FC-4096")]
    plain, normed = experiments.narrow_vgg(False), experiments.narrow_vgg(True)
    assert len(kinds(plain, nn.Conv2d)) == 10 and not kinds(plain, nn.BatchNorm2d)
    assert len(kinds(normed, nn.BatchNorm2d)) == 10
    assert plain(torch.zeros(2, 3, 16, 16)).shape == (2, 10)
    with pytest.raises(ValueError, match="column"):
        experiments.narrow_column("F")


# --------------------------------------------------------------------------- GoogLeNet chapter


@pytest.mark.parametrize("batch_norm", [False, True])
def test_small_inception_shapes_and_outputs(batch_norm):
    torch.manual_seed(0)
    with_aux = experiments.small_inception(aux=True, batch_norm=batch_norm)
    x = torch.randn(4, 3, 32, 32)
    main, aux = with_aux.train()(x)
    assert main.shape == aux.shape == (4, 10)
    assert with_aux.eval()(x).shape == (4, 10)  # the head runs in training only
    no_aux = experiments.small_inception(aux=False, batch_norm=batch_norm)
    assert no_aux.train()(x).shape == (4, 10)
    assert bool(kinds(with_aux, nn.BatchNorm2d)) == batch_norm
    # 1 stem convolution and 6 modules of 6 convolutions; the head's 1x1 convolution
    assert len(kinds(no_aux, nn.Conv2d)) == 1 + 6 * 6
    assert len(kinds(with_aux, nn.Conv2d)) == 1 + 6 * 6 + 1
    spec = experiments.SMALL_INCEPTION_SPECS[0]
    assert no_aux.late[-1].out_channels == spec.out_channels == 32


def test_small_inception_same_seed_same_trunk_with_or_without_aux():
    # The head is built last, so the same seed gives both variants the same trunk weights.
    torch.manual_seed(0)
    plain = experiments.small_inception(aux=False, batch_norm=False).state_dict()
    torch.manual_seed(0)
    headed = experiments.small_inception(aux=True, batch_norm=False).state_dict()
    assert all(torch.equal(plain[key], headed[key]) for key in plain)


def test_small_inception_rejects_non_bool_flags():
    with pytest.raises(ValueError, match="aux must be True or False"):
        experiments.small_inception(aux=1, batch_norm=False)
    with pytest.raises(ValueError, match="batch_norm must be True or False"):
        experiments.small_inception(aux=True, batch_norm="yes")


def test_gradient_norms_match_autograd_on_each_loss():
    torch.manual_seed(0)
    net = experiments.small_inception(aux=True, batch_norm=False)
    x, y = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
    norms = experiments.gradient_norms(net, x, y, aux_weight=0.3)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)][:-1]  # the head's comes last
    assert len(norms["main"]) == len(norms["aux"]) == len(convs) == 37
    main, aux = net.train()(x)
    stem = convs[0].weight
    (g_main,) = torch.autograd.grad(torch.nn.functional.cross_entropy(main, y), stem, retain_graph=True)
    (g_aux,) = torch.autograd.grad(torch.nn.functional.cross_entropy(aux, y), stem)
    assert norms["main"][0] == pytest.approx(g_main.norm().item(), rel=1e-5)
    assert norms["aux"][0] == pytest.approx(0.3 * g_aux.norm().item(), rel=1e-5)
    # the head sits after the second module (13 convolutions in): no auxiliary gradient beyond
    assert all(n > 0 for n in norms["aux"][:1]) and all(n == 0.0 for n in norms["aux"][13:])
    assert sum(n > 0 for n in norms["aux"][:13]) >= 10
    # no weight changed
    assert torch.equal(stem, convs[0].weight) and stem.grad is None


def test_gradient_norms_without_head_and_bad_net():
    torch.manual_seed(0)
    net = experiments.small_inception(aux=False, batch_norm=True)
    norms = experiments.gradient_norms(net, torch.randn(4, 3, 32, 32), torch.randint(0, 10, (4,)))
    assert set(norms) == {"main"} and len(norms["main"]) == 37
    with pytest.raises(ValueError, match="SmallInception"):
        experiments.gradient_norms(nn.Linear(2, 2), torch.zeros(1, 2), torch.zeros(1, dtype=torch.long))
