"""The command line a newcomer uses: help, train on a tiny set, re-score it, encode and search
a folder."""
import json
from dataclasses import replace
import os
from pathlib import Path

import numpy as np
from PIL import Image
import pytest

from dmh.experiments.recipes import FOLDER_RECIPE
from dmh.cli import build_parser, main
from dmh.core.config import TrainConfig
from dmh.core.paths import RESULTS_DIR
from dmh.data import load_dataset
from dmh.run.records import with_digest
from dmh.run.store import checkpoint_path, user_store
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


def _noisy_folder(root: Path, n_ids: int = 6, per_id: int = 12) -> Path:
    """Identity folders of 32x32 PNGs: a colour per person plus pixel noise."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(n_ids):
        (root / f"person {i}").mkdir(parents=True)
        colour = rng.integers(30, 226, size=3)
        for j in range(per_id):
            img = np.clip(colour + rng.normal(0, 20, size=(32, 32, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(root / f"person {i}" / f"img {j}.png")
    return root


def test_newcomer_path_on_a_folder(tmp_path, monkeypatch, capsys):
    """split, floors, train (folder recipe), cached train, evaluate, encode, search, runs:
    each says what it did, and nothing under results/ changes."""
    monkeypatch.setenv("DMH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "runs"))
    committed = _files(RESULTS_DIR)
    folder = str(_noisy_folder(tmp_path / "faces"))
    out = lambda: capsys.readouterr().out  # noqa: E731
    assert main(["split", folder]) == 0 and "6 identities, 72 images" in out()
    assert main(["floors", "--datasets", folder, "--bits", "12"]) == 0
    assert f"wrote {tmp_path / 'runs' / 'user' / 'floors.json'}" in out()
    args = ["train", "--dataset", folder, "--bits", "24", "--batch-size", "16", "--threads", "1",
            "--model-kwargs", json.dumps(TINY)]
    assert main(args) == 0
    lines = out().splitlines()
    assert "40 epochs, lr 0.1, lam 0.1, mu 0.001 (unset options: the folder default" in lines[0]
    assert lines[1].startswith("epoch 1/40: loss ") and "img/s" in lines[1] and "ETA" in lines[1]
    assert sum(ln.startswith("epoch ") for ln in lines) == 40
    assert lines[-1].startswith("learned: test mAP@all"), lines[-1]  # not degenerate
    assert main(args) == 0 and "(yours); checkpoint: " in out()
    name = lines[0].split(":")[0]
    assert main(["evaluate", name]) == 0 and "equals the stored record" in out()
    codes = tmp_path / "codes.npz"
    assert main(["encode", name, folder, "--features", "--out", str(codes)]) == 0
    assert "72 images of 6 identities" in out() and np.load(codes)["features"].shape == (72, 24)
    photo = str(Path(folder) / "person 3" / "img 0.png")
    assert main(["search", name, folder, photo, "-k", "5", "--codes", str(codes)]) == 0
    lines = out().splitlines()
    assert lines[0].startswith("ties at equal Hamming distance are ordered by a seeded random")
    assert len(lines) == 6 and "person 3" in lines[1] and "d= 0" in lines[1]
    sheet = tmp_path / "sheet.png"
    assert main(["search", name, folder, photo, "-k", "5", "--ties", "float", "--sheet", str(sheet)]) == 0
    lines = out().splitlines()
    assert "float distance" in lines[1] and "person 3/img 0.png" in lines[2]  # itself first
    hits = sum("person 3 " in ln for ln in lines[2:7])
    assert lines[-1] == f"contact sheet -> {sheet} ({hits} of 5 are person 3, framed green)"
    # the query and 5 hits: one row of 6 tiles of 112 pixels, 6-pixel gaps, 28 for captions
    assert Image.open(sheet).size == (6 * 118 + 6, 112 + 28 + 12)
    assert main(["search", name, folder, photo, "-k", "5", "--sheet", str(sheet),
                 "--identity", "nobody"]) == 0 and "(0 of 5 are nobody" in out()
    assert main(["runs"]) == 0
    listing = out()
    assert name in listing and "finished" in listing and "1 runs in" in listing
    assert _files(RESULTS_DIR) == committed


def test_missing_weights_name_the_command(tmp_path, monkeypatch, capsys):
    """A committed run without weights here: the exact command that makes them, in the user's
    folder only."""
    from dmh.run.store import paper_store

    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "runs"))
    rec = paper_store().all_runs()[0]
    assert main(["encode", rec.name, "lfw", "--out", str(tmp_path / "c.npz")]) == 2
    err = capsys.readouterr().err
    assert "has a record" in err and "dmh train --dataset " in err and err.rstrip().endswith(
        "(writes only to your runs folder)") and f"--seed {rec.config.seed}" in err


def _files(root: Path) -> dict:
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*") if p.is_file()}


def test_train_then_evaluate_reproduces_the_stored_record(easy_pickle, capsys):
    committed = _files(RESULTS_DIR)
    args = ["--dataset", easy_pickle, "--bits", "12", "--epochs", "1", "--batch-size", "32",
            "--model-kwargs", json.dumps(TINY), "--threads", "1"]
    # unset options on a folder come from the folder recipe (lam, mu), printed first
    cfg = TrainConfig(dataset=easy_pickle, bits=12, epochs=1, batch_size=32, model_kwargs=TINY,
                      threads=1, **{k: v for k, v in FOLDER_RECIPE.items() if k != "epochs"},
                      data_checksum=load_dataset(easy_pickle).checksum)  # keyed by content
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
    record.write_text(json.dumps(d))  # edited by hand: its digest no longer matches
    assert main(["evaluate", str(checkpoint_path(cfg))]) == 2
    assert "does not match its sha256" in capsys.readouterr().err
    record.write_text(json.dumps(with_digest(d)))  # a valid record of other metrics
    assert main(["evaluate", str(checkpoint_path(cfg))]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"DIFFERS FROM the stored record {record}"
    assert _files(RESULTS_DIR) == committed  # the user's commands never write results/


def test_changed_folder_is_a_new_run_and_split(tmp_path, monkeypatch, capsys):
    """A run is keyed by its images, not the folder's path: an added image makes a new split
    (the stale one replaced, and said so) and a new run, never the old record."""
    monkeypatch.setenv("DMH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "runs"))
    folder = _noisy_folder(tmp_path / "faces")
    args = ["train", "--dataset", str(folder), "--bits", "8", "--epochs", "1", "--batch-size", "16",
            "--threads", "1", "--model-kwargs", json.dumps(TINY)]
    assert main(args) == 0
    first = capsys.readouterr().out.splitlines()[0].split(":")[0]
    splits = sorted((tmp_path / "runs" / "splits").glob("faces-*"))
    (folder / "person 0" / "img 0.png").unlink()
    (folder / "person 0" / "img 1.png").rename(folder / "person 0" / "img 99.png")
    _noisy_folder(tmp_path / "more")
    (tmp_path / "more" / "person 0" / "img 0.png").rename(folder / "person 0" / "img 0.png")
    assert main(args) == 0
    out = capsys.readouterr().out
    second = out.splitlines()[1].split(":")[0]
    assert second != first and "cached" not in out and "replaced the split" in out
    assert len(list((tmp_path / "runs" / "splits").glob("faces-*"))) == len(splits) == 1


def test_train_defaults_are_the_recipe_and_shown(capsys):
    """On lfw/pins the validation-chosen recipe (no training needed to check it); --help shows
    every option's default; a run that learned nothing says so plainly."""
    from dmh.cli import build_parser
    from dmh.cli.runs import _config_from_args
    from dmh.experiments.jobs import verdict
    from dmh.run.store import paper_store

    for ds, chosen in (("lfw", {"lr": 0.1, "lam": 0.1, "mu": 0.001}),
                       ("pins", {"lr": 0.1, "lam": 0.01, "mu": 0.001})):
        cfg, source = _config_from_args(build_parser().parse_args(["train", "--dataset", ds]))
        assert {k: getattr(cfg, k) for k in chosen} == chosen and "validation-chosen" in source
        assert cfg.epochs == {"lfw": 40, "pins": 10}[ds]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for opt in ("--epochs", "--lam", "--mu", "--batch-size", "--threads", "--losses", "--trunk"):
        assert opt in text
    assert text.count("default") >= len(TrainConfig.__dataclass_fields__)
    assert "0.001 on a folder, the paper's on lfw/pins" in text
    rec = paper_store().all_runs()[0]
    dead = replace(rec, metrics=rec.metrics | {"map_all": 0.001})
    assert verdict(dead).startswith("LEARNED NOTHING: test mAP@all 0.0010 = 0.")


