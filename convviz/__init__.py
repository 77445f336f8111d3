"""convviz: a NumPy reference for 2-D convolution (grouped and transposed too) and pooling, forward and backward, with
step traces.

The engine needs NumPy only; the figures (plotly) and the app (streamlit) live in sub-packages that
`import convviz` does not load.
"""
from .conv import (
    BACKWARD_METHODS,
    FORWARD_METHODS,
    conv2d,
    conv2d_backward,
    conv_transpose2d,
    dilate,
    flip_kernel,
)
from .geometry import ConvSpec, spec_for
from .gradcheck import GradCheck, check_conv2d, check_max_pool2d, numerical_gradient
from .im2col import col2im, im2col, im2col_indices, window_view
from .pool import avg_pool2d, avg_pool2d_backward, global_avg_pool2d, global_avg_pool2d_backward, max_pool2d, max_pool2d_backward

__all__ = [
    "avg_pool2d",
    "avg_pool2d_backward",
    "global_avg_pool2d",
    "global_avg_pool2d_backward",
    "BACKWARD_METHODS",
    "FORWARD_METHODS",
    "ConvSpec",
    "GradCheck",
    "check_conv2d",
    "check_max_pool2d",
    "col2im",
    "conv2d",
    "conv2d_backward",
    "conv_transpose2d",
    "dilate",
    "flip_kernel",
    "im2col",
    "im2col_indices",
    "max_pool2d",
    "max_pool2d_backward",
    "numerical_gradient",
    "spec_for",
    "window_view",
]
__version__ = "0.1.0"


def __getattr__(name: str):
    """`convviz.show` (convviz/notebook.py: a stage's Plotly figure for your own arrays) is imported on first use
    (PEP 562), so `import convviz` stays NumPy-only; it is left out of __all__ for the same reason."""
    if name == "show":
        from .notebook import show

        return show
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"show"})
