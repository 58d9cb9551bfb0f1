#!/usr/bin/env bash
# A second, independent sample of the six H200 pair profiles (seed 1), resumable across visits to the GPU
# machine. Run there from the unpacked app: scripts/gpu/profile-more.sh <models-dir> <out-profile-dir> <seconds>
# It builds the four models if <models-dir> lacks them, then profiles for at most <seconds> (the profiler
# appends group by group, so the next call with the same <out-profile-dir> continues where this one stopped).
set -euo pipefail
models=${1:?models dir}; out=${2:?profile dir}; budget=${3:?seconds}
cli() { node dist/cli.js "$@"; }
[ -f "$models/bert/manifest.json" ] || cli zoo build resnet101 resnet152 vgg19 bert --out "$models" --json > /dev/null
rc=0
timeout --signal=INT "$budget" node dist/cli.js profile --model-num 2 --models resnet101 resnet152 vgg19 bert --ep webgpu \
  --samples ${SAMPLES:-12} --reps ${REPS:-15} --seed ${SEED:-1} --models-dir "$models" --out "$out" --json > "$out.last.json" || rc=$?
echo "profile-more: profiler exit $rc (124 or 130: stopped by the time budget; run again to resume)" >&2
