"""FractalNet (cnnzoo.models.fractalnet): the expansion rule, the joins, drop-path, the columns, the counts."""

from __future__ import annotations

import pytest
import torch
import torch.fx
from torch import nn

from cnnzoo import models
from cnnzoo.analysis import count_parameters
from cnnzoo.models import fractalnet as fn

pytestmark = pytest.mark.usefixtures("one_thread")


def _convs(module: nn.Module) -> list[nn.Conv2d]:
    return [m for m in module.modules() if isinstance(m, nn.Conv2d)]


def _joins(module: nn.Module) -> list[fn.Join]:
    return [m for m in module.modules() if isinstance(m, fn.Join)]


def _small(columns: int = 3, **kwargs) -> fn.FractalNet:
    torch.manual_seed(0)
    return fn.FractalNet(channels=(4, 8), columns=columns, num_classes=5, **kwargs)


# --------------------------------------------------------------------------- the expansion rule


def test_f1_is_one_convolution():
    block = fn.FractalBlock(3, 8, columns=1)
    assert len(_convs(block)) == 1 and not _joins(block)
    x = torch.randn(2, 3, 6, 6)
    assert torch.equal(block.eval()(x), block.shallow.eval()(x))


@pytest.mark.parametrize("columns", [1, 2, 3, 4, 5])
def test_column_depths_and_convolutions_per_block(columns):
    block = fn.FractalBlock(3, 8, columns)
    assert block.column_depths() == [2 ** c for c in range(columns)]  # column c (from 1) has 2^(c-1)
    assert len(_convs(block)) == 2 ** columns - 1
    assert len(_joins(block)) == (2 ** (columns - 2) if columns >= 2 else 0)
    # only the first convolution of each column changes the channels
    assert sum(conv.in_channels == 3 for conv in _convs(block)) == columns


def test_expansion_rule_structure():
    """f_{C+1}: a convolution beside two f_C in a path; the first f_C is whole, the second's columns join ours."""
    block = fn.FractalBlock(3, 8, columns=3)
    assert isinstance(block.shallow, fn.ConvUnit) and block.shallow.conv.in_channels == 3
    assert block.first.columns == block.second.columns == 2
    assert block.first.join is not None and block.second.join is None
    assert block.first.shallow.conv.in_channels == 3 and block.second.shallow.conv.in_channels == 8
    assert block.join.num_inputs == 3


def test_block_computes_the_expanded_rule():
    """f_3(z) = mean(conv(z), [columns of f_2] applied to f_2(z)), written out by hand on the block's layers."""
    torch.manual_seed(0)
    block = fn.FractalBlock(2, 3, columns=3).eval()
    for m in block.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    z = torch.randn(2, 2, 5, 5)
    f2a, f2b = block.first, block.second
    with torch.no_grad():
        middle = (f2a.shallow(z) + f2a.second.shallow(f2a.first.shallow(z))) / 2  # f_2(z)
        expected = (block.shallow(z) + f2b.shallow(middle) + f2b.second.shallow(f2b.first.shallow(middle))) / 3
        assert torch.allclose(block(z), expected, atol=1e-6)


# --------------------------------------------------------------------------- joins


def test_join_is_the_mean_of_the_kept_inputs():
    a, b, c = torch.full((1, 2), 1.0), torch.full((1, 2), 2.0), torch.full((1, 2), 6.0)
    assert torch.equal(fn.join([a, b, c], [True, True, True]), torch.full((1, 2), 3.0))
    assert torch.equal(fn.join([a, b, c], [True, False, True]), torch.full((1, 2), 3.5))
    assert torch.equal(fn.join([a, b, c], [False, True, False]), b)
    with pytest.raises(ValueError, match="at least one"):
        fn.join([a, b], [False, False])
    with pytest.raises(ValueError, match="one flag per input"):
        fn.join([a, b], [True])


