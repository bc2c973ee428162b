"""Diagnostics benchmark (issue 4): fault injection into real meters, generic detectors, scoring.

Entry point: ``python -m benchmarks.diagnose``. Modules:

- ``data``: the Cambridge meter-years with their assumed calendar and declared closures;
- ``faults``: the six injected faults (size, timing, ground truth);
- ``generic``: the generic detectors of the comparison (rolling z-score, IsolationForest);
- ``scoring``: matching detections with injected faults, precision/recall/F1, waste errors;
- ``standin``: a trivial stand-in detector to exercise the harness before the product's land.

Nothing here imports scikit-learn at module level (the tests run without the bench extra).
"""
