"""The command line a newcomer uses: help, train on a tiny set, encode and search a folder."""
import numpy as np
import pytest

from dmh.cli import build_parser, main
from dmh.core.config import TrainConfig
from dmh.train import runs_dir, train
from test_data import make_folder
from conftest import TINY


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("split", "floors", "train", "evaluate", "encode", "search", "grid", "book"):
        assert cmd in out


def test_missing_dataset_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DMH_DATA", str(tmp_path))
    assert main(["split", "lfw"]) == 2
    err = capsys.readouterr().err
    assert "data/README.md" in err and "lfw" in err


def test_encode_and_search_a_folder(easy_pickle, tmp_path, capsys):
    cfg = TrainConfig(dataset=easy_pickle, bits=12, epochs=1, batch_size=32, model_kwargs=TINY,
                      threads=1)
    train(cfg, progress=False, write_result=False)
    ckpt = str(runs_dir() / cfg.name() / "checkpoint.pt")
    folder = make_folder(tmp_path / "faces", {"Ann Lee": [10, 20, 30], "Bo": [200, 210]})
    out = tmp_path / "codes.npz"
    assert main(["encode", ckpt, str(folder), "--out", str(out)]) == 0
    z = np.load(out)
    assert z["codes"].shape == (5, 2) and z["codes"].dtype == np.uint8  # 12 bits -> 2 bytes
    assert list(z["keys"])[0] == "Ann Lee/img 0.png"
    capsys.readouterr()
    assert main(["search", ckpt, str(folder), str(folder / "Bo" / "img 0.png"), "-k", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].lstrip().startswith("1")
    # the query photo itself is in the gallery: it is at distance 0, so the top hit has d=0
    assert "d= 0" in lines[0]
