"""The contract every registered method keeps (as timm tests every registered model): built
from a config, it takes one SGD step of the shared loop with a finite gradient on every
trainable parameter, and it encodes faces to packed codes and features in [-1, 1]."""
import math

import numpy as np
import pytest
import torch

from conftest import TINY
from dmh.core.config import TrainConfig
from dmh.experiments.tuning import method_defaults
from dmh.methods import METHODS, create_method, label
from dmh.run.encode import Normalizer, encode
from dmh.run.fit import sgd_step

BITS, N_CLASSES = 12, 5  # 12 bits: codes of ceil(12 / 8) = 2 bytes, 4 of them padding
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_methods_table():
    assert list(METHODS) == ["dmh", "ddh", "dsh", "dpsh", "hashnet", "csq", "dcdh"]  # DMH first
    assert all(m.name == name and label(name) == m.label for name, m in METHODS.items())
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        create_method(TrainConfig(method="nope"), N_CLASSES)


@pytest.mark.parametrize("method", list(METHODS))
def test_method_contract(method):
    torch.manual_seed(0)
    model, criterion = create_method(TrainConfig(method=method, bits=BITS, model_kwargs=TINY,
                                                 method_kwargs=method_defaults(method).get("method_kwargs", {})), N_CLASSES)
    for m in (model, criterion):
        if hasattr(m, "set_progress"):  # HashNet's continuation: mid-schedule
            m.set_progress(0.5)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(8, 3, 32, 32), dtype=np.uint8)
    norm = Normalizer.fit(images)
    x, y = norm(torch.from_numpy(images)), torch.tensor([0, 1, 2, 3, 4, 0, 1, 2])
    # Center-style criteria keep their centers in buffers moved by their own rule
    # (`update_centers`), so every parameter of model and criterion must get a gradient.
    params = dict(model.named_parameters()) | {f"criterion.{k}": p
                                               for k, p in criterion.named_parameters()}
    trainable = {k: p for k, p in params.items() if p.requires_grad}
    assert trainable.keys() == params.keys(), f"{method}: frozen {sorted(params.keys() - trainable.keys())}"
    before = {k: p.detach().clone() for k, p in trainable.items()}
    buffers = {k: b.clone() for k, b in criterion.named_buffers()}
    opt = torch.optim.SGD(list(trainable.values()), lr=0.01)
    model.train()
    loss, terms = sgd_step(model, criterion, opt, x, y)

    assert torch.isfinite(loss) and loss.dim() == 0
    assert terms and all(torch.isfinite(v) and not v.requires_grad for v in terms.values())
    no_grad = [k for k, p in trainable.items() if p.grad is None]
    assert not no_grad, f"{method}: no gradient for {no_grad}"
    bad = [k for k, p in trainable.items() if not torch.isfinite(p.grad).all()]
    assert not bad, f"{method}: non-finite gradient for {bad}"
    unmoved = [k for k, p in trainable.items() if torch.equal(p.detach(), before[k])]
    assert len(unmoved) < len(trainable), f"{method}: the step moved no parameter"
    if hasattr(criterion, "update_centers") and getattr(criterion, "use_center", True):
        assert any(not torch.equal(b, buffers[k]) for k, b in criterion.named_buffers()), \
            f"{method}: update_centers moved no center"

    enc = encode(model, images, norm, batch_size=3)  # batches of 3: the last one is short
    assert enc.codes.shape == (8, math.ceil(BITS / 8)) and enc.codes.dtype == np.uint8
    assert enc.features.shape == (8, BITS) and enc.features.dtype == np.float32
    bounded = getattr(getattr(model, "head", None), "bounded", True)  # DSH/DPSH: linear
    assert np.isfinite(enc.features).all() and (not bounded or np.abs(enc.features).max() <= 1)
    # the codes are the features' signs, packed by numpy (bit 1 for h >= 0, MSB first)
    np.testing.assert_array_equal(enc.codes, np.packbits(enc.features >= 0, axis=1))
    # encoding is inference: eval mode, one batch or several give the same features
    assert not model.training
    np.testing.assert_allclose(encode(model, images, norm).features, enc.features, atol=1e-6)


@pytest.mark.parametrize("method", ["dsh", "dpsh"])
def test_linear_outputs_are_the_tanh_heads_before_tanh(method):
    """outputs='linear' drops only the tanh: same seed, tanh of its outputs = the tanh head's."""
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    out = {}
    for outputs in ("tanh", "linear"):
        torch.manual_seed(0)
        model, _ = create_method(TrainConfig(method=method, bits=BITS, model_kwargs=TINY,
                                             method_kwargs={"outputs": outputs}), N_CLASSES)
        out[outputs] = model.eval()(x)[0].detach()
    torch.testing.assert_close(torch.tanh(out["linear"]), out["tanh"])
    with pytest.raises(ValueError, match="outputs must be 'tanh' or 'linear'"):
        create_method(TrainConfig(method=method, method_kwargs={"outputs": "relu"}), N_CLASSES)
