"""The study notebooks in examples/notebooks: stored without outputs, each executed top to
bottom in a fresh kernel (nbclient) that imports minicnn from this tree; any error fails."""
import json
import os
import re
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "examples" / "notebooks").glob("*.ipynb"))
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
NEEDS_FASHION_MNIST = {"04_alexnet_fashionmnist.ipynb", "05_what_it_learned.ipynb"}
# they train networks on real images: a minute or more on 2 busy cores, so they run with the slow tests
SLOW = {"04_alexnet_fashionmnist.ipynb", "05_what_it_learned.ipynb"}


def test_the_study_path_is_complete_and_in_the_readme():
    names = [p.stem for p in NOTEBOOKS]
    assert names == ["01_autograd", "02_convolution", "03_layers", "04_alexnet_fashionmnist", "05_what_it_learned"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\(examples/notebooks/(\d\d_\w+)\.ipynb\)", readme)
    assert links == names, "the README should link the notebooks, in order"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, \
                f"{path.name}: clear the outputs before committing (cell {cell.get('id')})"


def marks(path):
    found = [pytest.mark.slow] if path.name in SLOW else []
    if path.name in NEEDS_FASHION_MNIST:
        found.append(pytest.mark.skipif(not FASHION_MNIST.exists(),
                                        reason="Fashion-MNIST files absent (apt install dataset-fashion-mnist)"))
    return found


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem, marks=marks(p)) for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # the kernel is a subprocess: it sees this tree through PYTHONPATH, and works in tmp_path
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    where = "import os, minicnn; print(os.path.dirname(os.path.abspath(minicnn.__file__)))"
    notebook.cells.append(nbformat.v4.new_code_cell(where))
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    client.execute()                       # raises CellExecutionError with the cell and its traceback
    seconds = time.perf_counter() - start
    printed = notebook.cells[-1].outputs[0]["text"].strip()
    assert printed == str(ROOT / "minicnn"), f"the notebook imported minicnn from {printed}, not this tree"
    print(f"{path.name}: {seconds:.1f} s")
