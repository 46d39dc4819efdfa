#!/usr/bin/env bash
# The GPU session in one script: install check, the test suite on CuPy, the AlexNet step
# benchmark against PyTorch+cuDNN, the full 10-epoch recipe, and the results files.
#
#   bash benchmarks/gpu_check.sh               # on the GPU machine; call it again while it exits 75
#   bash benchmarks/gpu_check.sh --dry-run     # here, on the CPU: every step in miniature, on NumPy
#
# Steps, in order (--steps picks some; each is bounded by a timeout and by the call's deadline):
#   a  CuPy present? If not, pip install the package with the matching extra (.[cuda12] or
#      .[cuda13], from nvidia-smi's CUDA version; offline: wheels from $GPU_CHECK_WHEELS).
#      Then CuPy and numba.cuda must see the GPU.
#   b  pytest -m gpu; tests/kernels/cuda on real CuPy arrays; the whole suite with the xp
#      fixture on CuPy only (MINICNN_TEST_BACKENDS=cupy: a CuPy case fails, never skips).
#   c  benchmarks/gpu_step_time.py: d2l AlexNet b128 and b256, float32 and --amp, against
#      PyTorch+cuDNN in the same process.
#   d  examples/alexnet_fashionmnist.py --backend cupy: 10 epochs, resize 224, batch 256,
#      Adam 1e-3, data from --data (default data/fashion-mnist, checked first). It runs until
#      the call's deadline, then gets SIGINT (timeout --signal=INT): the trainer saves
#      last.npz at the end of the step and exits; the script exits 75 ("call again"), and
#      the next call continues with --resume.
#   e  the figures as rows in results.jsonl, GPU.md and RESULTS.md rebuilt.
# Done steps leave a marker in the state dir (default runs/gpu_check), so calling the same
# command again skips them. Results are written to a copy of benchmarks/ in the state dir
# (the tracked files are re-sent with every call, the ignored runs/ stays while the machine
# is warm); when $OUT is set, results.jsonl, RESULTS.md, GPU.md, the log and history.json
# are copied there at the end of every call, also a failed one.
#
# Exit: 0 all asked steps done; 75 the training is not finished, call again; 2 bad usage;
# 3 the data is missing; 11..15 step a..e failed (the banner names it and the log).
# docs/gpu.md says how a GPU session calls it with the device tool.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}

DRY_RUN=0
STEPS="a,b,c,d,e"
DEADLINE_S=540                 # a device-tool command may run 600 s; keep a margin
DATA_DIR="$REPO/data/fashion-mnist"
STATE_DIR="$REPO/runs/gpu_check"
FRESH=0
RECIPE_AMP=0
EPOCHS=10
RESERVE_S=60                   # left after the training's SIGINT: its save, step e, the copy to $OUT
KILL_AFTER_S=40                # a trainer still alive this long after SIGINT is killed (and the step fails)
MIN_TRAIN_S=90                 # do not start a training call with less than this left
MIN_STEP_S=60                  # nor any other step
WORKERS=${GPU_CHECK_WORKERS:-auto}   # pytest-xdist workers for the whole suite (0: serial; auto: 8 if installed)

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
    cat <<EOF
Options:
  --dry-run          rehearse on the CPU (NumPy, tiny sizes, rows marked as a dry run)
  --steps LIST       comma list of a,b,c,d,e (default $STEPS)
  --deadline S       seconds this call may run (default $DEADLINE_S)
  --data DIR         the four Fashion-MNIST .gz files (default data/fashion-mnist)
  --state DIR        markers, logs, the run and the results copy (default runs/gpu_check)
  --epochs N         epochs of step d (default $EPOCHS)
  --amp-recipe       step d with --amp (float16 + loss scaling) instead of float32
  --fresh            delete the state dir first (its checkpoints too) and start over
EOF
}

die_usage() { echo "gpu_check: $*" >&2; echo "try: bash benchmarks/gpu_check.sh --help" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY_RUN=1 ;;
        --steps) STEPS=${2:?--steps needs a list}; shift ;;
        --deadline) DEADLINE_S=${2:?--deadline needs seconds}; shift ;;
        --data) DATA_DIR=${2:?--data needs a directory}; shift ;;
        --state) STATE_DIR=${2:?--state needs a directory}; shift ;;
        --epochs) EPOCHS=${2:?--epochs needs a number}; shift ;;
        --amp-recipe) RECIPE_AMP=1 ;;
        --fresh) FRESH=1 ;;
        -h|--help) usage; exit 0 ;;
        *) die_usage "unknown argument '$1'" ;;
    esac
    shift
