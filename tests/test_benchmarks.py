"""The benchmark scripts still run against the package (one was left importing modules that
had moved): each runs end to end at its smallest setting. Their figures are not checked
here; speed is what the scripts print, not what a test asserts."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_train_runs_every_method_and_a_stacked_row(tmp_path):
    out = tmp_path / "train.json"
    done = subprocess.run([sys.executable, "benchmarks/bench_train.py", "--steps", "1", "--warmup", "0",
                           "--batch", "16", "--encode-batch", "16", "--stack", "2",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    # no stacked bf16 row: under vmap autocast leaves the convolutions in float32
    assert "2 stacked, fp32" in done.stdout and "stacked, bf16" not in done.stdout
    assert "one model, bf16" in done.stdout and "DCDH" in done.stdout and out.exists()
    assert "one model, fp32, channels_last" in done.stdout and "one model, bf16, channels_last" in done.stdout
