"""The key tables of the book, rebuilt from the committed records by today's code, equal the
tables the code of the previous layout printed (tests/data/key_tables.json, written from the
same records before the upper layer was restructured), to the last printed digit. The two
comparison entries were rewritten from the records when DSH, DPSH and HashNet were retrained
with their papers' configs (session 6: new records, same code)."""
import json
from pathlib import Path

import pandas as pd
import pytest

from dmh.experiments.configs import FULL_DMH
from dmh.report import ablations as A
from dmh.report import comparison as C
from dmh.report.frames import mean_std, pivot_mean_std, records_frame
from dmh.report.reading import dataset_records, shallow_records

EXPECTED = json.loads((Path(__file__).parent / "data" / "key_tables.json").read_text())
NAMES = {"lfw": "LFW", "pins": "Pins"}


@pytest.fixture(scope="module")
def tables():
    pd.set_option("display.precision", 4)
    out = {}
    df = records_frame(dataset_records("main", "paper"))
    df["dataset"] = df["dataset"].map(NAMES)
    out["main_map_all"] = pivot_mean_std(df, "dataset", "bits", "map_all").to_csv()
    out["main_map_all_stable"] = pivot_mean_std(df, "dataset", "bits", "map_all_stable").to_csv()
    dd, sd = C.deep_frame(dataset_records("comparison", "paper")), C.shallow_frame(shallow_records("paper"))
    cols = ["dataset", "bits", "seed", "method", "map_all", "p_at_r2"]
    both = pd.concat([dd[cols], sd[cols]], ignore_index=True)
    both["dataset"] = both["dataset"].map(NAMES)
    order = list(dict.fromkeys(dd.method)) + sorted(sd.method.unique())
    t = mean_std(both, ["method", "dataset", "bits"], "map_all").pivot(
        index="method", columns=["dataset", "bits"], values="map_all")
    out["comparison_map_all"] = t.loc[[m for m in order if m in t.index]].to_csv()
    indep = both[~both.method.str.contains("DMH trunk")]
    out["comparison_winners_independent"] = C.winners(indep).set_index(["dataset", "bits"]).round(4).to_csv()
    out["comparison_winners_all"] = C.winners(both).set_index(["dataset", "bits"]).round(4).to_csv()
    for name, variants in [("dense", [FULL_DMH, "plain trunk"]), ("head", [FULL_DMH, "FC hash head"]),
                           ("losses", ["softmax only", "softmax + center", "softmax + quantization", FULL_DMH])]:
        a = A.ablation_frame("paper", variants)
        a["dataset"] = a["dataset"].map(NAMES)
        cols = ["seeds", "map_all", "map_all_float", "p_at_r2", "parameters"]
        out[f"ablation_{name}"] = A.ablation_table(a)[cols].to_csv()
        out[f"verdicts_{name}"] = "\n".join(A.verdicts(a, FULL_DMH))
    return out


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_table_equals_the_previous_layouts(tables, key):
    assert tables[key] == EXPECTED[key]
