"""Measurement & verification: baselines, data sufficiency, savings (IPMVP option C,
ASHRAE Guideline 14). Pure computations on frames built by ``mv.data``."""
