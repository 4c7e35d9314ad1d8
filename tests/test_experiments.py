"""The chapters' experiment networks (`cnnzoo.experiments`): their structure, and the training loop's bookkeeping."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo import experiments
from cnnzoo.models import resnet, vgg

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


# --------------------------------------------------------------------------- ResNet chapter



def test_shrink_averages_down_and_rejects_bad_sizes():
    images, labels = torch.arange(2 * 3 * 32 * 32, dtype=torch.float32).view(2, 3, 32, 32), torch.tensor([1, 2])
    dataset = torch.utils.data.TensorDataset(images, labels)
    small = experiments.shrink(dataset, 16).tensors[0]
    assert torch.equal(small, experiments.half_size(dataset).tensors[0])
    assert experiments.shrink(dataset, 1).tensors[0][0, 0, 0, 0] == images[0, 0].mean()
    for bad in (0, 33, 12.0):
        with pytest.raises(ValueError, match="size"):
            experiments.shrink(dataset, bad)


@pytest.mark.parametrize("shortcut", ["A", None])
def test_narrow_resnet_is_the_cifar_family_at_narrow_widths(shortcut):
    net = experiments.narrow_resnet(14, shortcut)
    assert isinstance(net, resnet.CifarResNet) and net.shortcut_kind == shortcut
    assert len(resnet.residual_blocks(net)) == 6
    assert [s[0].out_channels for s in (net.layer1, net.layer2, net.layer3)] == list(experiments.NARROW_WIDTHS)
    torch.manual_seed(0)
    twin = experiments.narrow_resnet(14, "A" if shortcut is None else None)
    torch.manual_seed(0)
    again = experiments.narrow_resnet(14, shortcut)
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), twin.state_dict().values()))


def small_training_set():
    torch.manual_seed(0)
    return torch.randn(40, 3, 8, 8), torch.randint(0, 10, (40,))


def test_training_losses_repeat_with_the_seed_and_follow_the_optimizer():
    images, labels = small_training_set()

    def run(seed, optimizer="sgd"):
        torch.manual_seed(1)
        net = experiments.narrow_resnet(8, "A", widths=(2, 2, 2))
        return experiments.training_losses(net, images, labels, steps=7, lr=0.05, batch_size=16, seed=seed,
                                           optimizer=optimizer)

    first = run(0)
    assert len(first) == 7 and run(0) == first and run(1) != first and run(0, "adam") != first
    with pytest.raises(ValueError, match="optimizer"):
        run(0, "rmsprop")


def test_training_losses_is_the_loss_before_each_step():
    # A learning rate of 0 never changes the weights: each step's loss is the loss of its batch.
    images, labels = small_training_set()
    net = experiments.narrow_resnet(8, None, widths=(2, 2, 2))
    losses = experiments.training_losses(net, images, labels, steps=3, lr=0.0, batch_size=16, seed=5)
    order = torch.randperm(40, generator=torch.Generator().manual_seed(5)).split(16)
    expected = [F.cross_entropy(net.train()(images[b]), labels[b]).item() for b in order[:2]]
    assert losses[:2] == pytest.approx(expected, rel=1e-5)
    # the pass has 40 images: two full batches, the short one (8 images) is dropped, a new pass begins
    assert len(losses) == 3
    with pytest.raises(ValueError):
        experiments.training_losses(net, images, labels, steps=0, lr=0.1, batch_size=16, seed=0)


def test_block_input_gradients_match_autograd_and_leave_the_weights():
    images, labels = small_training_set()
    torch.manual_seed(0)
    net = experiments.narrow_resnet(8, "A", widths=(2, 4, 4))
    norms = experiments.block_input_gradients(net, images, labels)
    assert len(norms) == 3 + 1 and all(p.grad is None for p in net.parameters())
    # By hand: the input of the second block is the output of the first.
    points = []
    hook = net.layer2[0].register_forward_pre_hook(lambda m, a: points.append(a[0]))
    loss = F.cross_entropy(net(images), labels)
    hook.remove()
    (grad,) = torch.autograd.grad(loss, points)
    assert norms[1] == pytest.approx(grad.norm().item(), rel=1e-5)
    with pytest.raises(ValueError, match="blocks"):
        experiments.block_input_gradients(nn.Sequential(nn.Flatten(), nn.Linear(192, 10)), images, labels)


def test_gradients_at_agree_with_block_input_gradients_and_check_their_modules():
    images, labels = small_training_set()
    torch.manual_seed(0)
    net = experiments.narrow_resnet(8, "A", widths=(2, 4, 4))
    blocks = [net.layer1[0], net.layer2[0], net.layer3[0]]
    expected = experiments.block_input_gradients(net, images, labels)
    assert experiments.gradients_at(net, blocks, images, labels, at="input") == pytest.approx(expected[:3], rel=1e-5)
    # the output of block l is the input of block l + 1; the last output is the last number
    assert experiments.gradients_at(net, blocks, images, labels) == pytest.approx(expected[1:], rel=1e-5)
    assert all(p.grad is None for p in net.parameters())
    with pytest.raises(ValueError, match="did not run"):
        experiments.gradients_at(net, [nn.ReLU()], images, labels)
    with pytest.raises(ValueError, match="more than once"):
        experiments.gradients_at(net, [net.layer1[0].relu], images, labels)
    with pytest.raises(ValueError, match="at must be"):
        experiments.gradients_at(net, blocks, images, labels, at="middle")


@pytest.mark.parametrize("shortcut", ["A", None])
def test_deepen_computes_the_shallow_function(shortcut):
    torch.manual_seed(0)
    shallow = experiments.narrow_resnet(8, shortcut, widths=(3, 4, 5))
    with torch.no_grad():  # running statistics that are not the defaults
        for m in shallow.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
                m.bias.uniform_(-1, 1)
    shallow.eval()
    deep = experiments.deepen(shallow, 20)
    assert len(resnet.residual_blocks(deep)) == 9 and not deep.training
    x = torch.randn(4, 3, 12, 12)
    with torch.no_grad():
        assert torch.allclose(deep(x), shallow(x), atol=1e-5)
    for bad in (2, 9, 14.0):
        with pytest.raises(ValueError, match="depth"):
            experiments.deepen(shallow, bad)
    with pytest.raises(ValueError, match="CifarResNet"):
        experiments.deepen(nn.Linear(2, 2), 20)


def test_deepen_identity_blocks_are_not_the_identity_with_batch_statistics():
    # The plain identity needs fixed statistics: in training mode the extra block changes its input.
    torch.manual_seed(0)
    deep = experiments.deepen(experiments.narrow_resnet(8, None).eval(), 14)
    block = deep.layer1[1].train()
    x = torch.relu(torch.randn(8, 8, 6, 6)) + 1
    with torch.no_grad():
        assert not torch.allclose(block(x), x, atol=1e-3)


def test_remove_block_identity_for_residual_constant_for_plain():
    torch.manual_seed(0)
    images = torch.randn(6, 3, 12, 12)
    for shortcut in ("A", None):
        net = experiments.narrow_resnet(14, shortcut).eval()
        with torch.no_grad():  # trained-looking statistics: a zero input does not give a zero batch norm output
            for m in net.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.uniform_(-1, 1)
                    m.bias.uniform_(-1, 1)
        lesioned = experiments.remove_block(net, 1).eval()   # layer1.1, a stride-1 block
        assert any(p.abs().sum() > 0 for p in resnet.residual_blocks(net)[1][1].parameters())  # the original is intact
        with torch.no_grad():
            x = lesioned.relu(lesioned.bn1(lesioned.conv1(images)))
            x = lesioned.layer1[0](x)
            if shortcut:
                assert torch.equal(lesioned.layer1[1](x), x)
            else:
                out = lesioned(images)
                assert torch.allclose(out, out[:1].expand_as(out))
    with pytest.raises(ValueError, match="index"):
        experiments.remove_block(net, 6)


def test_recalibrate_batch_norm_uses_the_exact_averages():
    torch.manual_seed(0)
    net = experiments.narrow_resnet(8, "A", widths=(2, 2, 2))
    images = torch.randn(30, 3, 8, 8) * 3 + 1
    experiments.recalibrate_batch_norm(net, images, batch_size=10)
    assert not net.training and net.bn1.momentum == 0.1
    with torch.no_grad():
        z = net.conv1(images)
    assert torch.allclose(net.bn1.running_mean, z.mean(dim=(0, 2, 3)), atol=1e-5)


def test_accuracy_counts_right_answers():
    net = nn.Sequential(nn.Flatten(), nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        net[1].weight.copy_(torch.eye(2))
    images = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]).view(3, 2, 1, 1)
    assert experiments.accuracy(net, images, torch.tensor([0, 1, 1]), batch_size=2) == pytest.approx(2 / 3)


@pytest.mark.parametrize("shortcut", ["A", None])
def test_make_identity_on_a_block_with_random_statistics(shortcut):
    torch.manual_seed(0)
    block = resnet.BasicBlock(4, 4, shortcut=shortcut)
    with torch.no_grad():
        for m in block.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
                m.weight.uniform_(0.5, 2)
                m.bias.uniform_(-1, 1)
    experiments._make_identity(block)
    x = torch.relu(torch.randn(3, 4, 5, 5))
    with torch.no_grad():
        assert torch.allclose(block.eval()(x), x, atol=1e-5)
        if shortcut:  # the zero branch is the identity with batch statistics too
            assert torch.equal(block.train()(x), x)


def test_training_losses_records_the_loss_before_the_step_updates_the_weights():
    import copy

    images, labels = small_training_set()
    torch.manual_seed(0)
    net = experiments.narrow_resnet(8, "A", widths=(2, 2, 2))
    before = copy.deepcopy(net)
    losses = experiments.training_losses(net, images, labels, steps=2, lr=0.5, batch_size=16, seed=3)
    first = torch.randperm(40, generator=torch.Generator().manual_seed(3))[:16]
    assert losses[0] == pytest.approx(F.cross_entropy(before.train()(images[first]), labels[first]).item(), rel=1e-5)
