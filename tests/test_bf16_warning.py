"""bfloat16 autocast on a CPU without native bfloat16 crawls: the grid says so before it trains."""
from dataclasses import replace

import pytest

from dmh.core import provenance
from dmh.core.config import TrainConfig
from dmh.experiments import runner


@pytest.mark.parametrize("flags, slow", [({"fma", "avx2"}, True), ({"avx2", "avx512f", "avx512_bf16"}, False),
                                         ({"avx2", "amx_bf16"}, False), ({"asimd", "bf16"}, False),
                                         (set(), False)])
def test_slow_bf16_reads_the_cpu_flags(monkeypatch, flags, slow):
    monkeypatch.setattr(provenance, "cpu_flags", lambda: flags)
    assert provenance.slow_bf16("cpu") is slow
    assert provenance.slow_bf16("cuda") is False  # a GPU's bf16 is not the CPU's


def test_the_grid_warns_for_bf16_runs_on_such_a_cpu(monkeypatch):
    fp32 = TrainConfig(dataset="pins", method="dmh")
    cfgs = [fp32, replace(fp32, precision="bf16", seed=1), replace(fp32, precision="bf16", seed=2)]
    monkeypatch.setattr(provenance, "cpu_flags", lambda: {"avx2"})
    line = runner.bf16_warning(cfgs, "cpu")
    assert line.startswith("warning: 2 of these runs train under bfloat16 autocast, and this CPU has no native")
    assert runner.bf16_warning([fp32], "cpu") is None
    monkeypatch.setattr(provenance, "cpu_flags", lambda: {"avx2", "avx512_bf16"})
    assert runner.bf16_warning(cfgs, "cpu") is None


def test_cpu_flags_reads_this_machine():
    flags = provenance.cpu_flags()
    assert isinstance(flags, set) and all(isinstance(f, str) and f for f in flags)
