"""Every user error of the CLI is one line on stderr naming what to fix, exit code 2, and
never a traceback."""
import json

import pytest

from conftest import TINY
from dmh.cli import main
from dmh.core.config import TrainConfig
from dmh.data import load_dataset
from dmh.experiments.jobs import train_run
from dmh.run.store import checkpoint_path, user_store


@pytest.fixture
def trained(easy_pickle):
    cfg = TrainConfig(dataset=easy_pickle, bits=12, epochs=1, batch_size=32, model_kwargs=TINY, threads=1)
    train_run(cfg, user_store(), progress=False)
    return cfg


def _one_line_error(capsys, argv, *expected):
    assert main(argv) == 2, argv
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for e in expected:
        assert e in err, (e, err)


@pytest.mark.parametrize("option, value, expected", [
    ("--epochs", "0", "epochs must be a whole number >= 1, got 0"),
    ("--epochs", "-2", "epochs must be a whole number >= 1, got -2"),
    ("--batch-size", "0", "batch_size must be"),
    ("--threads", "0", "threads must be"),
    ("--bits", "0", "bits must be"),
    ("--lr", "-1", "lr must be > 0"),
    ("--device", "cuda", "sees no CUDA GPU; use --device cpu"),
    ("--device", "tpu", "use cpu or cuda"),
    ("--model-kwargs", json.dumps({"nope": 1}), "unexpected keyword argument 'nope'"),
    ("--eval-split", "train", "eval_split must be 'val' or 'test'"),
])
def test_train_arguments_checked_at_the_boundary(easy_pickle, capsys, option, value, expected):
    _one_line_error(capsys, ["train", "--dataset", easy_pickle, option, value], expected)


def test_bad_query_and_output(trained, easy_pickle, tmp_path, capsys):
    name = trained.name()
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    for photo, expected in ((empty, "not a file, or empty"), (tmp_path, "not a file, or empty"),
                            (text, str(text))):
        _one_line_error(capsys, ["search", name, easy_pickle, str(photo)], expected)
    _one_line_error(capsys, ["encode", name, easy_pickle, "--out", str(tmp_path)], "is a folder")


def test_damaged_files_named(trained, easy_pickle, tmp_path, monkeypatch, capsys):
    record = user_store().run_path(trained)
    record.write_text(record.read_text()[:100])
    _one_line_error(capsys, ["runs"], str(record), "not valid JSON")
    ckpt = checkpoint_path(trained)
    ckpt.write_bytes(ckpt.read_bytes()[:-10])
    _one_line_error(capsys, ["evaluate", trained.name()], str(ckpt), "checksum mismatch")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("DMH_RUNS", str(blocker / "runs"))  # where a folder's split goes
    _one_line_error(capsys, ["split", easy_pickle], "a-file")


def test_resume_with_other_threads_refused(easy_pickle, capsys):
    cfg = TrainConfig(dataset=easy_pickle, bits=12, epochs=2, batch_size=32, model_kwargs=TINY,
                      threads=1, data_checksum=load_dataset(easy_pickle).checksum)
    assert train_run(cfg, user_store(), progress=False, stop_after_epochs=1) is None
    _one_line_error(capsys, ["train", "--dataset", easy_pickle, "--bits", "12", "--epochs", "2",
                             "--batch-size", "32", "--model-kwargs", json.dumps(TINY), "--threads", "2",
                             "--lam", "0.1", "--mu", "0.05"],
                    "was trained with 1 threads: resume with --threads 1")


def test_damaged_cache_is_named_and_decoded_again(tmp_path, monkeypatch, capsys):
    """A flipped byte in a cached array would be a silent wrong result: it is caught by the
    array's sha256, said, and the images are decoded again."""
    import numpy as np

    from dmh.data import load_dataset
    from test_cli import _noisy_folder

    monkeypatch.setenv("DMH_CACHE", str(tmp_path / "cache"))
    folder = _noisy_folder(tmp_path / "faces", n_ids=2, per_id=3)
    first = load_dataset(str(folder))
    (cache,) = (tmp_path / "cache").glob("faces-*.npy")
    data = bytearray(cache.read_bytes())
    data[-5] ^= 0xFF
    cache.write_bytes(bytes(data))
    capsys.readouterr()
    again = load_dataset(str(folder))
    assert f"{cache}: cached array damaged" in capsys.readouterr().err
    np.testing.assert_array_equal(again.images, first.images)
    cache.write_bytes(cache.read_bytes()[:50])  # truncated: the same
    np.testing.assert_array_equal(load_dataset(str(folder)).images, first.images)


def test_full_disk_is_one_line(trained, easy_pickle, tmp_path, monkeypatch, capsys):
    import errno

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "codes.npz"))

    monkeypatch.setattr("dmh.core.atomic.atomic_write", full)
    _one_line_error(capsys, ["encode", trained.name(), easy_pickle, "--out", str(tmp_path / "codes.npz")],
                    "No space left on device")


def test_strict_fails_on_a_bad_image_else_skips_and_says(trained, tmp_path, capsys):
    from test_cli import _noisy_folder

    folder = _noisy_folder(tmp_path / "faces", n_ids=2, per_id=3)
    (folder / "person 1" / "notes.jpg").write_text("not an image")
    out = tmp_path / "codes.npz"
    assert main(["encode", trained.name(), str(folder), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "6 images, 1 skipped" in err and "notes.jpg" in err
    _one_line_error(capsys, ["encode", trained.name(), str(folder), "--out", str(out), "--strict"],
                    "notes.jpg")
