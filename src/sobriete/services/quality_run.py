"""Run the data-quality checks on every stored series and keep their findings in the store.

Re-running replaces a series' previous findings in one transaction: the table always holds
the findings of the latest check, each with the check version that produced it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from sobriete.analytics.quality import check_series
from sobriete.domain.quality import QualityIssue
from sobriete.services.footprint import measured
from sobriete.services.store import Store
from sobriete.services.store import schema as S
from sobriete.services.store.readings import read_series


@dataclass
class QualityOutcome:
    series_checked: int = 0
    issues_by_kind: Counter = field(default_factory=Counter)
    issues: dict[str, list[QualityIssue]] = field(default_factory=dict)  # by series key


def run_quality(store: Store, *, kinds: tuple[str, ...] = ("meter", "sensor")) -> QualityOutcome:
    out = QualityOutcome()
    with measured("quality", store) as fp:
        with store.read() as conn:
            rows = conn.execute(
                select(S.series).where(S.series.c.kind.in_(kinds)).order_by(S.series.c.key)
            ).mappings().all()
        for row in rows:
            with store.engine.begin() as conn:
                frame = read_series(conn, row["key"], row["quantity"])
                report = check_series(frame, expected_step_s=row["step_s"])
                conn.execute(S.quality_issue.delete().where(
                    S.quality_issue.c.series_id == row["id"]))
                now = datetime.now(UTC)
                if report.issues:
                    conn.execute(S.quality_issue.insert(), [
                        {"series_id": row["id"], "kind": i.kind.value,
                         "severity": i.severity.value, "start_utc": i.start_utc,
                         "end_utc": i.end_utc, "n_points": i.n_points,
                         "message_fr": i.message_fr, "message_en": i.message_en,
                         "evidence_json": json.dumps(i.evidence, default=str),
                         "check_version": i.check_version, "checked_at": now}
                        for i in report.issues
                    ])
            out.series_checked += 1
            out.issues[row["key"]] = list(report.issues)
            out.issues_by_kind.update(i.kind.value for i in report.issues)
        fp.details.update(series=out.series_checked, issues=sum(out.issues_by_kind.values()))
    return out
