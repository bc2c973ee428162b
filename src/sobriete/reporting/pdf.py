"""HTML -> PDF with WeasyPrint (pure Python over Pango: no browser on the server).

The reports' HTML is self-contained (figures as data URIs), so nothing is fetched: a
``base_url`` is never needed and no network access happens while rendering.
"""

from __future__ import annotations

from pathlib import Path


def html_to_pdf(html: str, path: Path | None = None) -> bytes:
    """The PDF of ``html`` (A4 unless its ``@page`` says otherwise), also written to ``path``."""
    # Imported here: WeasyPrint loads Pango and fonts, a cost only PDF callers should pay.
    from weasyprint import HTML

    pdf = HTML(string=html).write_pdf()
    if path is not None:
        Path(path).write_bytes(pdf)
    return pdf
