"""The benchmarks package lives at the repository root, outside ``src``: make it importable
whatever way pytest was started (``python -m pytest`` adds the root, ``pytest`` does not)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