def test_join_module_averages_all_inputs_without_local_drop_path():
    join = fn.Join(2, drop_path=0.99)
    a, b = torch.zeros(3), torch.ones(3)
    assert torch.equal(join([a, b]), torch.full((3,), 0.5))
    with pytest.raises(ValueError, match="takes 2 inputs"):
        join([a])


def test_local_drop_path_keeps_at_least_one_and_drops_at_the_rate():
    join = fn.Join(3, drop_path=0.15)
    generator = torch.Generator().manual_seed(0)
    draws = torch.tensor([join.draw(generator) for _ in range(4000)])
    assert draws.any(dim=1).all()
    assert abs((~draws).float().mean().item() - 0.15) < 0.02
    heavy = fn.Join(2, drop_path=0.9)
    draws = torch.tensor([heavy.draw(generator) for _ in range(2000)])
    assert draws.any(dim=1).all() and (draws.sum(dim=1) == 1).float().mean() > 0.5


def test_local_drop_path_is_reproducible_with_a_seeded_generator():
    join = fn.Join(4, drop_path=0.5)
    first = [join.draw(torch.Generator().manual_seed(3)) for _ in range(1)]
    again = [join.draw(torch.Generator().manual_seed(3)) for _ in range(1)]
    assert first == again


# --------------------------------------------------------------------------- drop-path in the network


def test_global_share_and_columns_of_global_steps():
    net = _small(columns=3, generator=torch.Generator().manual_seed(0)).train()
    x = torch.randn(2, 3, 8, 8)
    chosen = []
    for _ in range(300):
        net(x)
        chosen.append(net.last_column)
    global_steps = [c for c in chosen if c is not None]
    assert 0.4 < len(global_steps) / len(chosen) < 0.6
    assert set(global_steps) == {0, 1, 2}


def test_global_step_runs_exactly_one_column_in_every_block():
    """A global step equals the network restricted to that column, and runs no join."""
    net = _small(columns=3, global_share=0.999999, generator=torch.Generator().manual_seed(1)).train()
    ran = []
    for join in _joins(net):
        join.register_forward_hook(lambda m, args, out: ran.append(m))
    x = torch.randn(4, 3, 8, 8)
    for _ in range(5):
        out = net(x)
        column = net.last_column
        assert column is not None and not ran
        torch.testing.assert_close(out, net.forward_column(x, column))


def test_local_step_runs_every_join_and_records_its_mask():
    net = _small(columns=3, global_share=0.0, drop_path=0.5, generator=torch.Generator().manual_seed(2)).train()
    x = torch.randn(4, 3, 8, 8)
    masks = set()
    for _ in range(20):
        net(x)
        assert net.last_column is None
        for join in _joins(net):
            assert any(join.last_kept)
            masks.add(join.last_kept)
    assert len(masks) > 2  # the masks change from step to step


def test_eval_is_deterministic_and_uses_every_path():
    net = _small(columns=3, drop_path=0.5).eval()
    x = torch.randn(3, 3, 8, 8)
    with torch.no_grad():
        out = net(x)
        assert torch.equal(out, net(x))
        # the same net without drop-path (drop_path=0) gives the same eval output
        plain = _small(columns=3, drop_path=0.0).eval()
        plain.load_state_dict(net.state_dict())
        assert torch.equal(out, plain(x))
        # and every column contributes: changing the shallow column's weights changes the output
        net.blocks[1].shallow.conv.weight.add_(1.0)
        assert not torch.allclose(out, net(x))


def test_training_without_drop_path_averages_everything():
    net = _small(columns=3, drop_path=0.0).train()
    x = torch.randn(4, 3, 8, 8)
    with torch.no_grad():
        first = net(x)
        assert torch.equal(first, net(x)) and net.last_column is None


