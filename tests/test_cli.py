"""The command line a newcomer uses: help, train on a tiny set, re-score it, encode and search
a folder."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

from dmh.experiments.recipes import FOLDER_RECIPE
from dmh.cli import build_parser, main
from dmh.core.config import TrainConfig
from dmh.core.paths import RESULTS_DIR
from dmh.experiments.jobs import train_run
from dmh.run.store import Store, checkpoint_path, user_store
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
    train_run(cfg, Store(tmp_path / "store"), progress=False, save=False)
    ckpt = str(checkpoint_path(cfg))
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


def _files(root: Path) -> dict:
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*") if p.is_file()}


def test_train_then_evaluate_reproduces_the_stored_record(easy_pickle, capsys):
    committed = _files(RESULTS_DIR)
    args = ["--dataset", easy_pickle, "--bits", "12", "--epochs", "1", "--batch-size", "32",
            "--model-kwargs", json.dumps(TINY), "--threads", "1"]
    # unset options on a folder come from the folder recipe (lam, mu), printed first
    cfg = TrainConfig(dataset=easy_pickle, bits=12, epochs=1, batch_size=32, model_kwargs=TINY,
                      threads=1, **{k: v for k, v in FOLDER_RECIPE.items() if k != "epochs"})
    assert main(["train", *args]) == 0
    record = user_store().run_path(cfg)
    out = capsys.readouterr().out
    assert out.startswith(f"{cfg.name()}: dmh on {easy_pickle}, 12 bits, 1 epochs, lr 0.1, lam 0.1, "
                          f"mu 0.001 (unset options: the folder default")
    assert f"record: {record}; checkpoint: {checkpoint_path(cfg)}" in out
    assert "x random codes" in out.splitlines()[-1]
    assert record.is_file() and record.is_relative_to(os.environ["DMH_RUNS"])
    stored = user_store().load_run(cfg).metrics

    assert main(["evaluate", cfg.name()]) == 0
    *metrics, verdict = capsys.readouterr().out.strip().splitlines()
    assert json.loads("\n".join(metrics)) == {k: v for k, v in stored.items() if k != "pr_curve"}
    assert verdict == f"equals the stored record {record}"

    assert main(["train", *args]) == 0  # cached by config: not retrained
    assert f"cached: {record} (yours)" in capsys.readouterr().out
    d = json.loads(record.read_text())
    d["metrics"]["map_all"] += 0.001
    record.write_text(json.dumps(d))
    assert main(["evaluate", str(checkpoint_path(cfg))]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"DIFFERS FROM the stored record {record}"
    assert _files(RESULTS_DIR) == committed  # the user's commands never write results/
