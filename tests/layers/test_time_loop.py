"""``exporting()`` picks the export-friendly paths: True under torch.export only, never under torch.compile
(torch < 2.14's dynamo answered torch.compiler.is_exporting() with True there, pytorch#176347)."""

import torch

from seqzoo.layers.time_loop import exporting, loop_over_time
from tests.tolerance import assert_within


class Flag(torch.nn.Module):
    def forward(self, x):
        return x + (1.0 if exporting() else 0.0)


def test_exporting_is_true_under_export_and_false_in_eager_and_compile():
    x = torch.zeros(2)
    assert not exporting() and Flag()(x).sum() == 0
    assert torch.compile(Flag(), backend="eager")(x).sum() == 0
    for strict in (False, True):
        assert torch.export.export(Flag(), (x,), strict=strict).module()(x).sum() == 2


def test_loop_over_time_gives_the_same_numbers_as_torchs_scan_when_exported():
    class Running(torch.nn.Module):
        def forward(self, x):  # a running sum over time, the final sum as the state
            return loop_over_time(lambda s, xt: (s + xt[0], s + xt[0]), torch.zeros_like(x[:, 0]), (x,))

    x = torch.randn(3, 7, 2)
    final, ys = Running()(x)
    assert_within(ys, x.cumsum(1), torch.float32, 7, "a running sum against cumsum", both=True)
    exported = torch.export.export(Running(), (x,)).module()
    for got, want in zip(exported(x), (final, ys)):
        assert torch.equal(got, want)  # the same additions in the same order
