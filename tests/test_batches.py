"""Batches of an epoch: the random sampler as before, identity-balanced P x K batches."""
import numpy as np
import pytest
import torch

from dmh.core.config import TrainConfig
from dmh.run.batches import epoch_batches, same_pairs_share


def test_random_batches_are_the_permutation_cut():
    labels = torch.arange(10) % 3
    b = epoch_batches("random", labels, 4, torch.Generator().manual_seed(5))
    order = torch.randperm(10, generator=torch.Generator().manual_seed(5))
    assert [x.tolist() for x in b] == [order[:4].tolist(), order[4:8].tolist(), order[8:].tolist()]


def test_pk_batches_hold_p_identities_of_k_images():
    labels = torch.tensor([0] * 6 + [1] * 5 + [2] * 2 + [3] * 7)  # identity 2 has fewer than K
    batches = epoch_batches("pk3", labels, 6, torch.Generator().manual_seed(0))
    assert len(batches) == 4  # ceil(20 / 6): as many steps as a random epoch
    for b in batches:
        ids, counts = np.unique(labels[b].numpy(), return_counts=True)
        assert len(ids) == 2 and (counts == 3).all()
        for c in ids:  # K distinct images where the identity has K
            rows = b[labels[b] == c]
            assert len(set(rows.tolist())) == (2 if c == 2 else 3)
    again = epoch_batches("pk3", labels, 6, torch.Generator().manual_seed(0))
    assert all(torch.equal(x, y) for x, y in zip(batches, again))
    # P x K batches: P * K(K-1)/2 same pairs of the (PK)(PK-1)/2 in a batch
    assert same_pairs_share(batches, labels.numpy()) == pytest.approx(2 * 3 / 15)


def test_sampler_checked_and_absent_from_earlier_keys():
    assert TrainConfig().key() == "77a1bca779"  # the key every earlier run was stored under
    assert "sampler" not in TrainConfig().to_dict() and TrainConfig(sampler="pk4").key() != "77a1bca779"
    for bad in ("pk1", "pk", "balanced", "pk5"):  # pk5: 64 is not a multiple of 5
        with pytest.raises(ValueError, match="sampler"):
            TrainConfig(sampler=bad)
