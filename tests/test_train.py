"""Training: seeded, resumable to the same weights, and it learns on an easy synthetic set."""
import numpy as np
import pytest
import torch

from dmh.augment import flip_and_shift
from dmh.core.config import TrainConfig
from conftest import TINY
from dmh.experiments.jobs import train_run
from dmh.run.fit import cosine_lr
from dmh.run.store import Store, checkpoint_path


def _cfg(path, **kw):
    base = dict(dataset=path, bits=12, epochs=2, batch_size=32, lr=0.05, model_kwargs=TINY,
                threads=1)
    return TrainConfig(**(base | kw))


def _train(cfg, tmp_path, **kw):
    """Train and score without writing a record (a throw-away store), as a test needs."""
    return train_run(cfg, Store(tmp_path / "store"), progress=False, save=False, **kw)


def _weights(cfg):
    state = torch.load(checkpoint_path(cfg), weights_only=False)
    return state["model"], state["criterion"]


def test_resume_gives_the_same_weights(easy_pickle, tmp_path, monkeypatch):
    cfg = _cfg(easy_pickle)
    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "a"))
    full = _train(cfg, tmp_path)
    w_full, c_full = _weights(cfg)
    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "b"))
    assert _train(cfg, tmp_path, stop_after_epochs=1) is None
    assert torch.load(checkpoint_path(cfg), weights_only=False)["epoch"] == 1
    resumed = _train(cfg, tmp_path)
    w_res, c_res = _weights(cfg)
    for k in w_full:
        assert torch.equal(w_full[k], w_res[k]), k
    assert torch.equal(c_full["center.centers"], c_res["center.centers"])
    assert full.metrics == resumed.metrics
    untimed = lambda h: [{k: v for k, v in e.items() if k != "seconds"} for e in h]  # noqa: E731
    assert untimed(full.history) == untimed(resumed.history)


def test_same_seed_same_codes_other_seed_differs(easy_pickle, tmp_path, monkeypatch):
    cfg = _cfg(easy_pickle, epochs=1)
    a = _train(cfg, tmp_path, force=True)
    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "again"))
    b = _train(cfg, tmp_path, force=True)
    assert a.metrics == b.metrics and a.history[0]["total"] == b.history[0]["total"]
    c = _train(_cfg(easy_pickle, epochs=1, seed=1), tmp_path)
    assert c.history[0]["total"] != a.history[0]["total"]


def test_record_is_cached_by_config(easy_pickle, tmp_path, monkeypatch):
    cfg = _cfg(easy_pickle, epochs=1)
    store = Store(tmp_path / "store")
    rec = train_run(cfg, store, progress=False)
    assert store.run_path(cfg).is_file() and store.load_run(cfg) == rec
    monkeypatch.setattr("dmh.experiments.jobs.fit", lambda *a, **k: pytest.fail("retrained"))
    assert train_run(cfg, store, progress=False) == rec


def test_learns_easy_identities(easy_pickle, tmp_path):
    rec = _train(_cfg(easy_pickle, epochs=10, bits=24, lr=0.1, batch_size=16), tmp_path)
    assert rec.split["n_query"] == 8 * 5 and rec.name == rec.config.name()
    # random codes score ~1/8 here; the patterns are easy
    assert rec.metrics["map_all"] > 0.6, rec.metrics["map_all"]
    assert rec.metrics["map_all_train"] > 0.6, rec.metrics  # fits the images it trained on
    assert np.isfinite(rec.history[-1]["total"])


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


def test_checkpoint_verified_before_use(easy_pickle, tmp_path):
    """A flipped byte, a truncated file or a missing digest is refused with the path and the
    fix; an unfinished run's checkpoint only with allow_partial."""
    from dmh.experiments.jobs import train_run
    from dmh.run.checkpoint import load_trained, read_checkpoint
    from dmh.run.store import Store, checkpoint_path

    cfg = _cfg(easy_pickle, epochs=2)
    assert train_run(cfg, Store(tmp_path / "s"), progress=False, stop_after_epochs=1) is None
    ckpt = checkpoint_path(cfg)
    with pytest.raises(ValueError, match="stopped after epoch 1 of 2.*--allow-partial"):
        load_trained(str(ckpt))
    assert load_trained(str(ckpt), allow_partial=True)[2] == cfg
    data = bytearray(ckpt.read_bytes())
    data[len(data) // 2] ^= 0xFF
    ckpt.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f"{ckpt}: checksum mismatch.*retrain"):
        read_checkpoint(ckpt)
    ckpt.write_bytes(b"")
    with pytest.raises(ValueError, match="checksum mismatch"):
        read_checkpoint(ckpt)
    ckpt.with_name("checkpoint.pt.sha256").unlink()
    with pytest.raises(ValueError, match="cannot read the checkpoint or its .sha256"):
        read_checkpoint(ckpt)


