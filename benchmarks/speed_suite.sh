#!/usr/bin/env bash
# The CPU speed rows of RESULTS.md, in one go, on an idle machine (check `uptime` first: the
# rows record the load average, and a loaded machine makes every ratio meaningless).
#
#   bash benchmarks/speed_suite.sh            # ~1 h on 2 cores; appends to results.jsonl
#   SINCE=2026-12-02 bash benchmarks/speed_suite.sh   # RESULTS.md keeps only rows from that day on
#
# Each step row times minicnn and PyTorch interleaved in one process (median and min of 5
# steps after 2 warm-up steps) and measures peak RSS in fresh processes, one per framework.
# "auto" is the default conv choice; the im2col rows show what Winograd changed.
set -euo pipefail
cd "$(dirname "$0")"
uptime
for algorithm in auto im2col; do
    python step_time.py --model alexnet --batch-size 64 --algorithm "$algorithm"
    python step_time.py --model resnet18 --batch-size 32 --algorithm "$algorithm"
    python step_time.py --model vgg11 --batch-size 16 --algorithm "$algorithm"
    python step_time.py --model mnist_cnn --batch-size 100 --algorithm "$algorithm"
done
python step_time.py --model alexnet --batch-size 64 --conv-benchmark      # the autotuner's choice
python op_time.py --net alexnet --repeat 5                                 # every AlexNet conv x algorithm, other ops
python op_time.py --net vgg11 --ops convs --repeat 3                       # every VGG-11 conv x algorithm
python make_results.py ${SINCE:+--since "$SINCE"}
uptime
