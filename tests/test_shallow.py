"""Shallow hashing baselines against closed forms and independent computations."""
import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from conftest import TINY
from dmh.baselines import ITQ, LSH, PCAH, SDH, SH, RandomCodes
from dmh.baselines.itq import random_rotation
from dmh.baselines.sdh import dcc_bits
from dmh.codes import encode_signs
from dmh.core.config import TrainConfig
from dmh.experiments.shallow_specs import SHALLOW_METHODS, ShallowSpec
from dmh.experiments.jobs import train_run
from dmh.experiments.shallow_jobs import shallow_run
from dmh.metrics import evaluate_codes
from dmh.run.checkpoint import load_trained
from dmh.run.encode import Normalizer, encode, pooled_trunk_features
from dmh.run.records import ShallowRecord
from dmh.run.store import Store

METHODS = [PCAH, ITQ, SH, SDH]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small BLAS calls run far slower with 2 spinning threads on busy cores."""
    with threadpool_limits(1):
        yield


def anisotropic(n=300, d=12, seed=0):
    """Gaussian data with decreasing variances along the axes of a random reflection."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(d)
    scales = np.linspace(5.0, 0.5, d)
    z = rng.standard_normal((n, d)) * scales
    return z - 2.0 * np.outer(z @ u, u) / (u @ u) + rng.standard_normal(d)


def three_blobs(seed=0, n_gallery=40, n_query=15, d=20):
    """3 classes apart in 2 dims; 6 high-variance nuisance dims that unsupervised codes follow."""
    rng = np.random.default_rng(seed)
    means = np.zeros((3, d))
    means[:, :2] = [[0, 3], [2.6, -1.5], [-2.6, -1.5]]
    scales = np.ones(d)
    scales[2:8] = 3.0

    def draw(n):
        y = np.repeat(np.arange(3), n)
        return means[y] + rng.standard_normal((len(y), d)) * scales, y

    return (*draw(n_gallery), *draw(n_query))


def _fit(cls, x, y=None, **kw):
    m = cls(**kw)
    return m.fit(x, y if y is not None else np.arange(len(x)) % 3) if cls is SDH else m.fit(x)


@pytest.mark.parametrize("n, d", [(300, 12), (40, 600), (700, 600)],
                         ids=["dense", "svd_n_lt_d", "lanczos"])
def test_pcah_equals_sklearn_pca_up_to_sign(n, d):
    x = anisotropic(n=n, d=d)
    ours = PCAH(n_bits=5).fit(x).project(x)
    ref = PCA(n_components=5, svd_solver="full").fit(x).transform(x)
    for j in range(5):
        s = np.sign(ours[:, j] @ ref[:, j])
        np.testing.assert_allclose(ours[:, j], s * ref[:, j], atol=1e-8)
    # new points too: the projection is affine in x
    xn = anisotropic(n=50, d=d, seed=1)
    ref_n = PCA(n_components=5, svd_solver="full").fit(x).transform(xn)
    assert np.allclose(np.abs(PCAH(n_bits=5).fit(x).project(xn)), np.abs(ref_n), atol=1e-8)


def test_itq_rotation_orthogonal_loss_monotone_and_below_pcah():
    x = anisotropic()
    k = 6
    itq = ITQ(n_bits=k, seed=3).fit(x)
    r = itq.rotation_
    np.testing.assert_allclose(r.T @ r, np.eye(k), atol=1e-10)
    assert len(itq.loss_) == 51
    assert np.all(np.diff(itq.loss_) <= 1e-9 * itq.loss_[0]), itq.loss_
    v = PCAH(n_bits=k).fit(x).project(x)     # V: the PCA projection, computed independently
    vr = v @ r
    b = np.where(vr >= 0, 1.0, -1.0)
    assert itq.loss_[-1] == pytest.approx(np.sum((b - vr) ** 2), rel=1e-10)
    pcah_loss = np.sum((np.where(v >= 0, 1.0, -1.0) - v) ** 2)   # R = I
    assert itq.loss_[-1] < pcah_loss
    np.testing.assert_allclose(itq.project(x), vr, atol=1e-10)


