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

Taking turns has a catch: a pool's threads spin for a while after their work, waiting for
more, and while they spin they hold the cores the other pool needs next. OpenMP (Numba's
default layer) spins until told otherwise, so at import minicnn sets ``OMP_WAIT_POLICY=PASSIVE``
(its threads sleep at once when a loop ends) unless ``OMP_WAIT_POLICY``, ``GOMP_SPINCOUNT`` or
``KMP_BLOCKTIME`` is already set. Measured on 2 cores: the AlexNet 72-pixel batch-64 step fell
from 0.47 to 0.34 s. It is read when an OpenMP runtime starts, so it applies to Numba's (started
at the first parallel loop) and to any runtime loaded after minicnn; set the variable yourself
to choose otherwise. (OpenBLAS spins too, ``OPENBLAS_THREAD_TIMEOUT``, but it reads that when
NumPy is imported, before minicnn can set anything.)
"""
import os

ENV = "MINICNN_NUM_THREADS"
OPENMP_WAIT = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")   # any of them set: left alone


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
            "openmp_wait": {k: os.environ[k] for k in OPENMP_WAIT if k in os.environ},
            "blas": None if blas is None else [{"library": p.get("internal_api"), "version": p.get("version"),
                                                "threads": p.get("num_threads")} for p in blas]}


def quiet_openmp():
    """OMP_WAIT_POLICY=PASSIVE unless a wait setting is already there (see the module docstring)."""
    if not any(k in os.environ for k in OPENMP_WAIT):
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"


def apply_default_policy():
    """At import: OpenMP threads that do not spin (``quiet_openmp``), and ``MINICNN_NUM_THREADS``
    if set, else both pools capped at the usable CPUs."""
    quiet_openmp()
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