done
[[ "$DEADLINE_S" =~ ^[0-9]+$ ]] || die_usage "--deadline: expected whole seconds, got '$DEADLINE_S'"
[[ "$EPOCHS" =~ ^[1-9][0-9]*$ ]] || die_usage "--epochs: expected a positive whole number, got '$EPOCHS'"
[[ "$WORKERS" =~ ^([0-9]+|auto)$ ]] || die_usage "GPU_CHECK_WORKERS: expected a whole number or auto, got '$WORKERS'"
for s in ${STEPS//,/ }; do
    [[ "$s" =~ ^[a-e]$ ]] || die_usage "--steps: expected a comma list of a,b,c,d,e; got '$STEPS'"
done
wants() { [[ ",$STEPS," == *",$1,"* ]]; }

if [ "$DRY_RUN" = 1 ]; then
    # Small enough for a 2-core CPU; every script path the GPU run takes, on NumPy.
    MIN_TRAIN_S=5; MIN_STEP_S=1; RESERVE_S=5
    [ "$EPOCHS" = 10 ] && EPOCHS=2
fi
if [ "$FRESH" = 1 ] && [ -d "$STATE_DIR" ]; then
    # only a directory this script made (or an empty one) is deleted
    if [ -f "$STATE_DIR/gpu_check.log" ] || [ -z "$(ls -A "$STATE_DIR")" ]; then
        rm -rf "$STATE_DIR"
    else
        die_usage "--fresh: $STATE_DIR has no gpu_check.log, so it is not a gpu_check state dir; not deleting it"
    fi
fi
mkdir -p "$STATE_DIR"
STATE_DIR=$(cd "$STATE_DIR" && pwd)
BENCH="$STATE_DIR/benchmarks"           # the copy of benchmarks/ that receives the rows
LOG="$STATE_DIR/gpu_check.log"
PRECISION=$([ "$RECIPE_AMP" = 1 ] && echo amp || echo fp32)
RUN_DIR="$STATE_DIR/alexnet_$PRECISION"
START=$SECONDS
CURRENT="setup"
exec > >(tee -a "$LOG") 2> >(tee -a "$LOG" >&2)

elapsed() { echo $((SECONDS - START)); }
left() { echo $((DEADLINE_S - (SECONDS - START))); }
banner() { echo; echo "=== gpu_check [$(elapsed) s] $* ==="; }
done_marker() {   # step d has one per precision: --amp-recipe is its own run
    if [ "$1" = d ]; then echo "$STATE_DIR/done.d.$PRECISION"; else echo "$STATE_DIR/done.$1"; fi
}

collect() {   # results and logs to $OUT, so they come back from the device machine
    local rc=$?
    if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then
        for f in "$BENCH/results.jsonl" "$BENCH/RESULTS.md" "$BENCH/GPU.md" "$LOG" "$RUN_DIR/history.json"; do
            [ -f "$f" ] && cp "$f" "$OUT/" || true
        done
    fi
    return $rc
}
trap collect EXIT

fail() {   # fail STEP_LETTER MESSAGE
    local code=$((11 + $(printf '%d' "'$1") - $(printf '%d' "'a")))
    echo "gpu_check: FAILED in step ($1) $CURRENT after $(elapsed) s: $2" >&2
    echo "gpu_check: log: $LOG" >&2
    exit "$code"
}

step_timeout() {   # step_timeout CAP: the cap, or what is left before the deadline if less
    local cap=$1 rest
    rest=$(( $(left) - RESERVE_S ))
    [ "$rest" -lt "$cap" ] && cap=$rest
    [ "$cap" -lt 1 ] && cap=1
    echo "$cap"
}

timed_out() {   # timed_out LETTER ASKED GIVEN: cut by the call's deadline -> call again; by its own cap -> fail
    if [ "$3" -lt "$2" ]; then
        echo "gpu_check: step ($1) $CURRENT did not finish in the ${3} s left of this call; call again"
        call_again
    fi
    fail "$1" "timed out after its ${2} s"
}

bounded() {   # bounded LETTER CAP CMD...: run CMD under a timeout; fail the step loudly
    local letter=$1 asked=$2 cap rc=0
    cap=$(step_timeout "$asked"); shift 2
    echo "+ (timeout ${cap}s) $*"
    timeout --kill-after=30 "$cap" "$@" || rc=$?
    [ "$rc" = 124 ] && timed_out "$letter" "$asked" "$cap"
    [ "$rc" = 0 ] || fail "$letter" "exit $rc: $*"
}

part_done() {   # part_done NAME: true (and says so) when that part of a step finished in an earlier call
    if [ -f "$STATE_DIR/done.$1" ]; then echo "($1 done in an earlier call; skipped)"; return 0; fi
    return 1
}

refresh_bench_copy() {   # scripts fresh from the repo; results.jsonl kept once it exists
    mkdir -p "$BENCH"
    cp "$REPO"/benchmarks/*.py "$BENCH/"
    for f in "$REPO"/benchmarks/*.md; do
        case "$(basename "$f")" in RESULTS.md|GPU.md) ;; *) cp "$f" "$BENCH/" ;; esac
    done
    if [ ! -f "$BENCH/results.jsonl" ]; then
        cp "$REPO/benchmarks/results.jsonl" "$BENCH/" 2>/dev/null || : > "$BENCH/results.jsonl"
    fi
}

check_data() {   # both splits load from there, their SHA-256s checked; before anything else runs
    CURRENT="data check"
    banner "data: $DATA_DIR"
    "$PYTHON" - "$DATA_DIR" <<'EOF' || { echo "gpu_check: carry the data along (docs/gpu.md: data/fashion-mnist)" >&2; exit 3; }
import os, sys
from minicnn.data import FashionMNIST
root = os.path.realpath(sys.argv[1])
if not os.path.isdir(root):
    sys.exit(f"gpu_check: no directory {sys.argv[1]!r} with the Fashion-MNIST files")
for train, size in ((True, 60000), (False, 10000)):
    ds = FashionMNIST(root=root, train=train)          # verifies the unzipped bytes' SHA-256
    outside = [p for p in ds.paths if not os.path.realpath(p).startswith(root + os.sep)]
    if outside or len(ds) != size:
        sys.exit(f"gpu_check: Fashion-MNIST {'train' if train else 'test'} split: expected {size} images "
                 f"from {root}, got {len(ds)} from {ds.paths}")
print(f"Fashion-MNIST: 60000 + 10000 images in {root}, checksums verified")
EOF
}

cuda_extra() {   # the setup.cfg extra for the machine's CUDA major version (nvidia-smi's header)
    local text major
    if [ "$DRY_RUN" = 1 ]; then
        text=${GPU_CHECK_NVIDIA_SMI_TEXT:-"| NVIDIA-SMI 580.159.04   Driver Version: 580.159.04   CUDA Version: 13.0 |"}
    else
        text=$(nvidia-smi 2>&1) || fail a "nvidia-smi failed: $text"
    fi
    major=$(sed -n 's/.*CUDA Version: *\([0-9][0-9]*\)\..*/\1/p' <<<"$text" | head -n1)
    case "$major" in
        12|13) echo "cuda$major" ;;
        *) fail a "no CuPy extra for CUDA major version '${major:-none found}' (setup.cfg has cuda12, cuda13)" ;;
    esac
}

