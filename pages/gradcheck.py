"""Finite-difference gradient check of every analytic gradient for the current settings."""
from convviz.stages import STAGES
from convviz.ui.page import TraceRef, gradcheck_trace_cached, page_context, pick_indices, show_trace_object

ctx = page_context(
    "Gradient check: analytic against central differences",
    "The backward formulas are checked by brute force: nudge one input entry by ±h, rerun the forward pass, "
    "and see how much the loss L = sum(y * dout) moved. If the analytic gradient agrees to a relative error "
    "below 1e-6 for every entry, it is right. Every backward method is checked against the same estimates.",
    formula=(r"\frac{\partial L}{\partial a_e} \approx \frac{L(a + h e) - L(a - h e)}{2h},\qquad "
         r"\mathrm{rel.\,error} = \frac{|g_{analytic} - g_{numeric}|}{\max(|g_{analytic}|, |g_{numeric}|, \epsilon)}"),
)
n, f = pick_indices("gc", n=("sample n (shown)", ctx.spec.n), f=("output channel f (shown)", ctx.spec.f))
show_trace_object(TraceRef(gradcheck_trace_cached, (ctx.settings, n, f), ctx.settings), STAGES["gradcheck"],
                  about=ctx.about)
