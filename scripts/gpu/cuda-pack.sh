#!/usr/bin/env bash
# Here, from the project root after `npm ci && npm run build`: bundle everything a cuda run on the GPU machine needs,
# in the two parts that must travel in two device calls (each call carries at most 64 MiB, the working tree included):
#   .gpu-cuda/  ORT 1.29.0's CUDA 13 provider, trimmed to sm_90 (../shared/gpu/cuda-pack.sh), and the options shim
#   .gpu/       node and the app with scripts/gpu and experiments (scripts/gpu/pack-slim.sh)
# Then, back to back (the machine is given back 30 s after a call):
#   call 1: carry [".gpu-cuda"], command: bash .gpu-cuda/stash.sh
#   call 2: carry [".gpu"], command: source .gpu/boot.sh && source /tmp/cuda-ep/cuda-boot.sh && cd "$APP" && <steps>
# (<steps>: scripts/gpu/cuda-pipeline.sh; see scripts/gpu/README.md). If call 2 says /tmp/cuda-ep is missing, the
# machine was given back in between: make call 1 again.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ -f package.json ] && [ -d dist ] || { echo "cuda-pack.sh: run from the project root after npm run build" >&2; exit 2; }
shared=${ABACUS_SHARED_GPU:-../shared/gpu}
[ -x "$shared/cuda-pack.sh" ] || { echo "cuda-pack.sh: $shared/cuda-pack.sh not found (set ABACUS_SHARED_GPU)" >&2; exit 2; }
"$here/pack-slim.sh" scripts/gpu experiments
"$shared/cuda-pack.sh"
"$here/build-cuda-options.sh" .gpu-cuda
cp "$here/cuda-boot.sh" .gpu-cuda/cuda-boot.sh
cat > .gpu-cuda/stash.sh <<'STASH'
# bash .gpu-cuda/stash.sh on the GPU machine (call 1): keeps the provider and the options shim in /tmp/cuda-ep.
set -e; here=$(cd "$(dirname "$0")" && pwd); mkdir -p /tmp/cuda-ep; cp "$here"/* /tmp/cuda-ep/
echo "stash: CUDA provider and options shim kept in /tmp/cuda-ep; make the next device call now"
STASH
echo "cuda-pack.sh: .gpu/ $(du -sm .gpu | cut -f1) MiB, .gpu-cuda/ $(du -sm .gpu-cuda | cut -f1) MiB, working tree $(git ls-files -z | xargs -0 du -cm 2>/dev/null | tail -1 | cut -f1) MiB" >&2
