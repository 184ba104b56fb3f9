#!/usr/bin/env bash
# Train paper grids on a lent GPU machine that has no raw images and no git checkout.
#
# Usage (from the repo root there): DMH_GIT_COMMIT=<sha> bash scripts/device_grid.sh GRID...
# Needs: packs/ written here by `dmh pack lfw pins --out packs` (sent along), python3 with
# torch, numpy, scipy, pillow, tqdm. New run records are tarred into $OUT/records.tar every
# 20 s and at the end, so a run cut off by the time limit still returns what finished;
# unpack them here with `tar xf records.tar` in the repo root.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD DMH_PACKS=$PWD/packs DMH_DATA=/nonexistent DMH_RUNS=/tmp/dmh-runs \
       OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/dmh-out}; mkdir -p "$OUT"
seconds=${DMH_GRID_SECONDS:-480}; workers=${DMH_GRID_WORKERS:-12}; prof=${DMH_PROFILE:-paper}; device=${DMH_DEVICE:-cuda}
stack=${DMH_GRID_STACK:-1}  # runs differing only in seed, lr or loss weights trained as one model (dmh grid --stack)
records=$(python3 -c "import os; from dmh.experiments.profiles import get_profile; print(os.path.relpath(get_profile('$prof').store.root))")
[ -n "$records" ] || { echo "python3 cannot import dmh and torch here"; exit 1; }
mkdir -p "$records"
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
echo "wall $(( $(date +%s) - start )) s" | tee -a "$OUT/grid.log"
