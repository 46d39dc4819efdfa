"""Each op module's docstring points at its note in docs/, and the note exists: a reader
can go from the code to the derivation (the notes link back to the code; test_links.py)."""
import ast
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = {
    "minicnn/functional/conv.py": "docs/convolution.md",
    "minicnn/kernels/im2col_reference.py": "docs/convolution.md",
    "minicnn/functional/pooling.py": "docs/pooling.md",
    "minicnn/kernels/pooling.py": "docs/pooling.md",
    "minicnn/functional/activation.py": "docs/relu.md",
    "minicnn/functional/normalization.py": "docs/batchnorm.md",
    "minicnn/kernels/lrn.py": "docs/lrn.md",
    "minicnn/functional/dropout.py": "docs/dropout.md",
    "minicnn/functional/linear.py": "docs/linear.md",
    "minicnn/functional/loss.py": "docs/softmax_cross_entropy.md",
    "minicnn/optim/sgd.py": "docs/sgd_momentum.md",
    "minicnn/optim/adam.py": "docs/adam.md",
    "minicnn/functional/winograd.py": "docs/winograd.md",
    "minicnn/kernels/winograd.py": "docs/winograd.md",
    "minicnn/tensor.py": "docs/autograd.md",
    "minicnn/function.py": "docs/autograd.md",
    "minicnn/viz/graph.py": "docs/autograd.md",
}


@pytest.mark.parametrize("module, note", sorted(MODULES.items()))
def test_op_module_docstring_links_to_its_existing_note(module, note):
    with open(os.path.join(ROOT, module)) as f:
        doc = ast.get_docstring(ast.parse(f.read())) or ""
    assert note in doc, f"{module}'s docstring should mention {note}"
    for link in re.findall(r"docs/[\w.]+\.md", doc):
        assert os.path.exists(os.path.join(ROOT, link)), f"{module} links to missing {link}"
