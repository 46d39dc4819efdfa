"""Put this folder first on PYTHONPATH to run the suite as if torch were not installed:

    PYTHONPATH=$PWD/tests/without_torch:$PWD python -m pytest -q

Subprocesses (the CUDA simulator run, the examples) inherit PYTHONPATH, so they see no torch either.
"""
raise ImportError("torch is hidden for this run (tests/without_torch is on PYTHONPATH)")
