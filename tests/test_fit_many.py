"""Several runs trained as one (dmh.run.fit_many): each run ends where `fit` takes it, up to
floating-point rounding, for every method; checkpoints in `fit`'s format; resumable."""
from dataclasses import replace

import pytest
import torch

from conftest import TINY
from dmh.core.config import TrainConfig
from dmh.methods import METHODS
from dmh.run.checkpoint import load_trained, read_checkpoint
from dmh.run.fit import fit, protocol_parts
from dmh.run.fit_many import fit_many, stack_key
from dmh.run.store import checkpoint_path


def _cfgs(path, method, **kw):
    extra = {"sampler": "pk4"} if method in ("dsh", "dpsh", "hashnet") else {}
    base = TrainConfig(**({"dataset": path, "method": method, "bits": 12, "epochs": 2,
                           "batch_size": 32, "lr": 0.05, "threads": 1,
                           "model_kwargs": {} if method == "ddh" else TINY} | extra | kw))
    return [replace(base, seed=s) for s in (0, 3)]


def _state(cfg):
    s = read_checkpoint(checkpoint_path(cfg))
    return s["model"], s["criterion"], s["history"]


def _alone_then_stacked(cfgs, tmp_path, monkeypatch):
    """Each config trained by `fit` (its checkpoint's state kept), then all by `fit_many` in
    another runs folder, whose checkpoints `_state` then reads: (states alone, fitted)."""
    train = protocol_parts(cfgs[0])[0]
    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "one"))
    alone = []
    for c in cfgs:
        fit(c, train, progress=False)
        alone.append(_state(c))
    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "many"))
    return alone, fit_many(cfgs, train)


@pytest.mark.parametrize("method", list(METHODS))
def test_each_run_ends_where_fit_takes_it(method, easy_pickle, tmp_path, monkeypatch):
    cfgs = _cfgs(easy_pickle, method)
    alone, fitted = _alone_then_stacked(cfgs, tmp_path, monkeypatch)
    for c, (w, crit, hist), f in zip(cfgs, alone, fitted):
        w2, crit2, hist2 = _state(c)
        for k in w:
            assert torch.allclose(w[k].float(), w2[k].float(), rtol=1e-3, atol=2e-3), (method, k, float((w[k].float() - w2[k].float()).abs().max()))
        for k in crit:
            assert torch.allclose(crit[k].float(), crit2[k].float(), rtol=1e-3, atol=2e-3), (method, k)
        for e, e2 in zip(hist, hist2):
            assert e.keys() == e2.keys()
            assert all(abs(e[k] - e2[k]) <= 1e-3 * abs(e[k]) + 1e-5 for k in e if k != "seconds")
        assert all(torch.equal(a, b) for a, b in zip(f.model.state_dict().values(), w2.values()))
    assert not torch.equal(*(_state(c)[0][next(iter(w))] for c in cfgs))  # two seeds, two runs


def test_checkpoints_load_and_resume(easy_pickle, tmp_path):
    cfgs = _cfgs(easy_pickle, "dmh", epochs=3)
    train = protocol_parts(cfgs[0])[0]
    assert fit_many(cfgs, train, stop_after_epochs=1) is None
    assert [read_checkpoint(checkpoint_path(c))["epoch"] for c in cfgs] == [1, 1]
    resumed = fit_many(cfgs, train)
    model, _, cfg = load_trained(str(checkpoint_path(cfgs[1])))
    assert cfg == cfgs[1] and [len(f.history) for f in resumed] == [3, 3]
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                 resumed[1].model.state_dict().values()))


def test_what_may_differ_in_a_stack(easy_pickle):
    a, b = _cfgs(easy_pickle, "dmh")
    assert stack_key(a) == stack_key(b) == stack_key(replace(b, lr=0.1, lam=0.5, mu=0.2))
    assert stack_key(a) != stack_key(replace(a, epochs=3)) != stack_key(replace(a, batch_size=16))
    d1, d2 = _cfgs(easy_pickle, "dsh")
    assert stack_key(replace(d1, method_kwargs={"alpha": 0.1})) == stack_key(replace(d2, method_kwargs={"alpha": 0.5}))
    assert stack_key(d1) != stack_key(replace(d1, method_kwargs={"alpha": 0.01}))  # default vs set
    with pytest.raises(ValueError, match="differ in more than seed, lr and loss weights"):
        fit_many([a, replace(b, epochs=3)], None)


@pytest.mark.parametrize("method, change", [
    ("dmh", [{"lr": 0.05, "lam": 0.1, "mu": 0.01}, {"lr": 0.02, "lam": 0.01, "mu": 0.1}]),
    ("dsh", [{"lr": 0.05, "method_kwargs": {"alpha": 0.01}}, {"lr": 0.01, "method_kwargs": {"alpha": 0.1}}]),
    ("hashnet", [{"method_kwargs": {"beta_max": 5.0}}, {"method_kwargs": {"beta_max": 20.0}}]),
])
def test_runs_at_other_lrs_and_weights_end_where_fit_takes_them(method, change, easy_pickle, tmp_path,
                                                                monkeypatch):
    base = _cfgs(easy_pickle, method)[0]
    cfgs = [replace(base, **c) for c in change]
    alone, _ = _alone_then_stacked(cfgs, tmp_path, monkeypatch)
    for c, (w, crit, hist) in zip(cfgs, alone):
        w2, _, hist2 = _state(c)
        for k in w:
            assert torch.allclose(w[k].float(), w2[k].float(), rtol=1e-3, atol=2e-3), (method, k)
        assert all(abs(e["total"] - e2["total"]) <= 1e-3 * abs(e["total"]) for e, e2 in zip(hist, hist2))
    assert alone[0][2][-1]["total"] != alone[1][2][-1]["total"]  # the two runs did differ