@pytest.mark.parametrize("argv, profile", [
    (["--records-only", "--profile", "quick"], "quick"),
    ([], "paper"),  # a committed profile's chapters read its records, examples included
])
def test_book_on_stored_records_trains_nothing(monkeypatch, argv, profile):
    """`dmh book --records-only`, and `dmh book` of the paper profile, execute on the stored
    records: the runner is not called."""
    import dmh.book
    import dmh.experiments.runner

    def no_training(*a, **k):
        raise AssertionError("the runner was called")

    built = []
    monkeypatch.setattr(dmh.experiments.runner, "run_grids", no_training)
    monkeypatch.setattr(dmh.book, "build_book", lambda *a, **k: built.append((a, k)))
    assert main(["book", "--chapters", "unseen", *argv]) == 0
    assert built == [((profile, ["unseen"]), {"execute": True, "toc": None})]


def test_grid_estimate_trains_nothing(monkeypatch, capsys):
    """`dmh grid ... --estimate` counts what is left and prices it from the records; no run."""
    import dmh.experiments.runner

    def no_training(*a, **k):
        raise AssertionError("the runner was called")

    monkeypatch.setattr(dmh.experiments.runner, "run_grids", no_training)
    import dmh.report.lend_rate as LR
    monkeypatch.setattr(LR, "lend_rate", lambda: None)  # no lend logged: no GPU line
    assert main(["grid", "ladder-lfw", "search-pins", "--estimate"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ladder-lfw: ") and " runs to train, about " in out[0]
    assert out[1].startswith("search-pins: ") and out[-1].startswith("in all about ")
    # at 8x the epochs nothing of the comparison is trained yet: every run is priced, once
    assert main(["grid", "comparison-lfw", "comparison-lfw", "--estimate", "--times", "8"]) == 0
    first, again, total = capsys.readouterr().out.splitlines()
    assert first.startswith("comparison-lfw: 42 runs to train") and again.startswith("comparison-lfw: 0 runs")
    assert "at 8x their epochs" in total and "without a GPU" not in first
    # main's later seeds at the shorter codes are the runs a CPU cuts: both prices are printed
    assert main(["grid", "main-lfw", "--estimate", "--times", "8"]) == 0
    line, total, kept = capsys.readouterr().out.splitlines()
    assert line.startswith("main-lfw: 12 runs to train") and "; without a GPU keep 6, about " in line
    assert kept.startswith("without a GPU, the cells the verdicts rest on")
    hours = [float(x.split(" CPU hours")[0].rsplit(" ", 1)[1]) for x in (total, kept)]
    assert 0 < hours[1] < hours[0]
    # with a logged lend's rate (7200 CPU s in 360 s of wall), the total in GPU hours too
    monkeypatch.setattr(LR, "lend_rate", lambda: LR.LendRate(1, 5, 7200.0, 360.0, ("G",)))
    assert main(["grid", "main-lfw", "--estimate", "--times", "8"]) == 0
    gpu = capsys.readouterr().out.splitlines()[2]
    assert gpu.startswith("on a GPU: at the rate of the GPU lends logged so far (1 on G, 5 short runs")
    assert f"that is about {hours[0] / 20:.1f} GPU hours" in gpu
    assert main(["grid", "nope-lfw", "--estimate"]) == 2
    assert "unknown grid 'nope-lfw'" in capsys.readouterr().err


def test_grid_estimate_prices_the_cells_twins_stand_in_for(monkeypatch, capsys):
    """The plateau profile trains in float32, so a CPU without native bf16 gets no warning,
    and the main grid's cells that bf16 twins stand in for are priced as left to train."""
    import dmh.core.provenance as provenance
    import dmh.experiments.runner

    monkeypatch.setattr(dmh.experiments.runner, "run_grids", lambda *a, **k: 1 / 0)
    monkeypatch.setattr(provenance, "cpu_flags", lambda: {"avx2"})
    from dmh.experiments.grids import parse
    from dmh.experiments.precision_twins import own_runs
    from dmh.experiments.profiles import get_profile

    assert main(["grid", "main-lfw", "--profile", "plateau", "--estimate"]) == 0
    out = capsys.readouterr().out
    assert "bfloat16" not in out and "--fp32" not in out
    p = get_profile("plateau")  # the committed records: every float32 cell not landed is left
    g, ds = parse("main-lfw", p)
    left = [c for c in g.items(ds, own_runs(p)) if not p.store.has_run(c)]
    assert out.startswith(f"main-lfw: {len(left)} runs to train, about ") if left else "0 runs" in out


def test_grid_channels_last_sets_the_layout_for_the_workers(monkeypatch, capsys):
    """`dmh grid --channels-last` hands the layout to every run through DMH_CHANNELS_LAST (the
    workers inherit it); with --stack it is one line, exit 2 (stacked runs keep the default)."""
    import os

    import dmh.experiments.runner

    seen = []
    monkeypatch.setenv("DMH_CHANNELS_LAST", "0")  # restored after the test
    monkeypatch.setattr(dmh.experiments.runner, "run_grids",
                        lambda *a, **k: seen.append(os.environ["DMH_CHANNELS_LAST"]))
    assert main(["grid", "main-lfw", "--channels-last", "--stack", "2"]) == 2
    assert "--channels-last trains one run at a time: leave out --stack" in capsys.readouterr().err
    assert seen == [] and main(["grid", "main-lfw", "--channels-last"]) == 0 and seen == ["1"]


def test_grid_only_trains_the_runs_so_named(monkeypatch, capsys):
    """`dmh grid ... --only PREFIX` hands the runner's pool only the runs so named (the same
    configs as the whole grid's); a prefix that names no run is one line, exit 2."""
    import dmh.experiments.runner as R
    from dmh.experiments.grids import parse
    from dmh.experiments.precision_twins import own_runs
    from dmh.experiments.profiles import get_profile

    pooled = []
    monkeypatch.setattr(R, "train_pool", lambda cs, *a, **k: pooled.extend(c.name() for c in cs))
    assert main(["grid", "comparison-pins", "--profile", "plateau", "--only", "dcdh-pins-48b-s1",
                 "ddh-pins-12b"]) == 0
    g, ds = parse("comparison-pins", get_profile("plateau"))
    whole = [c.name() for c in g.items(ds, own_runs(get_profile("plateau")))]  # the cells' own runs
    want = [n for n in whole if n.startswith(("dcdh-pins-48b-s1", "ddh-pins-12b"))]
    assert len(want) == 2 and sorted(n for n in pooled if n in whole) == sorted(want)  # 12 bits: 1 seed
    assert not [n for n in pooled if n in whole and n not in want]
    capsys.readouterr()
    assert main(["grid", "comparison-pins", "--profile", "plateau", "--only", "dcdh-pins-49b"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("dmh grid: error: --only dcdh-pins-49b: no run of comparison-pins") and "\n" not in err
