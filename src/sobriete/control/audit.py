"""The audit trail: what was proposed, what was applied, and why, for every step.

A commune must be able to answer "why was the school at 16 °C on Monday?" months later, so
every step leaves one ``AuditRecord``. ``AuditLog`` keeps them in memory, append-only, and
writes them as JSON Lines: a file is only ever appended to, never rewritten, so records
already written stay byte-for-byte identical. The database table comes later (issue 5).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from sobriete.control.interface import Decision, Mode, Observation
from sobriete.control.safety import Dispatch, Intervention, dispatch_status


class AuditRecord(BaseModel):
    """One control step of one building."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    time_utc: datetime  # start of the step decided
    building_code: str
    mode: Mode
    dispatch: Dispatch  # not sent (advise), pending (approve) or sent
    proposed: Decision | None = None  # None: no plan (optimiser failed or absent)
    applied: Decision
    interventions: tuple[Intervention, ...] = ()
    explanation_fr: str = ""
    explanation_en: str = ""
    inputs: dict[str, float | str | bool | None] = Field(
        default_factory=dict, description="short summary of the inputs (units in the keys)")

    @classmethod
    def from_step(
        cls,
        mode: Mode,
        proposed: Decision | None,
        applied: Decision,
        interventions: list[Intervention] | tuple[Intervention, ...],
        obs: Observation | None,
        approved: bool = False,
    ) -> AuditRecord:
        """A record built from one envelope step, explanation and inputs summary included."""
        parts_fr = [applied.reason_fr] + [i.text_fr for i in interventions]
        parts_en = [applied.reason_en] + [i.text_en for i in interventions]
        return cls(
            time_utc=applied.time_utc,
            building_code=applied.building_code,
            mode=mode,
            dispatch=dispatch_status(mode, approved),
            proposed=proposed,
            applied=applied,
            interventions=tuple(interventions),
            explanation_fr=" ".join(p for p in parts_fr if p),
            explanation_en=" ".join(p for p in parts_en if p),
            inputs=summarise(obs),
        )


def summarise(obs: Observation | None) -> dict[str, float | str | bool | None]:
    """The observation in a few flat fields: enough to explain, small enough to keep forever."""
    if obs is None:
        return {"observation": False}
    out: dict[str, float | str | bool | None] = {
        "observation": True,
        "obs_time_utc": obs.time_utc.isoformat(),
        "temp_out_c": obs.temp_out_c,
        "solar_w_m2": obs.solar_w_m2,
        "building_power_w": obs.building_power_w,
    }
    for z in obs.zones:
        out[f"{z.zone_code}.temp_zone_c"] = z.temp_zone_c
        if z.manual_override_c is not None:
            out[f"{z.zone_code}.manual_override_c"] = z.manual_override_c
    return out


class AuditLog:
    """Append-only, in memory; ``to_jsonl`` appends what the file does not have yet."""

    def __init__(self, records: list[AuditRecord] | None = None) -> None:
        self._records: list[AuditRecord] = list(records or [])
        self._written: dict[Path, int] = {}  # records already appended, per file

    def append(self, record: AuditRecord) -> None:
        self._records.append(record)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[AuditRecord]:
        return iter(self._records)

    @property
    def records(self) -> tuple[AuditRecord, ...]:
        return tuple(self._records)  # a copy: history cannot be edited through it

    def to_jsonl(self, path: str | Path) -> int:
        """Append the records not yet written to ``path`` (one JSON object per line); never
        truncate nor rewrite. Returns the number of lines appended."""
        path = Path(path)
        key = path.resolve()
        done = self._written.get(key, 0)
        new = self._records[done:]
        if new:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:  # "a": existing lines are untouchable
                for r in new:
                    f.write(json.dumps(r.model_dump(mode="json"), ensure_ascii=False) + "\n")
        self._written[key] = len(self._records)
        return len(new)

    @classmethod
    def from_jsonl(cls, path: str | Path) -> AuditLog:
        """The records of ``path``, in file order; appending then writes after them."""
        path = Path(path)
        records = []
        if path.exists():
            with path.open(encoding="utf-8") as f:
                records = [AuditRecord.model_validate_json(line) for line in f if line.strip()]
        log = cls(records)
        log._written[path.resolve()] = len(records)
        return log
