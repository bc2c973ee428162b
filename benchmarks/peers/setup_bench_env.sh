#!/usr/bin/env bash
# Build the isolated benchmark venv `.venv-bench` holding the peer tool OpenDSM next to the
# product, without touching the product's own venv or dependencies (OpenDSM is never a
# product dependency). Independent of the Makefile on purpose.
#
#   bash benchmarks/peers/setup_bench_env.sh           # create / complete the venv
#   bash benchmarks/peers/setup_bench_env.sh --relock  # also rewrite the version lock
#
# Pins (see ../shared/docs/PEERS.md, "Baselines and savings: OpenDSM"):
#   opendsm==1.2.7     the version the benchmark is written against (API read from its source)
#   multimethod<2      without it `import opendsm` fails (multimethod 2 changed its API)
#   pandas<3           OpenDSM 1.2.7 / eemeter 4.1.1 are not pandas-3 ready
#   scikit-learn<1.6   required by eemeter 4.1.1 per PEERS.md; harmless for opendsm 1.2.7
# When `bench-requirements.lock.txt` exists next to this script it is used as a pip
# constraints file, so that a fresh machine gets the exact versions the results were made with.
# Plain pip from PyPI only.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${VENV_BENCH:-$ROOT/.venv-bench}"
PYTHON="${PYTHON:-python3}"
LOCK="$HERE/bench-requirements.lock.txt"

RELOCK=0
if [[ "${1:-}" == "--relock" ]]; then RELOCK=1; fi

if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip

CONSTRAINTS=()
if [[ -f "$LOCK" && $RELOCK -eq 0 ]]; then
  CONSTRAINTS=(-c "$LOCK")
fi

# Peer first, with its pins.
"$VENV/bin/python" -m pip install -q "${CONSTRAINTS[@]}" \
  "opendsm==1.2.7" "multimethod<2" "pandas<3" "scikit-learn<1.6" psutil
# Then the product itself (it supports pandas>=2.2, so pandas 2.x must satisfy it).
"$VENV/bin/python" -m pip install -q "${CONSTRAINTS[@]}" -e "$ROOT"

# Must both import in the same interpreter.
"$VENV/bin/python" - <<'EOF'
import opendsm, pandas, numpy, sobriete  # noqa: F401
from opendsm import eemeter  # noqa: F401
print("bench venv ok: opendsm", opendsm.__version__, "pandas", pandas.__version__,
      "numpy", numpy.__version__)
EOF

if [[ $RELOCK -eq 1 || ! -f "$LOCK" ]]; then
  {
    echo "# Exact versions in .venv-bench, written by setup_bench_env.sh ($(date -u +%F))."
    echo "# Python $("$VENV/bin/python" -c 'import platform; print(platform.python_version())')"
    "$VENV/bin/python" -m pip freeze --exclude-editable | grep -v '^sobriete'
  } > "$LOCK"
  echo "wrote $LOCK"
fi