def test_itq_matches_procrustes_iterations_of_scipy():
    x = anisotropic(seed=2)
    k = 4
    itq = ITQ(n_bits=k, seed=5, n_iter=7).fit(x)
    v = PCAH(n_bits=k).fit(x).project(x)
    r = random_rotation(k, np.random.default_rng(5))
    for _ in range(7):
        r = orthogonal_procrustes(v, np.where(v @ r >= 0, 1.0, -1.0))[0]
    np.testing.assert_allclose(itq.rotation_, r, atol=1e-8)


def _sign_changes(t, h):
    """Midpoints of the grid steps where h changes sign."""
    s = h >= 0
    i = np.nonzero(s[1:] != s[:-1])[0]
    return (t[i] + t[i + 1]) / 2


def test_sh_on_uniform_1d_gives_the_analytic_thresholds():
    x = np.linspace(-1.0, 3.0, 401)[:, None]      # a = -1, b = 3
    sh = SH(n_bits=3).fit(x)
    assert sh.dims_.tolist() == [0, 0, 0] and sh.modes_.tolist() == [1, 2, 3]
    np.testing.assert_allclose(sh.omega_, np.arange(1, 4) * np.pi / 4.0)
    t = np.linspace(-1.0, 3.0, 4001)
    h = sh.project(t[:, None])
    for j, k in enumerate((1, 2, 3)):
        expected = -1.0 + 4.0 * (2 * np.arange(1, k + 1) - 1) / (2 * k)   # a + (b-a)(2m-1)/(2k)
        np.testing.assert_allclose(_sign_changes(t, h[:, j]), expected, atol=1e-3)
    assert _sign_changes(t, h[:, 0]) == pytest.approx([1.0], abs=1e-3)  # the midpoint


def test_sh_picks_modes_by_smallest_frequency():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(4000, 2)) * [2.5, 1.0]
    sh = SH(n_bits=3).fit(x)
    # omega = k pi / width: 1.26 (dim 0, k=1), 2.51 (dim 0, k=2), 3.14 (dim 1, k=1), 3.77 ...
    assert sh.dims_.tolist() == [0, 0, 1] and sh.modes_.tolist() == [1, 2, 1]
    np.testing.assert_allclose(sh.hi_ - sh.lo_, [2.5, 1.0], atol=0.05)


def test_sdh_separates_three_blobs_better_than_lsh():
    xg, yg, xq, yq = three_blobs()
    k = 16

    def score(m):
        return evaluate_codes(encode_signs(m.project(xq)), encode_signs(m.project(xg)), yq, yg,
                              k)["map_all"]

    sdh = score(SDH(n_bits=k, n_anchors=60).fit(xg, yg))
    lsh = score(LSH(n_bits=k).fit(xg))
    rand = score(RandomCodes(n_bits=k).fit(xg))
    assert sdh > 0.9 and sdh > lsh + 0.3 and sdh > rand + 0.4, (sdh, lsh, rand)


def test_sdh_dcc_reaches_a_single_bit_flip_optimum():
    rng = np.random.default_rng(0)
    n, k, c = 50, 6, 4
    w, q = rng.standard_normal((k, c)), rng.standard_normal((n, k))
    b0 = np.where(rng.standard_normal((n, k)) >= 0, 1.0, -1.0)
    b = dcc_bits(b0, q, w, n_sweeps=100)

    def obj(bb):  # per row: ||b W||^2 - 2 b . q
        return np.sum((bb @ w) ** 2, axis=1) - 2 * np.sum(bb * q, axis=1)

    assert np.all(obj(b) <= obj(b0) + 1e-12)
    for j in range(k):  # no single bit flip lowers any row's objective
        flipped = b.copy()
        flipped[:, j] *= -1
        assert np.all(obj(flipped) >= obj(b) - 1e-12), j


