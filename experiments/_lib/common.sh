# Shared by experiments/<section>/run.sh (sourced, not run): the repository root, the abacus CLI, the
# helper (experiments/_lib/exp.ts), the options every script takes, the results folder and step logging.
#
# A script sets SECTION, defines usage() (printing $COMMON_USAGE among its options), parses its arguments
# with parse_common for the common ones, then calls init_run "$@-as-given" and runs steps with `step`.

EXP_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$EXP_LIB/../.." && pwd)"

COMMON_USAGE="Common options:
  --quick             CPU, tiny models, short profiles, few queries (minutes on 2 cores)
  --ep <ep>           execution provider: cpu, cuda or webgpu (default: cpu with --quick, else cuda)
  --out <dir>         results folder (default: experiments/<section>/results/<UTC time>-<commit>)
  --models-dir <dir>  models folder (default: <results>/models with --quick, else models/)
  --combs <list>      combinations, models comma-separated, combinations space-separated ('resnet50,vgg16 vgg19,bert')
  --queries <n>       queries per serving run
  --seed <n>          seed of profiling, training and traces (default 0)
  --threads <n>       intra-op threads per service on the CPU (default: cores / models)
  --samples <n>       profiled groups per batch-size tuple; --reps <n> timed runs of each
  --batch-sizes <l>   batch sizes profiled and served (default 4,8,16,32)
  --data <dir>        train on this profile data set instead of profiling (repeatable; one predictor each)
  --predictor <dir>   use this predictor bundle instead of training one
  --barrier <mode>    abacus's barrier: member (default: each member frees its service when it ends) or group (the paper's)
  --calibrate         serve with --calibrate: every policy's predictor scaled at run time by measured/predicted
  --solo-from <dir>   take the solo benchmarks (b<batch>[-s<seq>].json) from an earlier run's raw/solo on the same host
                      instead of measuring them again (recorded in run.json); a missing file is measured
  -h, --help          this message"

MODE=full
EP=""
OUT=""
MODELS_DIR=""
COMBS=""
QUERIES=""
SEED=0
THREADS=""
SAMPLES=""
REPS=""
BATCH_SIZES=""
DATA_DIRS=()
PREDICTOR=""
BARRIER=member
SOLO_FROM=
CALIBRATE=()
SHIFT_BY=1

say() { printf '[%s] %s\n' "$SECTION" "$*" >&2; }
die() { say "error: $*"; exit 1; }
die_usage() { say "$*"; usage >&2; exit 2; }

need_value() { # need_value <option> <remaining argument count>
  [[ $2 -ge 2 ]] || die_usage "option $1 needs a value"
}

# parse_common "$@": consume the common option at $1 and set SHIFT_BY; return 1 when $1 is not one.
parse_common() {
  case "$1" in
    --quick) MODE=quick; SHIFT_BY=1 ;;
    --ep) need_value "$1" $#; EP="$2"; SHIFT_BY=2 ;;
    --out) need_value "$1" $#; OUT="$(realpath -m "$2")"; SHIFT_BY=2 ;;
    --models-dir) need_value "$1" $#; MODELS_DIR="$(realpath -m "$2")"; SHIFT_BY=2 ;;
    --combs) need_value "$1" $#; COMBS="$2"; SHIFT_BY=2 ;;
    --queries) need_value "$1" $#; QUERIES="$2"; SHIFT_BY=2 ;;
    --seed) need_value "$1" $#; SEED="$2"; SHIFT_BY=2 ;;
    --threads) need_value "$1" $#; THREADS="$2"; SHIFT_BY=2 ;;
    --samples) need_value "$1" $#; SAMPLES="$2"; SHIFT_BY=2 ;;
    --reps) need_value "$1" $#; REPS="$2"; SHIFT_BY=2 ;;
    --batch-sizes) need_value "$1" $#; BATCH_SIZES="$2"; SHIFT_BY=2 ;;
    --data) need_value "$1" $#; DATA_DIRS+=("$(realpath -m "$2")"); SHIFT_BY=2 ;;
    --predictor) need_value "$1" $#; PREDICTOR="$(realpath -m "$2")"; SHIFT_BY=2 ;;
    --barrier) need_value "$1" $#; BARRIER="$2"; SHIFT_BY=2 ;;
    --solo-from) need_value "$1" $#; SOLO_FROM="$2"; SHIFT_BY=2 ;;
    --calibrate) CALIBRATE=(--calibrate); SHIFT_BY=1 ;;
    -h|--help) usage; exit 0 ;;
    *) return 1 ;;
  esac
}