def test_column_alone_is_a_plain_chain_and_shares_weights():
    net = _small(columns=3).eval()
    x = torch.randn(2, 3, 8, 8)
    column = net.column(2)
    assert isinstance(column, fn.Column)
    with torch.no_grad():
        by_hand = x
        for block in net.blocks:
            y = by_hand
            for unit in (block.first.first.shallow, block.first.second.shallow,
                         block.second.first.shallow, block.second.second.shallow):
                y = unit(y)
            by_hand = net.pool(y)
        expected = net.fc(torch.flatten(net.avgpool(by_hand), 1))
        assert torch.allclose(column(x), expected, atol=1e-6)
        assert torch.allclose(net.column(0)(x), net.fc(torch.flatten(net.avgpool(
            net.pool(net.blocks[1].shallow(net.pool(net.blocks[0].shallow(x))))), 1)), atol=1e-6)
    assert net.column_depths() == [2, 4, 8]
    with pytest.raises(ValueError, match=r"column must be an integer in 0\.\.2; got 3"):
        net.column(3)
    with pytest.raises(ValueError, match="column"):
        net.forward_column(x, -1)


# --------------------------------------------------------------------------- no residuals


def test_no_residual_addition_anywhere():
    """Traced through every cnnzoo module (torch.nn layers stay leaves), nothing is added: the joins stack and average."""
    net = _small(columns=3).eval()
    graph = torch.fx.Tracer().trace(net)
    targets = [str(node.target) for node in graph.nodes if node.op in ("call_function", "call_method")]
    assert not any("add" in t for t in targets), targets
    assert sum("mean" in t for t in targets) == len(_joins(net))


# --------------------------------------------------------------------------- the paper's configuration


def test_paper_configuration():
    with torch.device("meta"):
        net = models.build("fractalnet")
    assert [block.columns for block in net.blocks] == [3] * 5
    assert [block.shallow.conv.out_channels for block in net.blocks] == list(fn.CIFAR_CHANNELS)
    assert net.column_depths()[-1] == 20  # B * 2^(C-1): "20 layers"
    with torch.device("meta"):
        forty = models.build("fractalnet", columns=4)
    assert forty.column_depths() == [5, 10, 20, 40]
    dropouts = [[m.p for m in block.modules() if isinstance(m, nn.Dropout)] for block in net.blocks]
    assert [set(d) for d in dropouts[1:]] == [{0.1}, {0.2}, {0.3}, {0.4}] and dropouts[0] == []
    assert net.drop_path == 0.15 and net.global_share == 0.5


def test_parameter_count_formula_and_table_1():
    """Per block: C convolutions in x out and 2^C - 1 - C out x out (3x3, no bias), plus batch norm; then the classifier."""
    with torch.device("meta"):
        net = models.build("fractalnet")
    widths = (3, *fn.CIFAR_CHANNELS)
    columns = 3
    expected = 0
    for cin, cout in zip(widths, widths[1:]):
        expected += columns * 9 * cin * cout + (2 ** columns - 1 - columns) * 9 * cout * cout + (2 ** columns - 1) * 2 * cout
    expected += 512 * 10 + 10
    assert count_parameters(net) == expected == 33_724_618
    # Table 1's 38.6 M is 14% more: the difference the chapter discusses
    assert 0.85 < expected / fn.PAPER_TABLE1_PARAMETERS < 0.9


def test_bad_arguments():
    with pytest.raises(ValueError, match="columns"):
        fn.FractalBlock(3, 8, columns=0)
    with pytest.raises(ValueError, match="num_inputs"):
        fn.Join(1)
    with pytest.raises(ValueError, match="drop_path"):
        fn.FractalNet(drop_path=1.0)
    with pytest.raises(ValueError, match="global_share"):
        fn.FractalNet(global_share=-0.1)
    with pytest.raises(ValueError, match=r"one probability per block \(2\); got 1"):
        fn.FractalNet(channels=(4, 8), dropout=(0.1,))
    with pytest.raises(ValueError, match="channels"):
        fn.FractalNet(channels=())
    with pytest.raises(ValueError, match="at least 4x4"):
        _small()(torch.zeros(1, 3, 3, 3))
