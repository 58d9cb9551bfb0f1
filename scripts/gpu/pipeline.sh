#!/usr/bin/env bash
# The whole pipeline on the GPU machine (webgpu), in resumable steps. Run there from the unpacked app
# ($APP, see ../../README.md) as:  scripts/gpu/pipeline.sh <state-dir> <step> [<step> ...]
# Steps: zoo | bench | profile-pairs | profile-triplet | profile-quad | serve | peak
# Every step writes under <state-dir> and skips what is already there (profiles resume group by group),
# so a step cut short by a time limit continues on the next call with the same <state-dir>.
set -euo pipefail
state=${1:?usage: pipeline.sh <state-dir> <step>...}; shift
mkdir -p "$state"
cli() { node dist/cli.js "$@"; }
models="$state/models"   # rebuilt on each fresh machine (seeded: identical weights)
ep=webgpu
for step in "$@"; do
  case "$step" in
    zoo)
      cli zoo build all --out "$models" --json > "$state/zoo-build.json" ;;
    bench)
      mkdir -p "$state/bench"
      for b in 4 8 16 32; do
        f="$state/bench/executor-b$b.json"
        [ -s "$f" ] && continue
        cli bench executor --models resnet50 resnet101 resnet152 inception_v3 vgg16 vgg19 bert --ep $ep --batch $b \
          --seq 64 --reps 15 --warmup 3 --no-pairs --models-dir "$models" --out "$f" > /dev/null
      done
      f="$state/bench/pairs-b8.json"
      [ -s "$f" ] || cli bench executor --models resnet101 resnet152 vgg19 bert --ep $ep --batch 8 --seq 64 \
        --reps 15 --warmup 3 --models-dir "$models" --out "$f" > /dev/null ;;
    profile-pairs)   # the six pairs of {resnet101, resnet152, vgg19, bert}
      cli profile --model-num 2 --models resnet101 resnet152 vgg19 bert --ep $ep --samples ${SAMPLES:-6} --reps ${REPS:-15} \
        --models-dir "$models" --out "$state/profile/2in4" --json > "$state/profile-2in4.last.json" ;;
    profile-triplet)
      cli profile --model-num 3 --comb resnet101 resnet152 vgg19 --ep $ep --samples ${SAMPLES:-2} --reps ${REPS:-15} \
        --models-dir "$models" --out "$state/profile/3in4" --json > "$state/profile-3in4.last.json" ;;
    profile-quad)
      cli profile --model-num 4 --comb resnet101 resnet152 vgg19 bert --ep $ep --samples ${SAMPLES:-1} --reps ${REPS:-15} \
        --models-dir "$models" --out "$state/profile/4in4" --json > "$state/profile-4in4.last.json" ;;
    *)
      echo "pipeline.sh: unknown step '$step'" >&2; exit 2 ;;
  esac
done
