"""Reading what the book's cells print (``layer_summary``) back into (layer, shape) pairs."""
import ast


def printed_shapes(out):
    """'Conv2d output shape:\\t (1, 6, 28, 28)' lines -> [("Conv2d", (1, 6, 28, 28)), ...]."""
    rows = []
    for line in out.splitlines():
        name, _, shape = line.partition(" output shape:\t ")
        rows.append((name, tuple(ast.literal_eval(shape))))
    return rows
