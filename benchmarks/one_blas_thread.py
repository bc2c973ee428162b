"""Imported first by the benchmark modules: one BLAS thread (OpenBLAS, OpenMP, MKL) unless the
caller set otherwise. It must run before numpy is loaded; spawned children inherit it."""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
