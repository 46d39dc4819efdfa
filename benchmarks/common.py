"""Shared by the benchmark scripts: machine facts, timing, and the results log that
make_results.py turns into RESULTS.md."""
import datetime
import json
import os
import platform
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS_LOG = os.path.join(HERE, "results.jsonl")
sys.path.insert(0, os.path.dirname(HERE))


def machine():
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and not flags:
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    wanted = ("avx", "avx2", "avx512f", "fma", "sse4_2")
                    flags = " ".join(w for w in wanted if f" {w} " in f" {line.split(':', 1)[1]} ")
                    break
    except OSError:
        model = platform.processor()
    import numpy
    versions = {"python": platform.python_version(), "numpy": numpy.__version__}
    for name in ("numba", "torch", "cupy"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:
            pass
    return {"cpu": locals().get("model", platform.processor()), "cores": os.cpu_count(), "flags": flags,
            "versions": versions}


def peak_rss_mb():
    """Peak RSS of this process in MB: VmHWM of its own address space where /proc has it.

    ru_maxrss is not used on Linux: it survives fork+exec, so a child started by a parent that
    holds gigabytes reports the parent's peak (both frameworks then showed the same 3.2 GB)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_average():
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def summarize(times):
    return {"median_s": statistics.median(times), "min_s": min(times), "n": len(times)}


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def record(kind, name, config, result):
    """Append one measured row (with date, machine and the command) to results.jsonl."""
    row = {"kind": kind, "name": name, "config": config, "result": result,
           "date": datetime.date.today().isoformat(), "machine": machine(), "load_average": load_average(),
           "command": "python " + " ".join([os.path.relpath(sys.argv[0], os.path.dirname(HERE))] + sys.argv[1:])}
    with open(RESULTS_LOG, "a") as f:
        f.write(json.dumps(row) + "\n")
    return row


def try_torch(threads):
    try:
        import torch
    except Exception:
        return None
    torch.set_num_threads(threads)
    return torch