def test_sdh_objective_never_increases():
    xg, yg, _, _ = three_blobs()
    sdh = SDH(n_bits=8, n_anchors=30, nu=0.1, n_iter=6).fit(xg, yg)
    assert len(sdh.objective_) == 6
    assert np.all(np.diff(sdh.objective_) <= 1e-9 * sdh.objective_[0]), sdh.objective_


def test_sdh_needs_matching_labels():
    x = anisotropic(n=30)
    with pytest.raises(ValueError, match="labels"):
        SDH(n_bits=4).fit(x)
    with pytest.raises(ValueError, match="shape"):
        SDH(n_bits=4).fit(x, np.zeros(29, dtype=int))


@pytest.mark.parametrize("cls", METHODS, ids=lambda c: c.__name__)
def test_shapes_determinism_and_bad_inputs(cls):
    x = anisotropic(n=60, d=12)
    m = _fit(cls, x, n_bits=5, seed=1)
    h = m.project(x[:7])
    assert h.shape == (7, 5) and h.dtype == np.float64 and np.isfinite(h).all()
    np.testing.assert_array_equal(h, _fit(cls, x, n_bits=5, seed=1).project(x[:7]))
    # images (n, C, H, W) are flattened row-wise
    np.testing.assert_allclose(m.project(x[:7].reshape(7, 3, 2, 2)), h)
    with pytest.raises(ValueError, match="features"):
        m.project(x[:, :5])
    with pytest.raises(ValueError, match="2-D"):
        cls(n_bits=5).fit(x[:, 0])
    with pytest.raises(ValueError, match="NaN"):
        m.project(np.full((2, 12), np.nan))
    with pytest.raises(ValueError, match="n_bits"):
        cls(n_bits=0)
    with pytest.raises(RuntimeError, match="fit"):
        cls(n_bits=3).project(x)


@pytest.mark.parametrize("cls", [ITQ, SDH], ids=lambda c: c.__name__)
def test_seed_changes_seeded_methods(cls):
    x = anisotropic(n=60)
    a = _fit(cls, x, n_bits=5, seed=0).project(x)
    b = _fit(cls, x, n_bits=5, seed=1).project(x)
    assert not np.allclose(a, b)


@pytest.mark.parametrize("cls", [PCAH, ITQ], ids=lambda c: c.__name__)
def test_pca_methods_refuse_more_bits_than_dims(cls):
    with pytest.raises(ValueError, match="n_bits <= n_features"):
        cls(n_bits=13).fit(anisotropic(n=60, d=12))


# ------------------------------------------------------------------ shallow_run

