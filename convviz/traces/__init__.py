"""Step traces, one builder per stage of docs/teaching.md. Figures draw only from these."""
from .backward import col2im_trace, transposed_trace, weight_grad_trace
from .base import Check, Highlight, Panel, Step, Trace, pick_steps
from .checks import gradcheck_trace, maxpool_trace
from .forward import (
    forward_trace,
    im2col_gather_trace,
    im2col_index_trace,
    im2col_product_trace,
    padding_modes_table,
    shapes_trace,
    strided_trace,
)
from .grouped import groups_trace
from .network import network_trace
from .pooling import avgpool_trace
from .transposed_conv import tconv_direct_trace, tconv_gradient_trace, tconv_scatter_trace

__all__ = [
    "Check", "Highlight", "Panel", "Step", "Trace", "pick_steps",
    "avgpool_trace", "col2im_trace", "forward_trace", "gradcheck_trace", "groups_trace", "im2col_gather_trace", "im2col_index_trace",
    "im2col_product_trace", "maxpool_trace", "network_trace", "padding_modes_table", "shapes_trace", "strided_trace",
    "tconv_direct_trace", "tconv_gradient_trace", "tconv_scatter_trace", "transposed_trace", "weight_grad_trace",
]