def test_stack_groups_keep_order_and_size():
    from dmh.experiments.jobs import stack_groups
    a = [TrainConfig(dataset="d", seed=s) for s in range(5)]
    b = [TrainConfig(dataset="d", seed=s, epochs=3) for s in range(2)]
    groups = stack_groups([a[0], b[0], a[1], a[2], b[1], a[3], a[4]], 3)
    assert groups == [[a[0], a[1], a[2]], [b[0], b[1]], [a[3], a[4]]]
    assert stack_groups(a, 1) == [[c] for c in a]
    c = [TrainConfig(dataset="d", seed=s, precision="bf16") for s in range(3)]
    assert stack_groups(c, 3) == [[x] for x in c]  # bf16 never stacks


def test_bf16_runs_do_not_train_stacked(easy_pickle):
    """Why: under vmap, CPU autocast leaves a convolution in float32 (a plain call gives
    bf16), so a stacked 'bf16' run would train in float32. StackedRuns refuses them."""
    from torch.func import functional_call, stack_module_state, vmap

    from dmh.methods import create_method
    from dmh.run.fit_many import StackedRuns
    conv = torch.nn.Conv2d(3, 4, 3)
    p, b = stack_module_state([conv])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        plain = conv(torch.randn(2, 3, 8, 8))
        mapped = vmap(lambda p, b, x: functional_call(conv, (p, b), (x,)))(p, b, torch.randn(1, 2, 3, 8, 8))
    assert (plain.dtype, mapped.dtype) == (torch.bfloat16, torch.float32)
    cfg = replace(_cfgs(easy_pickle, "dmh")[0], precision="bf16")
    pairs = [create_method(cfg, n_classes=3) for _ in range(2)]
    with pytest.raises(ValueError, match="bf16 runs cannot train stacked"):
        StackedRuns([m for m, _ in pairs], [c for _, c in pairs], cfg)


def test_grid_pool_trains_stacked_records(easy_pickle, tmp_path):
    from dmh.experiments.runner import train_pool
    from dmh.run.store import Store
    store, said = Store(tmp_path / "store"), []
    cfgs = _cfgs(easy_pickle, "dmh", epochs=1) + [_cfgs(easy_pickle, "dmh", epochs=2)[0]]
    train_pool(cfgs, store, workers=1, stack=2, log=said.append)
    recs = [store.load_run(c) for c in cfgs]
    assert [r.hardware.get("stacked") for r in recs] == [2, 2, None]  # the third trained alone
    assert said[0] == "3 runs, 0 cached, 3 to train (stacked up to 2 a model)"
    assert sum("(2 stacked)" in s for s in said) == 2



@pytest.mark.parametrize("stacked", [False, True])
def test_a_diverged_run_stops_with_its_last_finite_checkpoint(stacked, easy_pickle, monkeypatch):
    """From epoch 2 on the lr is 1e30: the loss leaves the floats in that epoch, and the run
    stops there, naming itself and the fix, its checkpoint still at epoch 1."""
    import dmh.run.fit as F
    import dmh.run.fit_many as FM
    real = F.cosine_lr
    blown = lambda base, step, total, warmup=0: real(base, step, total, warmup) if step < total // 3 else 1e30  # noqa: E731
    monkeypatch.setattr(F, "cosine_lr", blown)
    monkeypatch.setattr(FM, "cosine_lr", blown)
    cfgs = _cfgs(easy_pickle, "dmh", epochs=3)
    train = protocol_parts(cfgs[0])[0]
    with pytest.raises(ValueError, match=r"diverged at epoch 2 \(loss (nan|inf)\) with lr 0.05: train it with a lower lr; .*holds epoch 1$"):
        fit_many(cfgs, train) if stacked else fit(cfgs[0], train, progress=False)
    for c in cfgs if stacked else cfgs[:1]:
        state = read_checkpoint(checkpoint_path(c))
        assert state["epoch"] == 1 and all(torch.isfinite(v).all() for v in state["model"].values()
                                           if v.is_floating_point())


@pytest.mark.parametrize("stacked", [False, True])
def test_a_run_diverged_in_its_first_epoch_says_no_checkpoint_was_saved(stacked, easy_pickle, monkeypatch):
    """The lr is 1e30 from the first step: there is no earlier epoch to name, and none on disk."""
    import dmh.run.fit as F
    import dmh.run.fit_many as FM
    monkeypatch.setattr(F, "cosine_lr", lambda *a, **k: 1e30)
    monkeypatch.setattr(FM, "cosine_lr", lambda *a, **k: 1e30)
    cfgs = _cfgs(easy_pickle, "dmh", epochs=3)
    train = protocol_parts(cfgs[0])[0]
    with pytest.raises(ValueError, match=r"diverged at epoch 1 \(loss (nan|inf)\) .*; no checkpoint was saved$"):
        fit_many(cfgs, train) if stacked else fit(cfgs[0], train, progress=False)
    assert not any(checkpoint_path(c).exists() for c in cfgs)