step_a() {
    CURRENT="install"
    banner "(a) CuPy and the package"
    local extra pip_args=(--no-build-isolation)
    if "$PYTHON" -c "import cupy" 2>/dev/null && [ "$DRY_RUN" = 0 ]; then
        echo "CuPy $("$PYTHON" -c 'import cupy; print(cupy.__version__)') is installed; nothing to install"
    else
        extra=$(cuda_extra)
        [ -n "${GPU_CHECK_WHEELS:-}" ] && pip_args+=(--no-index --find-links "$GPU_CHECK_WHEELS")
        if [ "$DRY_RUN" = 1 ]; then
            echo "dry run: CuPy would be installed with: $PYTHON -m pip install ${pip_args[*]} -e .[$extra]"
            return 0
        fi
        bounded a 300 "$PYTHON" -m pip install "${pip_args[@]}" -e ".[$extra]"
    fi
    CURRENT="GPU visible"
    bounded a 120 "$PYTHON" -c "
import cupy, numba, numba.cuda, minicnn as mc
assert mc.cupy_available(), 'CuPy finds no usable GPU'
assert numba.cuda.is_available(), 'numba.cuda finds no GPU (numba-cuda, CUDA_HOME?)'
name = cupy.cuda.runtime.getDeviceProperties(0)['name'].decode()
print(f'{name}: CuPy {cupy.__version__}, CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()}, numba {numba.__version__}')"
}