# The CLI: the build in dist/ when it exists and no source is newer, else the sources through tsx
# (what `npx tsx src/cli.ts` does, without npm's start-up).
if [[ -f "$ROOT/dist/cli.js" && -z "$(find "$ROOT/src" -name '*.ts' -newer "$ROOT/dist/cli.js" -print -quit 2>/dev/null)" ]]; then
  CLI_KIND=dist
else
  CLI_KIND=tsx
fi
abacus() {
  # CUDA_OPTIONS="key=value ...": CUDA provider options for every serve, bench and profile step (recorded in run.json)
  if [[ -n ${CUDA_OPTIONS:-} && ( $1 == serve || $1 == bench || $1 == profile ) ]]; then
    # shellcheck disable=SC2086
    set -- "$@" --cuda-option $CUDA_OPTIONS
  fi
  if [[ $CLI_KIND == dist ]]; then node "$ROOT/dist/cli.js" "$@"; else node --import tsx "$ROOT/src/cli.ts" "$@"; fi
}
# exp_script <helper .ts under experiments/> <args...>: runs a TypeScript helper of the scripts, compiled by
# `npm run build` into dist/experiments/<name>.mjs (runs without tsx, as on the GPU machine) when that is at
# least as new as the helper and the CLI's build is current, or when tsx is not installed (a production-only
# install, where copied scripts may look newer than the build); else the source through tsx.
exp_script() {
  local src=$1 built
  shift
  built="$ROOT/dist/experiments/$(basename "${src%.ts}").mjs"
  if [[ $CLI_KIND == dist && -f $built ]] && [[ ! $src -nt $built || ! -d "$ROOT/node_modules/tsx" ]]; then
    node "$built" "$@"
  else
    node --import tsx "$src" "$@"
  fi
}
exp_helper() { exp_script "$EXP_LIB/exp.ts" "$@"; }

# init_run <the script's arguments>: defaults by mode, the results folder, run.json.
init_run() {
  cd "$ROOT"
  if [[ -z $EP ]]; then if [[ $MODE == quick ]]; then EP=cpu; else EP=cuda; fi; fi
  if [[ $MODE == quick ]]; then SCALE=tiny; else SCALE=full; fi
  BATCH_SIZES="${BATCH_SIZES:-4,8,16,32}"
  local commit
  commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo nogit)"
  RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)-$commit"
  RUN="${OUT:-$ROOT/experiments/$SECTION/results/$RUN_ID}"
  if [[ -d $RUN && -n "$(ls -A "$RUN")" ]]; then die "results folder $RUN is not empty"; fi
  mkdir -p "$RUN/logs" "$RUN/raw"
  MODELS_DIR="${MODELS_DIR:-$([[ $MODE == quick ]] && echo "$RUN/models" || echo "$ROOT/models")}"
  RUN_COMMAND="experiments/$SECTION/run.sh${*:+ $*}"
  RUN_STARTED=$(date +%s.%N)
  say "results in $RUN ($MODE, $EP, CLI from $CLI_KIND)"
}

