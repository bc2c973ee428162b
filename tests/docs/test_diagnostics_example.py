"""The Python example of docs/diagnostics.md runs as written and finds what it says."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "diagnostics.md"


def test_the_documented_example_runs(capsys):
    code = re.search(r"## Python example\n\n```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    exec(compile(code, str(DOC), "exec"), {})  # noqa: S102 — our own documentation
    out = capsys.readouterr().out
    assert "base_load_increase high" in out and "from 2023-11-01" in out
