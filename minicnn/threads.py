"""One thread policy for the two pools minicnn runs on the CPU: OpenBLAS (every GEMM) and
Numba (every hot loop, its OpenMP/TBB/workqueue layer).

    import minicnn as mc
    mc.threads.set_num_threads(2)     # both pools: 2 threads
    mc.threads.get_num_threads()      # -> 2
    mc.threads.describe()             # for benchmark rows: the count per pool and library

The policy: both pools get the same count, the number of CPUs this process may run on
(``os.sched_getaffinity``, which honours taskset and cgroup cpusets, unlike ``os.cpu_count``).
minicnn never calls BLAS from inside a Numba loop or the other way round (ops run one after
the other), so the pools take turns and each may use every core; giving each all cores of
the *machine* when the process may use fewer would oversubscribe (Numba counts the machine's
CPUs; OpenBLAS counts the usable ones). At import the policy is applied only where Numba's
pool would exceed the usable CPUs, or where ``MINICNN_NUM_THREADS`` asks for a count. OpenBLAS is limited through threadpoolctl (a dependency; without it the BLAS
count is reported as unknown and left alone).
"""
import os

ENV = "MINICNN_NUM_THREADS"


def usable_cpus():
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _numba():
    try:
        import numba
        return numba
    except Exception:  # pragma: no cover - numba is a dependency
        return None


def _blas_pools():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]


def set_num_threads(n=None):
    """Give OpenBLAS and Numba ``n`` threads each (default: the usable CPUs); returns n."""
    if n is None:
        n = usable_cpus()
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    numba = _numba()
    if numba is not None:
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=n, user_api="blas")
    except ImportError:
        pass
    return n


def get_num_threads():
    """The thread count of the pools (the smaller one if they differ)."""
    counts = [pool["num_threads"] for pool in _blas_pools() or []]
    numba = _numba()
    if numba is not None:
        counts.append(numba.get_num_threads())
    return min(counts) if counts else 1


def describe():
    """{"usable_cpus", "numba", "numba_layer", "blas": [{"library", "version", "threads"}]}:
    what benchmark rows record about threads."""
    numba = _numba()
    layer = None
    if numba is not None:
        try:
            layer = numba.threading_layer()
        except ValueError:  # no parallel Numba function has run yet
            layer = numba.config.THREADING_LAYER
    blas = _blas_pools()
    return {"usable_cpus": usable_cpus(),
            "numba": numba.get_num_threads() if numba is not None else None, "numba_layer": layer,
            "blas": None if blas is None else [{"library": p.get("internal_api"), "version": p.get("version"),
                                                "threads": p.get("num_threads")} for p in blas]}


def apply_default_policy():
    """At import: ``MINICNN_NUM_THREADS`` if set, else cap both pools at the usable CPUs."""
    wanted = os.environ.get(ENV)
    if wanted:
        try:
            n = int(wanted)
        except ValueError:
            raise ValueError(f"${ENV}: expected a positive int, got {wanted!r}") from None
        return set_num_threads(n)
    numba = _numba()
    if numba is not None and numba.get_num_threads() > usable_cpus():
        return set_num_threads(usable_cpus())
    return None