suite() {   # suite NAME CAP PYTEST_ARGS...: one pytest run, recorded from its JUnit report
    local name=$1 asked=$2 cap rc=0 xml="$STATE_DIR/$1.xml" cmd
    part_done "b.$name" && return 0
    cap=$(step_timeout "$asked"); shift 2
    CURRENT="pytest $name"
    cmd="python -m pytest -q -x $*"
    echo "+ (timeout ${cap}s) ${NUMBA_ENABLE_CUDASIM:+NUMBA_ENABLE_CUDASIM=1 }MINICNN_TEST_BACKENDS=$TEST_BACKENDS $cmd"
    MINICNN_TEST_BACKENDS=$TEST_BACKENDS timeout --kill-after=30 "$cap" \
        "$PYTHON" -m pytest -q -x -p no:cacheprovider --junitxml="$xml" "$@" || rc=$?
    if [ -f "$xml" ]; then   # recorded also when it failed; a failure to record must not hide pytest's verdict
        "$PYTHON" "$BENCH/gpu_record.py" suite --name "$name" --junit "$xml" \
            --command "MINICNN_TEST_BACKENDS=$TEST_BACKENDS $cmd" $DRY_FLAG || echo "gpu_check: WARNING: could not record $xml"
    fi
    [ "$rc" = 124 ] && timed_out b "$asked" "$cap"
    [ "$rc" = 5 ] && fail b "pytest collected no tests"
    [ "$rc" = 0 ] || fail b "pytest exit $rc (failures above and in $xml)"
    touch "$STATE_DIR/done.b.$name"
}

step_b() {
    banner "(b) the test suite on CuPy"
    if [ "$DRY_RUN" = 1 ]; then   # the same three runs, small, on NumPy and the CUDA simulator
        TEST_BACKENDS=numpy
        suite gpu-marked 120 -m gpu tests/test_backend.py tests/test_amp.py
        NUMBA_ENABLE_CUDASIM=1 suite kernels-cuda 120 tests/kernels/cuda/test_lrn_cuda.py -k "paper or pytorch"
        suite whole-suite-cupy 120 tests/test_amp.py -k "scaler_state_dict or scaler_rejects"
        return 0
    fi
    TEST_BACKENDS=cupy
    CURRENT="GPU visible"
    "$PYTHON" -c "import minicnn as mc, sys; sys.exit(0 if mc.cupy_available() else 1)" \
        || fail b "CuPy finds no usable GPU (step (a) checks the install and the device)"
    local parallel=()
    if [ "$WORKERS" = auto ]; then
        WORKERS=0
        if "$PYTHON" -c "import xdist" 2>/dev/null; then WORKERS=8; fi
    fi
    if [ "$WORKERS" -gt 0 ]; then parallel=(-n "$WORKERS"); fi
    suite gpu-marked 240 -m gpu
    suite kernels-cuda 240 tests/kernels/cuda
    suite whole-suite-cupy 420 "${parallel[@]}"
}

step_c() {
    banner "(c) AlexNet training step vs PyTorch+cuDNN"
    local sizes=(--model alexnet --batch-size 128 256 --steps 20 --warmup 3) where=()
    if [ "$DRY_RUN" = 1 ]; then
        sizes=(--model mnist_cnn --batch-size 8 16 --steps 2 --warmup 1)
        where=(--backend numpy --torch-device cpu --dry-run)
        "$PYTHON" -c "import torch" 2>/dev/null || where+=(--compare none)
    fi
    CURRENT="step time float32"
    if ! part_done c.fp32; then
        bounded c 180 "$PYTHON" "$BENCH/gpu_step_time.py" "${sizes[@]}" "${where[@]}"
        touch "$STATE_DIR/done.c.fp32"
    fi
    CURRENT="step time amp"
    if ! part_done c.amp; then
        bounded c 180 "$PYTHON" "$BENCH/gpu_step_time.py" "${sizes[@]}" "${where[@]}" --amp
        touch "$STATE_DIR/done.c.amp"
    fi
}

train_config() {   # TRAIN: the recipe (gpu_record.py train takes the same options); TRAIN_EXTRA: the rest
    if [ "$DRY_RUN" = 1 ]; then
        TRAIN=(--backend numpy --epochs "$EPOCHS" --resize 67 --batch-size 8 --lr 1e-3 --optimizer adam)
        TRAIN_EXTRA=(--limit-train 96 --limit-test 32)
    else
        TRAIN=(--backend cupy --epochs "$EPOCHS" --resize 224 --batch-size 256 --lr 1e-3 --optimizer adam)
        TRAIN_EXTRA=()
    fi
    if [ "$RECIPE_AMP" = 1 ]; then TRAIN+=(--amp); fi
}

