#!/usr/bin/env bash
# Train paper grids on a lent GPU machine that has no raw images and no git checkout.
#
# Usage (from the repo root there): DMH_GIT_COMMIT=<sha> bash scripts/device_grid.sh GRID...
# Needs: packs/ written here by `dmh pack lfw pins --out packs` (sent along; for
# DMH_PROFILE=plateau, which reads Pins aligned: `dmh pack lfw --out packs` and
# `dmh pack pins --face-crop aligned --out packs`, both fit the 64 MiB), python3 with
# torch, numpy, scipy, pillow, tqdm. New run records are tarred into $OUT/records.tar every
# 20 s and at the end, so a run cut off by the time limit still returns what finished;
# unpack them here with `tar xf records.tar` in the repo root.
# Runs the time limit cuts off are handed on: their checkpoints (~0.65 MB each, furthest
# along first, up to DMH_RESUME_MB, default 10: the packs take ~52 of the 64 MiB a lend
# carries) come back as $OUT/resume.tar.part-N; put those parts in resume/ here (ignored)
# and carry resume on the next lend, which unpacks them and resumes those runs.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD DMH_PACKS=$PWD/packs DMH_DATA=/nonexistent DMH_RUNS=/tmp/dmh-runs \
       OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/dmh-out}; mkdir -p "$OUT"
seconds=${DMH_GRID_SECONDS:-480}; workers=${DMH_GRID_WORKERS:-12}; prof=${DMH_PROFILE:-paper}; device=${DMH_DEVICE:-cuda}
stack=${DMH_GRID_STACK:-1}  # runs differing only in seed, lr or loss weights trained as one model (dmh grid --stack)
records=$(python3 -c "import os; from dmh.experiments.profiles import get_profile; print(os.path.relpath(get_profile('$prof').store.root))")
[ -n "$records" ] || { echo "python3 cannot import dmh and torch here"; exit 1; }
mkdir -p "$records" "$DMH_RUNS"
if compgen -G "resume/resume.tar.part-*" > /dev/null; then  # never over a newer checkpoint here
  cat resume/resume.tar.part-* | tar xf - -C "$DMH_RUNS" --skip-old-files \
    && echo "resume/: $(cat resume/resume.tar.part-* | tar tf - | grep -c 'checkpoint.pt$') runs handed on by an earlier lend"
fi
(command -v nvidia-smi >/dev/null && nvidia-smi -L) || true
python3 -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'numpy', numpy.__version__)"
find "$records" -name '*.json' | sort > /tmp/dmh-before.txt
snapshot() {
  find "$records" -name '*.json' | sort | comm -13 /tmp/dmh-before.txt - > /tmp/dmh-new.txt
  tar cf "$OUT/.records.tar" -T /tmp/dmh-new.txt 2>/dev/null && mv "$OUT/.records.tar" "$OUT/records.tar"
  echo "[$(date +%T)] snapshot: $(wc -l < /tmp/dmh-new.txt) new records"
}
(while sleep 20; do snapshot >/dev/null; done) & loop=$!
start=$(date +%s)
timeout -s KILL "$seconds" python3 -m dmh.cli grid "$@" --profile "$prof" --device "$device" \
  --workers "$workers" --stack "$stack" 2>&1 | tee "$OUT/grid.log"
kill $loop 2>/dev/null
snapshot | tee -a "$OUT/grid.log"
python3 - "$prof" "$DMH_RUNS" "${DMH_RESUME_MB:-10}" > /tmp/dmh-handon.txt <<'PY'
import sys
from dmh.experiments.profiles import get_profile
from dmh.run.checkpoint import unfinished_runs
total, cap = 0, float(sys.argv[3]) * 2**20
for folder, _ in unfinished_runs(sys.argv[2], get_profile(sys.argv[1]).store):
    size = sum(f.stat().st_size for f in folder.iterdir())
    if total + size > cap:
        break
    total += size
    print(folder.name)
PY
rm -f "$OUT"/resume.tar.part-*
if [ -s /tmp/dmh-handon.txt ]; then
  tar cf - -C "$DMH_RUNS" -T /tmp/dmh-handon.txt | split -b 15m -d -a 1 - "$OUT/resume.tar.part-"
  echo "handed on $(wc -l < /tmp/dmh-handon.txt) unfinished runs: $(ls "$OUT"/resume.tar.part-* | wc -l) parts" | tee -a "$OUT/grid.log"
fi
echo "wall $(( $(date +%s) - start )) s" | tee -a "$OUT/grid.log"
