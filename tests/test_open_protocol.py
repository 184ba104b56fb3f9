"""Runs on people the model never saw: a config names its open protocol, the loop trains on
the protocol's training people and scores among the others."""
import pytest

from conftest import real_data_or_skip
from dmh.core.config import TrainConfig
from dmh.experiments.grids import parse
from dmh.experiments.profiles import get_profile
from dmh.methods import METHODS
from dmh.run.fit import protocol_parts


def test_open_protocol_config():
    assert TrainConfig().key() == "77a1bca779" and "protocol" not in TrainConfig().to_dict()
    cfg = TrainConfig(dataset="pins", protocol="open-pins")
    assert cfg.name().startswith("dmh-open-pins-48b-s0-test-") and cfg.key() != TrainConfig().key()
    for bad in ({"protocol": "closed-ish"}, {"protocol": "open-pins", "eval_split": "val"}):
        with pytest.raises(ValueError, match="protocol"):
            TrainConfig(**bad)
    p = get_profile("paper")
    grid, ds = parse("cross-pins", p)
    cfgs = grid.items(ds, p)  # retrieve on pins, trained on LFW with LFW's recipe
    assert [c.seed for c in cfgs[:3]] == [0, 1, 2] and all(c.method == "dmh" for c in cfgs[:3])
    # then every other method and loss variant, seed-major: 9 of them, 3 seeds
    assert [c.seed for c in cfgs[3:]] == [0] * 9 + [1] * 9 + [2] * 9
    assert {c.method for c in cfgs} == set(METHODS) and len({c.key() for c in cfgs}) == 30
    assert {(c.dataset, c.protocol, c.epochs) for c in cfgs} == {("lfw", "cross-lfw-pins", 40)}


def test_a_profile_trains_on_its_own_datasets_only():
    """The quick profile (LFW alone) reads no grid that trains on Pins: no cross-lfw, so CI
    trains no Pins run; the paper profile keeps every open and cross protocol."""
    from dmh.book import chapter_stems
    from dmh.experiments.open_protocols import open_protocols
    from dmh.report.reading import chapter_grids

    quick = chapter_grids(chapter_stems(), "quick")
    assert "open-lfw" in quick and not [g for g in quick if g.startswith("cross-") or g.endswith("-pins")]
    assert open_protocols(get_profile("quick")) == ["open-lfw"]
    assert open_protocols(get_profile("paper")) == ["open-lfw", "cross-pins-lfw", "open-pins", "cross-lfw-pins"]
    assert {"cross-lfw", "cross-pins", "open-pins"} <= set(chapter_grids(chapter_stems(), "paper"))


def test_open_pins_parts_share_no_person():
    real_data_or_skip("pins")
    train, query, gallery, split = protocol_parts(TrainConfig(dataset="pins", protocol="open-pins"))
    assert (len(train), len(query), len(gallery)) == (11635, 175, 5724)
    names = lambda fs: {fs.identities[i] for i in set(fs.labels.tolist())}  # noqa: E731
    assert not names(train) & names(query) and names(query) <= names(gallery)
    assert split["dataset"] == "open-pins" and len(split["split_checksum"]) == 64
