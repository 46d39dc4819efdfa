"""Pictures for studying a network (matplotlib, Agg backend: files, no window).

- ``plot_history``: loss and accuracy curves from the trainer's history, with the smoothed loss of every step;
- ``plot_gradient_flow``: mean |gradient| per layer from ``monitor.LayerStats`` (vanishing/exploding);
- ``filter_grid`` / ``filter_mosaic``: first-layer kernels, each normalised on its own
  (the AlexNet paper's Figure 3);
- ``feature_maps`` / ``capture_activations``: each conv layer's maps for one image;
- ``penultimate_features`` + ``nearest_neighbours`` + ``retrieval_grid``: the training
  images closest to a query in the last hidden layer's feature space (the paper's Figure 4);
- ``deconv_projection``: a ZFNet-style projection of one activation back to pixel space;
- ``graph``: the autograd graph behind a tensor as Graphviz DOT (rendered when ``dot`` is installed).

Everything reads activations through ``Module.register_forward_hook``: no model needs
special-case code to be looked at.
"""
from .figures import filter_grid, filter_mosaic, retrieval_grid, save_figure
from .curves import gradient_flow, plot_gradient_flow, plot_history, smooth
from .activations import (capture_activations, feature_maps, model_from_checkpoint, nearest_neighbours,
                          penultimate_features)
from .deconv import deconv_figure, deconv_projection
from .graph import DotGraph, dot_available, graph

__all__ = ["save_figure", "plot_history", "filter_mosaic", "filter_grid", "capture_activations",
           "feature_maps", "penultimate_features", "nearest_neighbours", "retrieval_grid",
           "model_from_checkpoint", "deconv_projection", "deconv_figure", "graph", "DotGraph", "dot_available",
           "smooth", "gradient_flow", "plot_gradient_flow"]
