"""The variants' training fit at the plateau budget, read by hand-made frames."""
import pandas as pd

from dmh.experiments.configs import FULL_DMH
from dmh.report.plateau_fit import fit_lines


def _row(variant, seeds, ce, center, quant, m):
    return {"dataset": "LFW", "variant": variant, "seeds": seeds, "train softmax CE": ce,
            "train center": center, "train quantization": quant, "test mAP@all": m}


def test_fit_lines_by_hand():
    df = pd.DataFrame([_row(FULL_DMH, 3, 0.05, 0.8, 3.0, 0.70),
                       _row("better fit", 1, 0.04, 0.5, 2.0, 0.74),
                       _row("worse fit", 2, 0.06, 0.9, 3.5, 0.65),
                       _row("mixed", 2, 0.04, 0.9, 3.5, 0.71),
                       _row("softmax only", 1, 0.06, float("nan"), float("nan"), 0.68)])
    text = fit_lines(df).replace("\n", " ")
    assert ("better fit (1 seed): fits its training faces better (every loss term lower) "
            "(softmax CE 0.040 vs 0.050, center 0.500 vs 0.800, quantization 2.000 vs 3.000); "
            "test mAP@all +0.0400 against DMH.") in text
    assert "worse fit (2 seeds): fits them worse" in text
    assert "mixed (2 seeds): fits them neither better nor worse throughout" in text
    assert "softmax only (1 seed): fits them worse (every loss term higher) (softmax CE 0.060 vs 0.050);" in text
    assert fit_lines(df[df.variant != FULL_DMH]) == ""
