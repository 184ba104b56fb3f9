"""Training: seeded, resumable to the same weights, and it learns on an easy synthetic set."""
import numpy as np
import pytest
import torch

from dmh.augment import flip_and_shift
from dmh.core.config import TrainConfig
from conftest import TINY
from dmh.train import cosine_lr, runs_dir, train

def _cfg(path, **kw):
    base = dict(dataset=path, bits=12, epochs=2, batch_size=32, lr=0.05, model_kwargs=TINY,
                threads=1)
    return TrainConfig(**(base | kw))


def _weights(cfg):
    state = torch.load(runs_dir() / cfg.name() / "checkpoint.pt", weights_only=False)
    return state["model"], state["criterion"]


def test_resume_gives_the_same_weights(easy_pickle, tmp_path, monkeypatch):
    cfg = _cfg(easy_pickle)
    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "a"))
    full = train(cfg, progress=False, write_result=False)
    w_full, c_full = _weights(cfg)
    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "b"))
    assert train(cfg, progress=False, write_result=False, stop_after_epochs=1) == {
        "interrupted_after_epoch": 1}
    resumed = train(cfg, progress=False, write_result=False)
    w_res, c_res = _weights(cfg)
    for k in w_full:
        assert torch.equal(w_full[k], w_res[k]), k
    assert torch.equal(c_full["center.centers"] if "center.centers" in c_full else
                       next(iter(c_full.values())), c_res["center.centers"] if "center.centers" in c_res
                       else next(iter(c_res.values())))
    assert full["metrics"] == resumed["metrics"]


def test_same_seed_same_codes_other_seed_differs(easy_pickle, tmp_path, monkeypatch):
    cfg = _cfg(easy_pickle, epochs=1)
    a = train(cfg, progress=False, write_result=False, force=True)
    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "again"))
    b = train(cfg, progress=False, write_result=False, force=True)
    assert a["metrics"] == b["metrics"] and a["history"][0]["total"] == b["history"][0]["total"]
    c = train(_cfg(easy_pickle, epochs=1, seed=1), progress=False, write_result=False)
    assert c["history"][0]["total"] != a["history"][0]["total"]


def test_learns_easy_identities(easy_pickle):
    rec = train(_cfg(easy_pickle, epochs=10, bits=24, lr=0.1, batch_size=16), progress=False,
                write_result=False)
    assert rec["split"]["n_query"] == 8 * 5
    # random codes score ~1/8 here; the patterns are easy
    assert rec["metrics"]["map_all"] > 0.6, rec["metrics"]["map_all"]
    assert np.isfinite(rec["history"][-1]["total"])


def test_config_key_ignores_threads_but_not_seed():
    a = TrainConfig(threads=1)
    assert a.key() == TrainConfig(threads=2).key() != TrainConfig(seed=1).key()
    with pytest.raises(ValueError, match="losses"):
        TrainConfig(losses=("softmax", "triplet"))
    assert TrainConfig.from_dict(a.to_dict()) == a


def test_cosine_schedule_closed_form():
    assert cosine_lr(0.1, 0, 100) == pytest.approx(0.1)
    assert cosine_lr(0.1, 50, 100) == pytest.approx(0.05)
    assert cosine_lr(0.1, 100, 100) == pytest.approx(0.0)


def test_flip_and_shift_by_hand():
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.uint8).view(2, 1, 4, 4)
    g = torch.Generator().manual_seed(0)
    out = flip_and_shift(x, g, max_shift=0)
    for i in range(2):  # each image is itself or its mirror
        assert torch.equal(out[i], x[i]) or torch.equal(out[i], x[i].flip(-1))
    out = flip_and_shift(x, torch.Generator().manual_seed(1), max_shift=1)
    assert out.shape == x.shape and out.dtype == torch.uint8
    # every output pixel comes from the same image (rows/cols shift within bounds)
    for i in range(2):
        assert set(out[i].flatten().tolist()) <= set(x[i].flatten().tolist())
