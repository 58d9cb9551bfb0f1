#!/usr/bin/env bash
# §7.5 MIG: ResNet-101, ResNet-152, VGG-19 and BERT on the MIG instances of one GPU. One `abacus serve` per
# instance, all instances at once, each pinned to its instance the way NVIDIA documents for CUDA
# applications (CUDA_VISIBLE_DEVICES=MIG-<uuid>, the UUIDs that `nvidia-smi -L` lists), with the CUDA
# execution provider. Layouts (Fig. 20/21 of the paper): 1in4 = one model per instance (FCFS and EDF),
# 2in4 = two pairs on two instances (the three splits), 4in4 = the four models on one instance.
#
# The script does not create or change MIG instances (that needs root and stops every GPU process): an
# administrator creates them first, e.g. `nvidia-smi mig -cgi 14,14 -C` for two 2g.10gb instances on an
# A100-40GB. Without MIG instances it says so and exits with status 3; it never writes made-up results.
set -euo pipefail
SECTION=7.5_mig
# shellcheck source=../_lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../_lib/common.sh"

usage() {
  cat <<EOF
Usage: experiments/$SECTION/run.sh [--layout 1in4|2in4|4in4] [options]

Needs a GPU with MIG instances already created and the CUDA execution provider. The layout needs 4, 2 or 1
instances (the first ones 'nvidia-smi -L' lists are used); by default it follows from how many there are.
Solo latencies, profiles and predictors are measured on the first instance; the QoS target is one value
for the layout: k × the largest solo latency at the largest batch over the four models; each instance is
offered rho × the serial capacity of its models (experiments/README.md).
Figures: mig_qos_tail, mig_violations, mig_overload_completions.

Options:
  --layout <l>        1in4, 2in4 or 4in4 (default: 4 or more instances 1in4, 2-3 2in4, 1 4in4)
  --qos-factor <k>    QoS = k × the largest solo latency at the largest batch (default 5)
  --rho <x>           QoS-study load per instance as a share of its serial capacity (default 0.7)
  --rho-overload <x>  overload load per instance (default 1.4)
$COMMON_USAGE
  (--quick is refused: MIG needs the GPU. --combs does not apply.)
EOF
}

MODELS4=(resnet101 resnet152 vgg19 bert)
LAYOUT=auto
QOS_FACTOR=5
RHO=0.7
RHO_OVER=1.4
ARGS=("$@")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --layout) need_value "$1" $#; LAYOUT="$2"; shift 2 ;;
    --qos-factor) need_value "$1" $#; QOS_FACTOR="$2"; shift 2 ;;
    --rho) need_value "$1" $#; RHO="$2"; shift 2 ;;
    --rho-overload) need_value "$1" $#; RHO_OVER="$2"; shift 2 ;;
    *) parse_common "$@" || die_usage "unknown option '$1'"; shift "$SHIFT_BY" ;;
  esac
done
if [[ $MODE == quick ]]; then die_usage "--quick does not apply: MIG instances exist only on a GPU"; fi
if [[ -n $EP && $EP != cuda ]]; then die_usage "MIG instances are selected for the CUDA execution provider only (got --ep $EP)"; fi
case "$LAYOUT" in auto | 1in4 | 2in4 | 4in4) ;; *) die_usage "--layout must be 1in4, 2in4 or 4in4 (got '$LAYOUT')" ;; esac

# MIG instances, before anything is written.
if ! command -v nvidia-smi >/dev/null 2>&1; then
  say "nvidia-smi is not installed here: no NVIDIA GPU, so no MIG instances. Nothing was run."
  exit 3
fi
if ! LISTING="$(nvidia-smi -L 2>&1)"; then
  say "nvidia-smi -L failed: $LISTING"
  say "Nothing was run."
  exit 3