def test_bf16_autocast_is_its_own_run_and_learns(easy_pickle, tmp_path):
    cfg = _cfg(easy_pickle, epochs=4, bits=24, lr=0.1, batch_size=16)
    bf16 = TrainConfig(**{**cfg.to_dict(), "precision": "bf16"})
    assert "precision" not in cfg.to_dict() and bf16.key() != cfg.key()  # older keys unchanged
    with pytest.raises(ValueError, match="precision must be 'fp32' or 'bf16'"):
        TrainConfig(precision="fp16")
    a, b = _train(cfg, tmp_path), _train(bf16, tmp_path)
    assert a.metrics["map_all"] != b.metrics["map_all"]  # another run, not the same arithmetic
    assert b.metrics["map_all"] > 0.5  # random codes score ~1/8 here


def test_unfinished_runs_are_handed_on_furthest_first(easy_pickle, tmp_path, monkeypatch):
    """What a time-limited machine hands on: verified checkpoints of runs without a record
    (trained but not scored too), furthest along first; a recorded or damaged one stays."""
    from dmh.run.checkpoint import unfinished_runs

    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "runs"))
    store = Store(tmp_path / "store")
    half = _cfg(easy_pickle, epochs=2, seed=1)       # 1 of 2 epochs
    third = _cfg(easy_pickle, epochs=3, seed=2)      # 1 of 3
    done = _cfg(easy_pickle, epochs=1, seed=3)       # finished, recorded
    unscored = _cfg(easy_pickle, epochs=1, seed=5)   # finished, no record
    broken = _cfg(easy_pickle, epochs=2, seed=4)     # 1 of 2, then damaged
    for c in (half, third, broken):
        assert train_run(c, store, progress=False, stop_after_epochs=1) is None
    train_run(done, store, progress=False)
    train_run(unscored, store, progress=False, save=False)
    checkpoint_path(broken).write_bytes(b"not a checkpoint")
    got = unfinished_runs(tmp_path / "runs", store)
    assert [(p.name, f) for p, f in got] == [(unscored.name(), 1.0), (half.name(), 0.5),
                                             (third.name(), 1 / 3)]


def test_channels_last_is_the_same_run_in_another_layout(easy_pickle, tmp_path, monkeypatch):
    """DMH_CHANNELS_LAST=1 (`dmh grid --channels-last`): the same losses up to float rounding,
    the record says so, and a checkpoint resumes only in the layout it began in."""
    from dmh.core.paths import channels_last
    cfg = _cfg(easy_pickle, epochs=1)
    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "a"))
    plain = _train(cfg, tmp_path)
    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "b"))
    monkeypatch.setenv("DMH_CHANNELS_LAST", "1")
    assert _train(_cfg(easy_pickle, epochs=2), tmp_path, stop_after_epochs=1) is None
    cl = torch.load(checkpoint_path(_cfg(easy_pickle, epochs=2)), weights_only=False)
    assert cl["channels_last"] is True
    convs = [w for w in cl["model"].values() if w.dim() == 4 and w.shape[1] > 1 and w.shape[2] > 1]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous()
                         for w in convs)  # the weights trained in that layout
    assert "memory_format" not in plain.hardware
    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "c"))
    other = _train(cfg, tmp_path)
    assert other.hardware["memory_format"] == "channels_last"
    a, b = plain.history[0]["total"], other.history[0]["total"]
    assert abs(a - b) <= 1e-4 * abs(a), (a, b)  # the same arithmetic in another order
    # resuming b's half-trained run without the flag, or with a bad value: one line each
    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "b"))
    monkeypatch.setenv("DMH_CHANNELS_LAST", "0")
    with pytest.raises(ValueError, match="was trained with channels_last: resume with it"):
        _train(_cfg(easy_pickle, epochs=2), tmp_path)
    monkeypatch.setenv("DMH_CHANNELS_LAST", "yes")
    with pytest.raises(ValueError, match="DMH_CHANNELS_LAST='yes': set it to 1"):
        channels_last()
