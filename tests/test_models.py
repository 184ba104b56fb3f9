import pytest
import torch
import torch.nn.functional as F

from dmh.models import (
    ConvGAPHashHead,
    ConvTrunk,
    DDHNet,
    DMHNet,
    FCHashHead,
    build_model,
    count_parameters,
)

N_CLASSES = 7


def _batch(b=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, 3, 32, 32, generator=g), torch.randint(0, N_CLASSES, (b,), generator=g)


def _check_train_step(model, n_bits):
    torch.manual_seed(0)
    x, y = _batch()
    model.train()
    h, logits = model(x)
    assert h.shape == (x.shape[0], n_bits)
    assert logits.shape == (x.shape[0], N_CLASSES)
    assert torch.isfinite(h).all() and torch.isfinite(logits).all()
    assert (h.abs() < 1).all()
    (F.cross_entropy(logits, y) + h.pow(2).mean()).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name


@pytest.mark.parametrize("trunk", ["dense", "plain"])
@pytest.mark.parametrize("head", ["conv_gap", "fc"])
@pytest.mark.parametrize("n_bits", [12, 36])
def test_dmhnet_shapes_and_gradients(trunk, head, n_bits):
    model = DMHNet(n_classes=N_CLASSES, n_bits=n_bits, trunk=trunk, head=head)
    _check_train_step(model, n_bits)
    assert model.classifier.in_features == n_bits and model.classifier.out_features == N_CLASSES
    feats = model.forward_features(_batch()[0])
    assert feats.shape[1:] == (model.trunk.out_channels, model.trunk.out_size, model.trunk.out_size)
    assert model.forward_head(feats).shape == (4, n_bits)


@pytest.mark.parametrize("n_bits", [12, 48])
def test_ddhnet_shapes_and_gradients(n_bits):
    model = DDHNet(n_classes=N_CLASSES, n_bits=n_bits)
    _check_train_step(model, n_bits)
    assert model.forward_features(_batch()[0]).shape == (4, 860)


def test_eval_mode_batch_of_one():
    for model in (DMHNet(n_classes=N_CLASSES), DDHNet(n_classes=N_CLASSES)):
        model.eval()
        with torch.no_grad():
            h, _ = model(_batch(b=1)[0])
        assert h.shape == (1, 48) and (h.abs() < 1).all()


def test_divide_and_encode_bits_see_disjoint_slices():
    # Perturbing one input feature must change exactly one output bit.
    model = DDHNet(n_classes=N_CLASSES, n_bits=24).eval()
    f = torch.rand(1, 860)
    base = model.forward_head(f)
    for j in (0, 400, 859):
        f2 = f.clone()
        f2[0, j] += 1.0
        assert (model.forward_head(f2) != base).sum().item() == 1


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"bottleneck": True}, {"growth_rate": 12, "block_layers": (4, 4, 4), "stem_channels": 24}],
)
def test_plain_trunk_params_within_15_percent_of_dense(kwargs):
    dense = count_parameters(ConvTrunk(dense=True, **kwargs))
    plain_trunk = ConvTrunk(dense=False, **kwargs)
    plain = count_parameters(plain_trunk)
    print(f"{kwargs}: dense trunk {dense} params, plain trunk {plain} params (widths {plain_trunk.plain_widths})")
    assert abs(plain - dense) <= 0.15 * dense


def test_plain_trunk_same_depth_and_resolution():
    dense, plain = ConvTrunk(dense=True), ConvTrunk(dense=False)
    n_convs = [sum(isinstance(m, torch.nn.Conv2d) for m in t.modules()) for t in (dense, plain)]
    assert n_convs[0] == n_convs[1]
    x = torch.randn(2, 3, 32, 32)
    assert dense(x).shape[2:] == plain(x).shape[2:] == (dense.out_size, dense.out_size) == (4, 4)
    assert dense(x).shape[1] == dense.out_channels and plain(x).shape[1] == plain.out_channels


def test_dense_block_concatenates_its_input():
    trunk = ConvTrunk(stem_channels=16, growth_rate=16, block_layers=(3, 3, 3))
    stem, block1 = trunk.features[0], trunk.features[1]
    s = stem(torch.randn(2, 3, 32, 32))
    out = block1(s)
    assert out.shape[1] == 16 + 3 * 16
    assert torch.equal(out[:, :16], s)  # the block input is passed through unchanged


def test_conv_gap_head_smaller_than_fc_head():
    trunk = ConvTrunk()
    gap = count_parameters(ConvGAPHashHead(trunk.out_channels, 48))
    fc = count_parameters(FCHashHead(trunk.out_channels, trunk.out_size, 48))
    print(f"conv_gap head {gap} params, fc head {fc} params")
    assert gap < fc
    assert count_parameters(DMHNet(n_classes=N_CLASSES, head="conv_gap")) < count_parameters(
        DMHNet(n_classes=N_CLASSES, head="fc")
    )


def test_build_model():
    assert isinstance(build_model("dmh", n_classes=N_CLASSES, n_bits=24), DMHNet)
    assert isinstance(build_model("ddh", n_classes=N_CLASSES, n_bits=24), DDHNet)
    with pytest.raises(ValueError):
        build_model("nope", n_classes=N_CLASSES)
    with pytest.raises(ValueError):
        DMHNet(n_classes=N_CLASSES, trunk="resnet")
    with pytest.raises(ValueError):
        DMHNet(n_classes=N_CLASSES, head="mlp")
