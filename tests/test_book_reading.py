"""The book reads results first: code folded by one rule, a rerun box per chapter, and the
intro's findings computed from the records."""
import re
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from dmh.book.execute import fold_code
from dmh.experiments.profiles import get_profile
from dmh.report.findings import findings, headline_frame
from dmh.report.notebook import rerun_box


def test_fold_code_rule():
    nb = new_notebook(cells=[
        new_markdown_cell("# t"),
        new_code_cell("profile = 'quick'", metadata={"tags": ["parameters"]}),
        new_code_cell("profile = 'paper'", metadata={"tags": ["injected-parameters"]}),
        new_code_cell("x = 1"),
        new_code_cell("box()", metadata={"tags": ["remove-input"]}),
    ])
    fold_code(nb)
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert tags == [[], ["parameters", "remove-cell"], ["injected-parameters", "remove-cell"],
                    ["hide-input"], ["remove-input"]]


def test_every_chapter_ends_with_its_rerun_box():
    from dmh.book import chapter_stems
    from dmh.book.toc import NOTEBOOK_DIR

    for stem in chapter_stems():
        nb = nbformat.read(NOTEBOOK_DIR / f"{stem}.ipynb", as_version=4)
        last = nb.cells[-1]
        assert last.source in (f'NB.rerun_box("{stem}", P)', f'NB.rerun_box("{stem}", P, Q)') \
            and "remove-input" in last.metadata["tags"]  # Q: the profile whose grids it reads
    html = rerun_box("main_results", get_profile("paper")).data
    assert "dmh grid floors main-lfw main-pins budget-lfw budget-pins" in html
    assert "papermill notebooks/main_results.ipynb main_results.ipynb -p profile paper" in html
    assert "--profile quick" in rerun_box("comparison", get_profile("quick")).data
    html = rerun_box("retrieval_examples", get_profile("paper"), get_profile("plateau")).data
    assert "dmh grid examples-pins --profile plateau" in html and "-p profile paper" in html


def test_findings_from_the_committed_records():
    df = headline_frame("paper")
    assert {"DMH", "DDH", "ITQ (pixels)"} <= set(df.method) and "ITQ (DMH trunk)" not in set(df.method)
    lines = findings("paper")
    # DMH at the plateau budget as far as it landed, first (LFW's 48-bit seeds first, float32
    # before the bf16 runs standing in)
    assert lines[0].startswith("**At the plateau budget** ([chapter](main_results.html)), DMH at 48 "
                               "bits: LFW 640 epochs (fp32): test mAP@all 0.")
    assert lines[1].startswith("**Dense blocks** ([chapter](ablation_dense.html)), at 1x: plain trunk: "
                               "0.229 vs 0.307 on LFW (-9.4 seed std)")
    assert "DMH's choice is better beyond seed noise on every dataset" in lines[1]
    # each variant's 1x verdict is followed by its verdict at the plateau budget, where it landed
    assert "every dataset; at the plateau budget: LFW plain trunk 0.7408 (3 seeds, bf16) vs 0.7036" in lines[1]
    assert "no difference beyond seed noise; at the plateau budget: LFW softmax only" in lines[3]
    assert lines[4].startswith("**Against the baselines on LFW** ([chapter](comparison.html)), at 1x: DMH is "
                               "first at 4 of 4 code lengths; at 48 bits DMH 0.307 leads HashNet 0.223 by 8.4")
    # people never trained on: DMH's 3 seeds and the dlib anchors are all in
    assert lines[-1].startswith("**People never trained on** ([chapter](unseen.html)), mAP@all at 48 "
                                "bits: open-lfw DMH 0.052 (best baseline ")
    assert "dlib float 0.878, its best 48-bit hash 0.405); open-pins DMH 0.123" in lines[-1]


def test_recipe_finding_from_the_committed_records():
    from dmh.report.recipe import finding, study_missing_line
    done = ("sampler", "trials", "published", "trunk")  # the ladders, the pairwise lr and the
    assert study_missing_line("paper", done) == "Every run of the study is in."  # baselines'
    missing = " ".join(study_missing_line("paper").split())  # search are still to run
    assert missing.startswith("Not trained yet, ") and "pairlr-lfw" in missing and "ladder-pins" in missing
    assert "search-pins" in missing and "budget-pins" in missing  # DMH on Pins at 64x
    line = finding("paper")
    # LFW: +5.03% from 320 to 640 epochs; its 1280-epoch run decides whether that was its plateau
    assert re.search(r"LFW: (not at its plateau: the last doubling, to (640|1280) epochs, still added "
                     r"\+\d|at its plateau by (320|640) epochs)", line)
    # Pins: +13.8% from 160 to 320 epochs, then +4.6% from 320 to 640 (the 64x run)
    assert "Pins: at its plateau by 320 epochs (doubling to 640 added +4.6% validation mAP" in line
    assert "DSH and DPSH across 2 lrs" in line and "in 6 of 6 method-dataset pairs" in line