# write_run_json key=value...: run.json with the run's settings.
# With --data the profiling settings recorded (samples, reps, combinations, batch sizes) are the data sets'
# own, read from their profile.json; with --predictor nothing is profiled in the run, and that is recorded.
write_run_json() {
  local sets=(--set "seed=$SEED" --set "cli=$CLI_KIND" --set "models_dir=$MODELS_DIR" --set "barrier=$BARRIER" --set "calibrate=$([[ ${#CALIBRATE[@]} -gt 0 ]] && echo true || echo false)" --set "solo_from=${SOLO_FROM:-measured in this run}" --set "cuda_options=${CUDA_OPTIONS:-onnxruntime defaults}") kv d
  for kv in "$@"; do sets+=(--set "$kv"); done
  for d in "${DATA_DIRS[@]}"; do sets+=(--data "$d"); done
  if [[ ${#DATA_DIRS[@]} -eq 0 && -n $PREDICTOR ]]; then sets+=(--predictor-given); fi
  exp_helper init --dir "$RUN" --section "$SECTION" --mode "$MODE" --ep "$EP" --seed "$SEED" --command "$RUN_COMMAND" "${sets[@]}"
}

# step <name> <command...>: stdout → logs/<name>.out, stderr → logs/<name>.err, time → logs/steps.tsv.
# On failure the end of stderr is shown and the script stops.
step() {
  local name=$1; shift
  local t0 t1 rc=0
  t0=$(date +%s.%N)
  say "$name"
  "$@" </dev/null >"$RUN/logs/$name.out" 2>"$RUN/logs/$name.err" || rc=$?
  t1=$(date +%s.%N)
  printf '%s\t%.1f\t%d\n' "$name" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$rc" >>"$RUN/logs/steps.tsv"
  if [[ $rc -ne 0 ]]; then
    tail -n 20 "$RUN/logs/$name.err" >&2
    die "step '$name' failed (exit $rc); logs in $RUN/logs/$name.{out,err}"
  fi
}

# threads_for <models in a group>: intra-op threads per service (CPU), cores shared out.
threads_for() {
  if [[ -n $THREADS ]]; then echo "$THREADS"; return; fi
  local n
  n=$(nproc)
  echo $(( n / $1 > 0 ? n / $1 : 1 ))
}

# Models of every combination, deduplicated, space-separated.
models_of() { tr ' ,' '\n\n' <<<"$1" | sed '/^$/d' | awk '!seen[$0]++' | tr '\n' ' '; }

# build_models <models...>: the zoo models at the run's scale into MODELS_DIR (kept when already built).
build_models() {
  step zoo-build abacus zoo build "$@" --scale "$SCALE" --out "$MODELS_DIR"
}

# The BERT sequence lengths served (serve's default) and measured.
SEQ_LENS=8,16,32,64

# measure_solo <threads> <batch sizes comma-separated> <models...>: raw/solo/b<B>.json per batch size, every
# model at the longest sequence length; BERT also at the others (raw/solo/b<B>-s<S>.json).
measure_solo() {
  local threads=$1 batches=$2; shift 2
  local b s reps=${SOLO_REPS:-20} longest m
  longest=$(tr ',' '\n' <<<"$SEQ_LENS" | sort -n | tail -1)
  mkdir -p "$RUN/raw/solo"
  for b in ${batches//,/ }; do
    if [[ -n $SOLO_FROM && -s $SOLO_FROM/b$b.json ]]; then
      # an earlier run's solo benchmarks on this host: copied, all sequence lengths with them
      say "solo-b$b copied from $SOLO_FROM"
      cp "$SOLO_FROM"/b"$b".json "$RUN/raw/solo/"
      cp "$SOLO_FROM"/b"$b"-s*.json "$RUN/raw/solo/" 2>/dev/null || true
      continue
    fi
    step "solo-b$b" abacus bench executor --models "$@" --batch "$b" --seq "$longest" --no-pairs --segments 2 --reps "$reps" \
      --warmup 3 --threads "$threads" --ep "$EP" --scale "$SCALE" --models-dir "$MODELS_DIR" --out "$RUN/raw/solo/b$b.json"
    for m in "$@"; do
      if [[ $m != bert && $m != 6 ]]; then continue; fi
      for s in ${SEQ_LENS//,/ }; do
        if [[ $s == "$longest" ]]; then continue; fi
        step "solo-b$b-s$s" abacus bench executor --models "$m" --batch "$b" --seq "$s" --no-pairs --segments 2 --reps "$reps" \
          --warmup 3 --threads "$threads" --ep "$EP" --scale "$SCALE" --models-dir "$MODELS_DIR" --out "$RUN/raw/solo/b$b-s$s.json"
      done
    done
  done
}

# profile_comb <combination (comma-separated)>: raw/profile/<name>/ unless --data was given.
profile_comb() {
  local comb=$1 n name
  n=$(models_in "$comb")
  name=${comb//,/_}
  step "profile-$name" abacus profile --model-num "$n" --comb ${comb//,/ } --batch-sizes "$BATCH_SIZES" \
    --samples "$SAMPLES" --reps "$REPS" --warmup "${WARMUP:-2}" --seed "$SEED" --threads "$(threads_for "$n")" \
    --ep "$EP" --scale "$SCALE" --models-dir "$MODELS_DIR" --out "$RUN/raw/profile/$name"
}

# models_in <combination>: how many models it has.
models_in() { tr ',' '\n' <<<"$1" | wc -l; }

# prepare_serving [exp qos options...]: the zoo models, their solo latencies at every batch size
# (SOLO_BATCHES, default BATCH_SIZES), qos.json, and the predictors (train_predictors).
prepare_serving() {
  local models smallest
  read -r -a models <<<"$(models_of "$COMBS")"
  smallest=$(for comb in $COMBS; do models_in "$comb"; done | sort -n | head -1)
  build_models "${models[@]}"
  measure_solo "$(threads_for "$smallest")" "${SOLO_BATCHES:-$BATCH_SIZES}" "${models[@]}"
  step qos exp_helper qos --dir "$RUN" --bench "$RUN"/raw/solo/b*.json --combs "$COMBS" --batch-sizes "$BATCH_SIZES" "$@"
  train_predictors
}

# train_predictors: nothing with --predictor; one MLP per --data set (raw/predictor/data-<i>/); else each
# combination is profiled and one MLP ("all" mode) is trained per group size (raw/predictor/<n>models/).
# Serving then takes the bundle that knows the combination's models with as many slots.
train_predictors() {
  if [[ -n $PREDICTOR ]]; then return 0; fi
  local i
  if [[ ${#DATA_DIRS[@]} -gt 0 ]]; then
    for i in "${!DATA_DIRS[@]}"; do
      step "train-data-$i" abacus train --data "${DATA_DIRS[$i]}" --modeling mlp --mode all --seed "$SEED" --models-dir "$MODELS_DIR" --scale "$SCALE" --out "$RUN/raw/predictor/data-$i" --json
    done
    return 0
  fi
  local comb n dirs
  for comb in $COMBS; do profile_comb "$comb"; done
  for n in $(for comb in $COMBS; do models_in "$comb"; done | sort -nu); do
    dirs=()
    for comb in $COMBS; do
      if [[ $(models_in "$comb") -eq $n ]]; then dirs+=("$RUN/raw/profile/${comb//,/_}"); fi
    done
    step "train-${n}models" abacus train --data "${dirs[@]}" --modeling mlp --mode all --seed "$SEED" --models-dir "$MODELS_DIR" --scale "$SCALE" --out "$RUN/raw/predictor/${n}models" --json
  done
}

# The 21 pairs of the zoo in id order (the paper's 2in7 pairs).
all_pairs() {
  local zoo=(resnet50 resnet101 resnet152 inception_v3 vgg16 vgg19 bert) i j out=()
  for ((i = 0; i < ${#zoo[@]}; i++)); do for ((j = i + 1; j < ${#zoo[@]}; j++)); do out+=("${zoo[i]},${zoo[j]}"); done; done
  echo "${out[*]}"
}

# serve_study <study> <policies> [extra serve options...]: every combination of qos.json with the study's
# QoS target and load (exp targets), one `abacus serve` each into raw/serve/<study>/<combination>/.
# The predictor: PREDICTOR when set, else the bundle under raw/predictor/ that fits the combination.
serve_study() {
  local study=$1 policies=$2; shift 2
  step "targets-$study" exp_helper targets --dir "$RUN" --study "$study"
  local name models qos load batches n predictor_args=(--predictors-root "$RUN/raw/predictor")
  if [[ -n $PREDICTOR ]]; then predictor_args=(--predictor "$PREDICTOR"); fi
  while read -r name models qos load batches _; do
    if [[ $batches == - ]]; then batches="$BATCH_SIZES"; fi
    n=$(models_in "$models")
    step "serve-$study-$name" abacus serve --comb ${models//,/ } --policy "$policies" --abandon --ways 2 --thld 5 --barrier "$BARRIER" "${CALIBRATE[@]}" \
      --qos "$qos" --load "$load" --queries "$QUERIES" --batch-sizes "$batches" --seed "$SEED" "${predictor_args[@]}" \
      --ep "$EP" --scale "$SCALE" --models-dir "$MODELS_DIR" --threads "$(threads_for "$n")" --out "$RUN/raw/serve/$study/$name" "$@"
  done <"$RUN/logs/targets-$study.out"
}

# same_models <a,b,...> <c,d,...>: whether two combinations name the same models (in any order).
same_models() { [[ "$(tr ',' '\n' <<<"$1" | sort | paste -sd,)" == "$(tr ',' '\n' <<<"$2" | sort | paste -sd,)" ]]; }

# peak_search <policies>: for each combination (or only those in PEAK_COMBS when set), `abacus serve
# --find-peak` at its QoS target over loads PEAK_LO..PEAK_HI × its serial capacity, to a resolution of
# PEAK_RES × capacity, PEAK_QUERIES queries per probe; the CLI's JSON goes to raw/peak/<combination>.json
# and the bracket to raw/peak/<combination>.range.
peak_search() {
  local policies=$1 name models qos load batches cap lo hi res n predictor_args=(--predictors-root "$RUN/raw/predictor")
  if [[ -n $PREDICTOR ]]; then predictor_args=(--predictor "$PREDICTOR"); fi
  mkdir -p "$RUN/raw/peak"
  step targets-peak exp_helper targets --dir "$RUN" --study qos
  local wanted c
  while read -r name models qos load batches cap; do
    if [[ -n ${PEAK_COMBS:-} ]]; then
      wanted=0
      for c in $PEAK_COMBS; do if same_models "$c" "$models"; then wanted=1; fi; done
      if [[ $wanted == 0 ]]; then continue; fi
    fi
    if [[ $batches == - ]]; then batches="$BATCH_SIZES"; fi
    lo=$(awk -v c="$cap" -v f="$PEAK_LO" 'BEGIN { printf "%.1f", c * f }')
    hi=$(awk -v c="$cap" -v f="$PEAK_HI" 'BEGIN { printf "%.1f", c * f }')
    res=$(awk -v c="$cap" -v f="$PEAK_RES" 'BEGIN { printf "%.2f", c * f }')
    n=$(models_in "$models")
    printf '%s,%s\n' "$lo" "$hi" >"$RUN/raw/peak/$name.range"
    step "peak-$name" abacus serve --comb ${models//,/ } --policy "$policies" --abandon --ways 2 --thld 5 --barrier "$BARRIER" "${CALIBRATE[@]}" \
      --qos "$qos" --queries "$PEAK_QUERIES" --batch-sizes "$batches" --seed "$SEED" "${predictor_args[@]}" \
      --ep "$EP" --scale "$SCALE" --models-dir "$MODELS_DIR" --threads "$(threads_for "$n")" \
      --find-peak --peak-range "$lo,$hi" --peak-resolution "$res" --json
    cp "$RUN/logs/peak-$name.out" "$RUN/raw/peak/$name.json"
  done <"$RUN/logs/targets-peak.out"
}

finish_run() {
  step finish exp_helper finish --dir "$RUN"
  local total
  total=$(awk -v a="$RUN_STARTED" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')
  say "done in $(printf '%.0f' "$total") s: $RUN"
  say "figures: $(ls "$RUN/figures" 2>/dev/null | grep -c '\.png$' || true) PNG in $RUN/figures"
}
