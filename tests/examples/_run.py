"""Running an example script as a user does, in a subprocess that imports this checkout's minicnn."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def example_env(**extra):
    """os.environ with PYTHONPATH set to the repository root (the examples have no sys.path edits)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return dict(os.environ, PYTHONPATH=path, **{k: str(v) for k, v in extra.items()})


def run_example(script, *args, timeout=120, **env):
    """subprocess.run of ``python examples/<script> args`` from the repository root."""
    return subprocess.run([sys.executable, f"examples/{script}", *map(str, args)], cwd=ROOT, env=example_env(**env),
                          capture_output=True, text=True, timeout=timeout)
