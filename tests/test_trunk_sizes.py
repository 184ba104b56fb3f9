"""The recipe study's trunk sizes (grid trunk-<ds>): FLOPs per image by hand, equal compute
across sizes, the paper trunk's run shared with the budget grid, and the verdict lines."""
import pandas as pd
import torch
from torch import nn

from dmh.experiments import configs as C
from dmh.experiments.grids import GRIDS
from dmh.experiments.profiles import get_profile
from dmh.experiments.trunk_sizes import TRUNK_SIZES, train_mflops, trunk_configs, trunk_size_name
from dmh.models import DMHNet
from dmh.models.flops import train_flops_per_image
from dmh.report.trunk_study import PAPER_TRUNK, trunk_lines


def test_flops_of_one_conv_by_hand():
    # forward: 2 x Cin x Cout x 3 x 3 per output pixel; backward: the weight gradient costs the
    # same, the input gradient is not needed (the images need none)
    conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
    forward = 2 * 3 * 4 * 9 * 8 * 8
    assert train_flops_per_image(conv, image_size=8) == 2 * forward
    two = nn.Sequential(conv, nn.Conv2d(4, 5, 1, bias=False))  # the second needs both gradients
    assert train_flops_per_image(two, image_size=8) == 2 * forward + 3 * (2 * 4 * 5 * 8 * 8)


def test_counting_leaves_the_model_as_it_was():
    net = DMHNet(n_classes=10, n_bits=12).eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    train_flops_per_image(net)
    assert not net.training and all(p.grad is None for p in net.parameters())
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_trunk_sizes_at_equal_compute():
    p = get_profile("paper")
    for ds in p.datasets:
        cs = trunk_configs(ds, p)
        assert cs[0] == C.budget_configs(ds, p)[p.budget_factors.index(1)]  # cached, not retrained
        assert [trunk_size_name(c) for c in cs] == list(TRUNK_SIZES) and cs[0].model_kwargs == {}
        cost = [c.epochs * train_mflops(c) for c in cs]
        assert all(abs(x / cost[0] - 1) < 0.05 for x in cost)  # epochs are whole numbers
        assert len({c.name() for c in cs}) == len(cs) and {c.eval_split for c in cs} == {"val"}
    big, small = (train_mflops(c) for c in trunk_configs("lfw", p)[2:4])
    assert big > train_mflops(cs[0]) > small  # growth 24 costs more, 2-2-2 layers less
    assert "trunk" in GRIDS


def test_trunk_lines_by_hand():
    df = pd.DataFrame({"dataset": ["LFW"] * 3 + ["Pins"] * 2,
                       "trunk": [PAPER_TRUNK, "narrow", "wide", PAPER_TRUNK, "narrow"],
                       "val mAP@all": [0.30, 0.36, 0.25, 0.10, 0.09],
                       "change": [0.0, 0.06, -0.05, 0.0, -0.01],
                       "in seed std": [0.0, 6.0, -5.0, 0.0, -1.0],
                       "epochs": [40, 112, 21, 10, 28], "x time (bench)": [1.0, 2.5, 0.8, 1.0, 2.4]})
    lfw, pins = " ".join(trunk_lines(df).split()).split(" Pins: ")
    assert lfw.startswith("LFW: narrow is the best of 3 sizes at equal compute, 0.3600 (+0.0600")
    assert "+6.0 seed std: beyond two seed stds; 112 epochs, 2.50x the paper trunk's time by the" in lfw
    assert pins.startswith("the paper trunk") and "best of 2 sizes" in pins