step_d() {
    CURRENT="full recipe ($PRECISION)"
    banner "(d) the full recipe, $PRECISION: $EPOCHS epochs; this call may train $(( $(left) - RESERVE_S )) s"
    local budget rc=0 resume=() watcher="" command
    budget=$(( $(left) - RESERVE_S ))
    if [ "$budget" -lt "$MIN_TRAIN_S" ]; then
        echo "gpu_check: ${budget} s left in this call, too little to train; call again (the same command)"
        call_again
    fi
    train_config
    [ -f "$RUN_DIR/last.npz" ] && resume=(--resume)
    command="python examples/alexnet_fashionmnist.py ${TRAIN[*]} ${TRAIN_EXTRA[*]} --no-progress"
    echo "+ (SIGINT after ${budget}s) $command --data-dir $DATA_DIR --out $RUN_DIR ${resume[*]}"
    timeout --signal=INT --kill-after="$KILL_AFTER_S" "$budget" \
        "$PYTHON" examples/alexnet_fashionmnist.py "${TRAIN[@]}" "${TRAIN_EXTRA[@]}" --no-progress \
        --data-dir "$DATA_DIR" --out "$RUN_DIR" "${resume[@]}" &
    local trainer=$!
    if [ "$DRY_RUN" = 1 ] && [ ${#resume[@]} = 0 ]; then
        # rehearse the deadline: SIGINT once the first epoch is saved (a 2-core CPU's timing is no deadline)
        ( while kill -0 "$trainer" 2>/dev/null && [ ! -f "$RUN_DIR/history.json" ]; do sleep 0.2; done
          kill -INT "$trainer" 2>/dev/null || true ) &
        watcher=$!
    fi
    wait "$trainer" || rc=$?
    if [ -n "$watcher" ]; then kill "$watcher" 2>/dev/null || true; wait "$watcher" 2>/dev/null || true; fi
    case "$rc" in
        0) ;;
        124|130)   # SIGINT: the trainer saved last.npz at the end of its step
            [ -f "$RUN_DIR/last.npz" ] || echo "gpu_check: WARNING: stopped before the first checkpoint; the next call starts over"
            echo "gpu_check: training stopped at this call's deadline; call again (the same command) to resume"
            call_again ;;
        137) fail d "the trainer did not stop within ${KILL_AFTER_S} s of SIGINT and was killed; last.npz is the previous save" ;;
        *) fail d "the trainer exited $rc" ;;
    esac
    CURRENT="record the recipe"
    "$PYTHON" "$BENCH/gpu_record.py" train --model alexnet --history "$RUN_DIR/history.json" "${TRAIN[@]}" \
        --command "$command" $DRY_FLAG || fail d "could not record $RUN_DIR/history.json"
}

call_again() {   # exit 75 after rebuilding the tables, so what is measured so far comes back
    if wants e; then step_e; fi
    exit 75
}

step_e() {
    CURRENT="results"
    banner "(e) results.jsonl, GPU.md, RESULTS.md"
    (cd "$BENCH" && "$PYTHON" gpu_record.py table && "$PYTHON" make_results.py) || fail e "could not rebuild the tables"
    grep -c '"kind": "gpu_' "$BENCH/results.jsonl" | sed 's/^/GPU rows in results.jsonl: /' || true
    echo "results: $BENCH/results.jsonl, $BENCH/GPU.md, $BENCH/RESULTS.md${OUT:+ (copied to \$OUT)}"
}

run_step() {   # run_step LETTER: unless already done in an earlier call
    local letter=$1
    wants "$letter" || return 0
    if [ -f "$(done_marker "$letter")" ] && [ "$letter" != e ]; then
        banner "($letter) done in an earlier call; skipped (--fresh starts over)"
        return 0
    fi
    if [ "$letter" != e ] && [ $(( $(left) - RESERVE_S )) -lt "$MIN_STEP_S" ]; then
        echo "gpu_check: $(left) s left in this call, too little to start step ($letter); call again"
        call_again
    fi
    "step_$letter"
    touch "$(done_marker "$letter")"
}

DRY_FLAG=$([ "$DRY_RUN" = 1 ] && echo --dry-run || true)
banner "start $(date -u +%FT%TZ): steps $STEPS, deadline ${DEADLINE_S} s, state $STATE_DIR$([ "$DRY_RUN" = 1 ] && echo ', DRY RUN on the CPU')"
refresh_bench_copy
wants d && [ ! -f "$(done_marker d)" ] && check_data
for letter in a b c d e; do
    run_step "$letter"
done
banner "all asked steps done ($STEPS)"
