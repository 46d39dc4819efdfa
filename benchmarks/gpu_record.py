"""Rows for the GPU figures that are not step times, and the GPU table in benchmarks/GPU.md.

    python benchmarks/gpu_record.py suite --name gpu-marked --junit runs/gpu_check/gpu-marked.xml --command "..."
    python benchmarks/gpu_record.py train --history runs/gpu_alexnet/history.json --command "..." \\
        --model alexnet --epochs 10 --batch-size 256 --resize 224 --lr 1e-3 --optimizer adam --backend cupy
    python benchmarks/gpu_record.py table          # rebuild GPU.md (make_results.py appends it to RESULTS.md)

benchmarks/gpu_check.sh calls these after each step. Every row is read off a file the
measured run wrote (a pytest JUnit report, the trainer's history.json), never typed in.
A row made with ``--dry-run`` (the CPU rehearsal of gpu_check.sh) says so in its config
and in the table, so it can never pass for a GPU figure.
"""
import argparse
import datetime
import json
import os
import statistics
import sys
import xml.etree.ElementTree as ET

from common import HERE, RESULTS_LOG, load_average, machine

GPU_MD = os.path.join(HERE, "GPU.md")
DRY = "DRY RUN on the CPU (not a GPU figure)"


def gpu_facts(dry_run=False):
    """The GPU and the versions that produced a row (CuPy's view of the current device)."""
    if dry_run:
        return {"gpu": DRY}
    try:
        import cupy
        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    except Exception as e:   # the row is still worth keeping; it says why the GPU is unnamed
        return {"gpu": f"unknown ({type(e).__name__}: {e})"}
    return {"gpu": props["name"].decode(), "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
            "cuda_driver": cupy.cuda.runtime.driverGetVersion(), "cupy": cupy.__version__}


def append_row(kind, name, config, result, command):
    row = {"kind": kind, "name": name, "config": config, "result": result,
           "date": datetime.date.today().isoformat(), "machine": machine(), "load_average": load_average(),
           "command": command}
    with open(RESULTS_LOG, "a") as f:
        f.write(json.dumps(row) + "\n")
    return row


