#!/usr/bin/env bash
# The pipeline on the GPU machine on the cuda provider, in resumable steps. Run there from the unpacked app after
# `source .gpu/boot.sh && source /tmp/cuda-ep/cuda-boot.sh && cd "$APP"` (scripts/gpu/cuda-pack.sh says how):
#     scripts/gpu/cuda-pipeline.sh <state-dir> <step> [<step> ...]
# Steps:
#   zoo          the seven zoo models, full size (seeded: the same weights on every fresh machine)
#   bench        executor benchmark, all seven models at batch 1/4/8/16/32 (1, 4 and all-operator segments)
#   pairs        the six pairs of {resnet101, resnet152, vgg19, bert} at batch 8: solo, co-located, group, start skew
#   pytorch      PyTorch eager CUDA, the same models and batches (scripts/gpu/pytorch-bench.py)
#   options      CUDA provider options, one at a time against onnxruntime's defaults (resnet101 + vgg19, batch 8);
#                enable_cuda_graph=1 is not among them: it crashed the provider (2026-12-03) and abacus refuses it
#   webgpu       the webgpu check of the pinned ORT: resnet50 + vgg16 at batch 8 (compare data/h200-webgpu/bench/2026-12-01)
#   profile-pairs | profile-triplet | profile-quad   profiles on cuda (SAMPLES, REPS as in pipeline.sh; resumable)
#   bench-device the executor benchmark with device activations, all seven models at batch 8, then again with the
#                one-element read-back after each segment (ABACUS_CUDA_READBACK_SYNC=1) for resnet101, vgg16 and bert
#   bench-device-all   the same benchmark at batch 1/4/16/32 (after the profiles, where time is left)
#   profile-each one profile per pair of the four (issue 16's sampling rule, fresh folders profile/v2/<a>_<b>),
#                then the triplet and the quadruplet (profile/v2/3in4, 4in4): --samples 19 / 5 / 2, REPS (15) timed
#                runs adapting up to 30 until the median's 95 % CI is within 5 %; each cut by its share of the time
#                left ($DEADLINE) with SIGINT, so every pair gets its share; resumable with the same command
# With ABACUS_CUDA_DEVICE_ACTIVATIONS=1 exported, activations stay in CUDA memory between segments (the options
# shim, scripts/gpu/README.md) and the profiles go to <state-dir>/profile/<name>-device, apart from host-memory ones.
# Every step writes under <state-dir> and skips what is already there. A step is skipped when fewer than its
# estimated seconds remain before $DEADLINE (epoch seconds; unset: no limit), so a device call ends in time.
set -euo pipefail
state=${1:?usage: cuda-pipeline.sh <state-dir> <step>...}; shift
mkdir -p "$state/bench"
cli() { node dist/cli.js "$@"; }
models="$state/models"
all7="resnet50 resnet101 resnet152 inception_v3 vgg16 vgg19 bert"
four="resnet101 resnet152 vgg19 bert"
sfx=""; [ "${ABACUS_CUDA_DEVICE_ACTIVATIONS:-0}" = 1 ] && sfx=-device
left() { if [ -n "${DEADLINE:-}" ]; then echo $(( DEADLINE - $(date +%s) )); else echo 999999; fi; }
fits() { local need=$1 what=$2; if [ "$(left)" -lt "$need" ]; then echo "cuda-pipeline: skipping $what ($(left) s left, needs about $need)" >&2; return 1; fi; }
stamp() { echo "cuda-pipeline: $1 $(date -u +%H:%M:%S) ($(left) s left)" >&2; }
for step in "$@"; do
  stamp "$step"
  case "$step" in
    zoo)
      [ -s "$state/zoo-build.json" ] || cli zoo build all --out "$models" --json > "$state/zoo-build.json" ;;
    bench)
      f="$state/bench/executor.json"
      [ -s "$f" ] || { fits 240 bench && cli bench executor --models $all7 --ep cuda --batch 1,4,8,16,32 --seq 64 --reps 15 --warmup 3 \
        --no-pairs --models-dir "$models" --out "$f" > "$state/bench/executor.txt"; } || true ;;
    pairs)
      f="$state/bench/pairs-b8.json"
      [ -s "$f" ] || { fits 90 pairs && cli bench executor --models $four --ep cuda --batch 8 --seq 64 --reps 20 --warmup 3 \
        --models-dir "$models" --out "$f" > "$state/bench/pairs-b8.txt"; } || true ;;
    pytorch)
      f="$state/bench/pytorch.json"
      [ -s "$f" ] || { fits 90 pytorch && python3 scripts/gpu/pytorch-bench.py --batches 1,4,8,16,32 --seq 64 --reps 30 --out "$f" 2> "$state/bench/pytorch.txt"; } || true ;;
    options)
      mkdir -p "$state/bench/options"
      for v in default cudnn_conv_algo_search=HEURISTIC cudnn_conv_algo_search=DEFAULT cudnn_conv_use_max_workspace=0 \
               do_copy_in_default_stream=0 prefer_nhwc=1; do
        name=${v//=/-}; f="$state/bench/options/$name.json"
        [ -s "$f" ] && continue
        fits 40 "options $v" || break
        flag=(); [ "$v" = default ] || flag=(--cuda-option "$v")
        cli bench executor --models resnet101 vgg19 --ep cuda "${flag[@]}" --batch 8 --reps 10 --warmup 3 \
          --models-dir "$models" --out "$f" > "$state/bench/options/$name.txt" 2>&1 || echo "options $v failed: $(tail -1 "$state/bench/options/$name.txt")" >&2
      done ;;
    webgpu)
      f="$state/bench/webgpu-b8.json"
      [ -s "$f" ] || { fits 60 webgpu && env -u LD_PRELOAD node dist/cli.js bench executor --models resnet50 vgg16 --ep webgpu --batch 8 --reps 15 --warmup 3 \
        --models-dir "$models" --out "$f" > "$state/bench/webgpu-b8.txt"; } || true ;;
    profile-pairs)
      cli profile --model-num 2 --models $four --ep cuda --samples ${SAMPLES:-12} --reps ${REPS:-15} \
        --models-dir "$models" --out "$state/profile/2in4$sfx" --json > "$state/profile-2in4$sfx.last.json" ;;
    profile-triplet)
      cli profile --model-num 3 --comb resnet101 resnet152 vgg19 --ep cuda --samples ${SAMPLES:-4} --reps ${REPS:-15} \
        --models-dir "$models" --out "$state/profile/3in4$sfx" --json > "$state/profile-3in4$sfx.last.json" ;;
    profile-quad)
      cli profile --model-num 4 --comb $four --ep cuda --samples ${SAMPLES:-2} --reps ${REPS:-15} \
        --models-dir "$models" --out "$state/profile/4in4$sfx" --json > "$state/profile-4in4$sfx.last.json" ;;
    bench-device)
      f="$state/bench/device-b8.json"
      [ -s "$f" ] || { fits 60 bench-device && cli bench executor --models $all7 --ep cuda --batch 8 --seq 64 --reps 15 --warmup 3 \
        --no-pairs --models-dir "$models" --out "$f" > "$state/bench/device-b8.txt"; } || true
      f="$state/bench/device-b8-readback.json"
      [ -s "$f" ] || { fits 40 bench-device-readback && ABACUS_CUDA_READBACK_SYNC=1 cli bench executor --models resnet101 vgg16 bert --ep cuda --batch 8 --seq 64 --reps 15 --warmup 3 \
        --no-pairs --models-dir "$models" --out "$f" > "$state/bench/device-b8-readback.txt"; } || true ;;
    bench-device-all)
      f="$state/bench/device-all.json"
      [ -s "$f" ] || { fits 150 bench-device-all && cli bench executor --models $all7 --ep cuda --batch 1,4,16,32 --seq 64 --reps 10 --warmup 2 \
        --no-pairs --models-dir "$models" --out "$f" > "$state/bench/device-all.txt"; } || true ;;
    profile-each)
      pairs="resnet101,resnet152 resnet101,vgg19 resnet101,bert resnet152,vgg19 resnet152,bert vgg19,bert"
      jobs=(); for p in $pairs; do jobs+=("2:$p:19"); done
      jobs+=("3:resnet101,resnet152,vgg19:5" "4:resnet101,resnet152,vgg19,bert:2")
      n=${#jobs[@]}; i=0
      mkdir -p "$state/profile/v2"
      for job in "${jobs[@]}"; do
        IFS=: read -r k comb samples <<<"$job"
        name=${comb//,/_}; [ "$k" = 2 ] || name=${k}in4
        # the quadruplet's groups take longest: it gets a share and a half
        share=$(( ( $(left) - ${RESERVE:-20} ) / (n - i) )); [ "$k" = 4 ] && share=$(( $(left) - ${RESERVE:-20} ))
        i=$((i + 1))
        [ "$share" -ge 15 ] || { echo "cuda-pipeline: no time left for profile $name" >&2; continue; }
        stamp "profile $name (${share} s)"
        timeout -s INT "$share" node dist/cli.js profile --model-num "$k" --comb ${comb//,/ } --ep cuda --samples "$samples" \
          --reps ${REPS:-15} --stable-pct 5 --max-reps 30 --models-dir "$models" --out "$state/profile/v2/$name" --json \
          > "$state/profile/v2/$name.last.json" 2> "$state/profile/v2/$name.stderr.txt" || echo "profile $name: exit $? (124/130: its time share ran out; resumable)" >&2
      done ;;
    *)
      echo "cuda-pipeline.sh: unknown step '$step'" >&2; exit 2 ;;
  esac
done
stamp done