fi
mapfile -t MIG_UUIDS < <(grep -oE 'MIG-[^) ]+' <<<"$LISTING" || true)
if [[ ${#MIG_UUIDS[@]} -eq 0 ]]; then
  say "no MIG instances are visible ('nvidia-smi -L' lists none):"
  sed 's/^/    /' <<<"$LISTING" >&2
  say "An administrator must enable MIG and create instances first (e.g. 'nvidia-smi -i 0 -mig 1', then"
  say "'nvidia-smi mig -cgi 14,14 -C'). Nothing was run."
  exit 3
fi
if [[ $LAYOUT == auto ]]; then
  if [[ ${#MIG_UUIDS[@]} -ge 4 ]]; then LAYOUT=1in4; elif [[ ${#MIG_UUIDS[@]} -ge 2 ]]; then LAYOUT=2in4; else LAYOUT=4in4; fi
fi
case "$LAYOUT" in 1in4) NEED=4 ;; 2in4) NEED=2 ;; 4in4) NEED=1 ;; esac
if [[ ${#MIG_UUIDS[@]} -lt $NEED ]]; then
  say "layout $LAYOUT needs $NEED MIG instances; 'nvidia-smi -L' lists ${#MIG_UUIDS[@]}. Nothing was run."
  exit 3
fi

EP=cuda
init_run "${ARGS[@]}"
QUERIES="${QUERIES:-1000}"; SAMPLES="${SAMPLES:-200}"; REPS="${REPS:-100}"

# Configurations of the layout: "<name>:<group>;<group>", a group being comma-separated models.
case "$LAYOUT" in
  1in4) CONFIGS=("1in4:resnet101;resnet152;vgg19;bert"); POLICIES=fcfs,edf ;;
  2in4) CONFIGS=("2in4-a:resnet101,bert;resnet152,vgg19" "2in4-b:resnet101,resnet152;vgg19,bert" "2in4-c:resnet101,vgg19;resnet152,bert"); POLICIES=fcfs,sjf,edf,abacus ;;
  4in4) CONFIGS=("4in4:resnet101,resnet152,vgg19,bert"); POLICIES=fcfs,sjf,edf,abacus ;;
esac
GROUPS_ALL=""
for config in "${CONFIGS[@]}"; do GROUPS_ALL="$GROUPS_ALL ${config#*:}"; done
COMBS="$(tr ';' ' ' <<<"$GROUPS_ALL" | xargs -n1 | awk '!seen[$0]++' | xargs)"
INSTANCES="${MIG_UUIDS[*]:0:$NEED}"
write_run_json layout="$LAYOUT" instances="$INSTANCES" configurations="${CONFIGS[*]}" policies="$POLICIES" queries="$QUERIES" \
  samples="$SAMPLES" reps="$REPS" batch_sizes="$BATCH_SIZES" qos_factor="$QOS_FACTOR" rho_qos="$RHO" rho_overload="$RHO_OVER" \
  scale="$SCALE" abandon=true ways=2 thld_ms=5 predictor="${PREDICTOR:-trained in this run}" data="${DATA_DIRS[*]:-profiled in this run}"

# Measurements and training on the first instance; predictors only for groups of two or more models.
export CUDA_VISIBLE_DEVICES="${MIG_UUIDS[0]}"
say "solo latencies, profiles and predictors on $CUDA_VISIBLE_DEVICES"
build_models "${MODELS4[@]}"
measure_solo 1 "$BATCH_SIZES" "${MODELS4[@]}"
step qos exp_helper qos --dir "$RUN" --bench "$RUN"/raw/solo/b*.json --combs "$COMBS" --batch-sizes "$BATCH_SIZES" \
  --factor "$QOS_FACTOR" --rho-qos "$RHO" --rho-overload "$RHO_OVER" --shared-qos
if [[ $LAYOUT != 1in4 ]]; then train_predictors; fi
unset CUDA_VISIBLE_DEVICES

# serve_config <study> <config>: each group of the configuration on its own instance, at once, one policy at a time.
serve_config() {
  local study=$1 config=$2 name groups group policy i pids line qos load models n
  name=${config%%:*}
  IFS=';' read -r -a groups <<<"${config#*:}"
  for policy in ${POLICIES//,/ }; do
    pids=()
    for i in "${!groups[@]}"; do
      group=${groups[$i]}
      line=$(awk -v m="$group" '$2 == m' "$RUN/logs/targets-$study.out")
      if [[ -z $line ]]; then die "no targets for $group"; fi
      read -r _ models qos load _ _ <<<"$line"
      n=$(models_in "$models")
      local out="$RUN/raw/serve/$study/$name/gi$i-$policy" predictor_args=(--predictors-root "$RUN/raw/predictor")
      if [[ -n $PREDICTOR ]]; then predictor_args=(--predictor "$PREDICTOR"); fi
      say "serve $study $name: $models on ${MIG_UUIDS[$i]} ($policy)"
      CUDA_VISIBLE_DEVICES="${MIG_UUIDS[$i]}" abacus serve --comb ${models//,/ } --policy "$policy" --abandon --ways 2 --thld 5 \
        --qos "$qos" --load "$load" --queries "$QUERIES" --batch-sizes "$BATCH_SIZES" --seed "$((SEED + i))" "${predictor_args[@]}" \
        --ep cuda --scale "$SCALE" --models-dir "$MODELS_DIR" --threads 1 --out "$out" \
        </dev/null >"$RUN/logs/serve-$study-$name-gi$i-$policy.out" 2>"$RUN/logs/serve-$study-$name-gi$i-$policy.err" &
      pids+=($!)
    done
    for i in "${!pids[@]}"; do
      if ! wait "${pids[$i]}"; then
        tail -n 20 "$RUN/logs/serve-$study-$name-gi$i-$policy.err" >&2
        die "serve on ${MIG_UUIDS[$i]} failed; logs in $RUN/logs/"
      fi
    done
  done
}

for study in qos overload; do
  step "targets-$study" exp_helper targets --dir "$RUN" --study "$study"
  for config in "${CONFIGS[@]}"; do serve_config "$study" "$config"; done
done
finish_run