def junit_counts(path):
    """{"tests", "passed", "failed", "errors", "skipped", "seconds"} of a pytest --junitxml report."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"gpu_record: no JUnit report at {path!r} (did pytest run with --junitxml?)")
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    if not suites:
        raise ValueError(f"gpu_record: {path!r} holds no <testsuite>")
    total = {key: sum(int(s.get(key, 0)) for s in suites) for key in ("tests", "failures", "errors", "skipped")}
    seconds = sum(float(s.get("time", 0.0)) for s in suites)
    return {"tests": total["tests"], "failed": total["failures"], "errors": total["errors"],
            "skipped": total["skipped"],
            "passed": total["tests"] - total["failures"] - total["errors"] - total["skipped"], "seconds": seconds}


def train_result(history_path):
    """The figures of a finished training run, from its history.json."""
    with open(history_path) as f:
        history = json.load(f)
    if not history.get("test_acc"):
        raise ValueError(f"gpu_record: {history_path!r} has no test accuracy (did the run evaluate?)")
    result = {"epochs_done": len(history["test_acc"]),
              "final_test_acc": history["test_acc"][-1], "best_test_acc": max(history["test_acc"]),
              "test_acc": history["test_acc"], "epoch_time_s": history["epoch_time"],
              "median_epoch_s": statistics.median(history["epoch_time"]),
              "median_images_per_s": statistics.median(history["images_per_s"])}
    for key in ("gpu_pool_used_bytes", "gpu_pool_held_bytes"):
        if history.get(key):
            result[f"max_{key}"] = max(history[key])
    return result


def _latest(kind):
    latest = {}
    if os.path.exists(RESULTS_LOG):
        with open(RESULTS_LOG) as f:
            for line in f:
                row = json.loads(line) if line.strip() else None
                if row and row["kind"] == kind:
                    latest[(row["name"], json.dumps(row["config"], sort_keys=True))] = row
    return list(latest.values())


def _device(row):
    return DRY if row["config"].get("dry_run") else row["result"].get("device", {}).get("gpu", "?")


def _versions(row):
    v = row["result"].get("device", {})
    return ", ".join(f"{k} {v[k]}" for k in ("cupy", "cuda_runtime", "torch", "cudnn") if v.get(k))


def suite_lines():
    lines = ["### Test suite on CuPy", "",
             "| device | run | passed | failed | errors | skipped | seconds | versions | date | command |",
             "|" + "---|" * 10]
    for r in _latest("gpu_suite"):
        c = r["result"]
        lines.append(f"| {_device(r)} | {r['name']} | {c['passed']} | {c['failed']} | {c['errors']} | {c['skipped']} | "
                     f"{c['seconds']:.0f} | {_versions(r)} | {r['date']} | `{r['command']}` |")
    return lines


def step_lines():
    lines = ["### Training step (minicnn on CuPy vs PyTorch+cuDNN, same GPU, same run)", "",
             "| device | model | batch | precision | minicnn ms | PyTorch ms | ratio | minicnn img/s | "
             "PyTorch img/s | GPU memory minicnn / PyTorch MB | versions | date | command |",
             "|" + "---|" * 13]
    for r in _latest("gpu_step"):
        m, t, c = r["result"]["minicnn"], r["result"].get("torch"), r["config"]
        ratio = f"{r['result']['ratio_median']:.2f}x" if t else "—"
        t_ms, t_img, t_mem = (f"{1e3 * t['median_s']:.1f}", f"{t['images_per_s']:.0f}", f"{t['memory_mb']:.0f}") if t \
            else ("—", "—", "—")
        lines.append(f"| {_device(r)} | {r['name']} | {c['batch_size']} | {'amp fp16' if c['amp'] else 'fp32'} | "
                     f"{1e3 * m['median_s']:.1f} | {t_ms} | {ratio} | {m['images_per_s']:.0f} | {t_img} | "
                     f"{m['memory_mb']:.0f} / {t_mem} | {_versions(r)} | {r['date']} | `{r['command']}` |")
    return lines


def train_lines():
    lines = ["### Full recipe (Fashion-MNIST, Adam, trained to the end)", "",
             "| device | model | precision | epochs | batch | resize | median s/epoch | median img/s | "
             "final test acc | best test acc | CuPy pool held MB | versions | date | command |",
             "|" + "---|" * 14]
    for r in _latest("gpu_train"):
        c, m = r["config"], r["result"]
        held = m.get("max_gpu_pool_held_bytes")
        lines.append(f"| {_device(r)} | {r['name']} | {'amp fp16' if c['amp'] else 'fp32'} | {m['epochs_done']} | "
                     f"{c['batch_size']} | {c['resize']} | {m['median_epoch_s']:.1f} | {m['median_images_per_s']:.0f} | "
                     f"{100 * m['final_test_acc']:.2f} % | {100 * m['best_test_acc']:.2f} % | "
                     f"{'—' if held is None else f'{held / 2**20:.0f}'} | {_versions(r)} | {r['date']} | `{r['command']}` |")
    return lines


def gpu_table():
    """Rebuild GPU.md from the gpu_suite, gpu_step and gpu_train rows (latest per config)."""
    lines = ["## GPU", "", "Rows written by `benchmarks/gpu_check.sh` on a GPU machine; see docs/gpu.md.", ""]
    lines += suite_lines() + [""] + step_lines() + [""] + train_lines()
    with open(GPU_MD + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(GPU_MD + ".tmp", GPU_MD)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    suite = sub.add_parser("suite", help="one pytest run, from its --junitxml report")
    suite.add_argument("--name", required=True, help="which run: gpu-marked, kernels-cuda, whole-suite-cupy")
    suite.add_argument("--junit", required=True)
    train = sub.add_parser("train", help="one finished training run, from its history.json")
    train.add_argument("--history", required=True)
    for name, kind in (("--model", str), ("--epochs", int), ("--batch-size", int), ("--resize", int),
                       ("--lr", float), ("--optimizer", str), ("--backend", str)):
        train.add_argument(name, type=kind, required=True)
    train.add_argument("--amp", action="store_true")
    for s in (suite, train):
        s.add_argument("--command", required=True, help="the measured command, as run")
        s.add_argument("--dry-run", action="store_true", help="a CPU rehearsal: the row is marked as such")
    sub.add_parser("table", help="rebuild GPU.md")
    args = p.parse_args(argv)
    if args.what == "suite":
        result = dict(junit_counts(args.junit), device=gpu_facts(args.dry_run))
        append_row("gpu_suite", args.name, {"dry_run": args.dry_run}, result, args.command)
        print(f"recorded {args.name}: {result['passed']} passed, {result['failed']} failed, "
              f"{result['errors']} errors, {result['skipped']} skipped")
    elif args.what == "train":
        result = dict(train_result(args.history), device=gpu_facts(args.dry_run))
        config = {k: getattr(args, k) for k in ("epochs", "batch_size", "resize", "lr", "optimizer", "backend", "amp",
                                                "dry_run")}
        append_row("gpu_train", args.model, config, result, args.command)
        print(f"recorded {args.model}: {result['epochs_done']} epochs, final test accuracy "
              f"{100 * result['final_test_acc']:.2f} %, median {result['median_epoch_s']:.1f} s/epoch")
    gpu_table()


if __name__ == "__main__":
    sys.exit(main())