def test_shallow_run_pixels_records_and_cache(easy_pickle, tmp_path, monkeypatch):
    import dmh.experiments.shallow_jobs as jobs

    # provenance runs git (slow on a busy machine); the dmh_trunk test keeps the real one
    monkeypatch.setattr(jobs, "provenance", lambda: {"git_commit": "test", "python": "3",
                                                     "versions": {}, "hardware": {}})
    store = Store(tmp_path / "res")
    for name in SHALLOW_METHODS:
        rec = shallow_run(ShallowSpec(name, easy_pickle, 8, 0, "pixels"), store)
        assert rec.name == f"{name}-easy-pixels-8b-s0"
        assert store.shallow_path(rec.name) == tmp_path / "res" / "shallow" / f"{rec.name}.json"
        assert store.shallow_path(rec.name).is_file()
        m = rec.metrics
        assert {"map_all", "map_all_stable", "p_at_r2", "precision_at_k", "pr_curve"} <= set(m)
        assert rec.split["n_query"] == 40 and rec.split["n_gallery"] == 88
        assert rec.feature_dim == 3072 and rec.fit_s >= 0 and rec.encode_s >= 0
        assert rec.git_commit == "test" and rec.supervised == (name == "SDH") and rec.trunk is None
        # class colours are easy: every method beats random codes (~1/8) by far
        assert m["map_all"] > 0.25, (name, m["map_all"])
    # cached: returned as stored, without loading the data again
    original_load = jobs.load_protocol
    monkeypatch.setattr(jobs, "load_protocol", lambda *a, **k: pytest.fail("recomputed"))
    spec = ShallowSpec("ITQ", easy_pickle, 8, 0, "pixels")
    again = shallow_run(spec, store)
    assert again == store.load_shallow(spec.name(), "") and isinstance(again, ShallowRecord)
    # another crop is a fit of its own, of the images in that crop (loaded in it)
    crops = []
    monkeypatch.setattr(jobs, "load_protocol",
                        lambda *a, face_crop, **k: crops.append(face_crop) or original_load(*a, **k))
    tight = shallow_run(ShallowSpec("ITQ", easy_pickle, 8, 0, "pixels", face_crop="tight"), store)
    assert crops == ["tight"] and tight.name == "ITQ-easy-pixels-tight-8b-s0"
    assert tight.config["face_crop"] == "tight" and "face_crop" not in again.config
    with pytest.raises(ValueError, match="KSH"):
        ShallowSpec("KSH", easy_pickle, 8, 0, "pixels")
    with pytest.raises(ValueError, match="trunk"):
        ShallowSpec("ITQ", easy_pickle, 8, 0, "dmh_trunk")


def test_dmh_trunk_features(easy_pickle, tmp_path):
    with pytest.raises(FileNotFoundError, match="dmh train"):
        load_trained("no-such-run")
    cfg = TrainConfig(dataset=easy_pickle, bits=12, epochs=1, batch_size=32, lr=0.05,
                      model_kwargs=TINY, threads=1)
    store = Store(tmp_path / "res")
    train_run(cfg, store, progress=False, save=False)
    images = np.random.default_rng(0).integers(0, 256, size=(5, 3, 32, 32), dtype=np.uint8)
    model, norm, _ = load_trained(cfg.name())
    feats = pooled_trunk_features(model, images, norm)
    assert feats.shape == (5, model.trunk.out_channels) and feats.dtype == np.float32
    # the conv-GAP head is linear before its tanh: tanh(W gap(f) + b) must give the codes
    w = model.head.conv.weight[:, :, 0, 0].detach().numpy()
    b = model.head.conv.bias.detach().numpy()
    np.testing.assert_allclose(np.tanh(feats @ w.T + b), encode(model, images, norm).features,
                               atol=1e-5)
    assert isinstance(norm, Normalizer)

    rec = shallow_run(ShallowSpec("ITQ", easy_pickle, 8, 0, "dmh_trunk", cfg), store)
    assert rec.name == "ITQ-easy-dmh_trunk-8b-s0" and rec.config["run"] == cfg.name()
    assert rec.feature_dim == model.trunk.out_channels
    assert rec.trunk["config_key"] == cfg.key() and rec.git_commit
    assert 0 < rec.metrics["map_all"] <= 1


def test_a_pool_of_two_fits_the_same_records_as_one(easy_pickle, tmp_path):
    """`dmh grid shallow-<ds>` fits the missing specs in the grid's worker pool: the records
    (metrics and configs) equal one process's, each spec fitted once."""
    from functools import partial

    from dmh.experiments.runner import _make_each

    specs = [ShallowSpec(name, easy_pickle, 8, 0, "pixels") for name in ("LSH", "ITQ", "SDH")]
    stores = {w: Store(tmp_path / f"res{w}") for w in (1, 2)}
    for w, store in stores.items():
        assert _make_each(specs, store.shallow_path, partial(shallow_run, store=store), w) == (3, 3)
    for s in specs:
        one, two = (stores[w].load_shallow(s.name(), "") for w in (1, 2))
        assert (one.metrics, one.config) == (two.metrics, two.config)
    assert _make_each(specs, stores[2].shallow_path, partial(shallow_run, store=stores[2]), 2) == (3, 0)
