"""Settling a demand-response event on a stored meter (`services.flex_run`, `sobriete flex
settle`): real Cambridge b0 electricity, a shed injected into the stored readings by a
revised import, recovered within the settlement's 90 % interval; typed errors; the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sobriete.cli import main
from sobriete.services.flex_run import (
    EventOutsideDataError,
    NaiveTimeError,
    NotElectricityMeterError,
    SettlementError,
    UnknownMeterError,
    settle_event,
)
from sobriete.services.footprint import ledger
from sobriete.services.imports import import_file
from sobriete.services.store.readings import read_series

from .conftest import WIDE

TZ = "Europe/Paris"
START = pd.Timestamp("2019-11-14 18:00", tz=TZ)  # Thursday, 17:00-19:00 UTC
END = pd.Timestamp("2019-11-14 20:00", tz=TZ)
SHED_KW = 15.0


def _inject_shed(store, folder: Path) -> None:
    """Re-import the two event hours of b0-elec with SHED_KW less (a revision, as a corrected
    meter file would arrive)."""
    with store.engine.connect() as conn:
        r = read_series(conn, "b0-elec", "energy_kwh", START.tz_convert("UTC"),
                        END.tz_convert("UTC"))
    assert len(r) == 2 and (r["value"] > SHED_KW + 5).all()
    path = folder / "shed.csv"
    pd.DataFrame({"timestamp_utc": r["start_utc"].dt.strftime("%Y-%m-%d %H:%M:%S"),
                  "b0": r["value"] - SHED_KW}).to_csv(path, index=False)
    import_file(store, path, "meter-csv", rename={"b0": "b0-elec"}, **WIDE)


def test_injected_shed_is_recovered_within_the_interval(b0_store, tmp_path):
    before = {m: settle_event(b0_store, "b0-elec", START, END, method=m) for m in ("x_of_y", "mv")}
    _inject_shed(b0_store, tmp_path)
    for method in ("x_of_y", "mv"):
        res = settle_event(b0_store, "b0-elec", START, END, method=method)
        lo, hi = res.interval_kw
        assert lo <= SHED_KW <= hi, (method, res.sentence_en)
        assert res.significant, res.sentence_en
        assert len(res.intervals) == 2
        actual = res.intervals["actual_kw"] - before[method].intervals["actual_kw"]
        assert actual.round(6).tolist() == [-SHED_KW, -SHED_KW]
        assert res.parameters["meter"] == "b0-elec" and res.parameters["building"] == "b0"
    xy = settle_event(b0_store, "b0-elec", START, END, method="x_of_y")
    # Same reference (previous days, pre-event adjustment untouched): exactly the shed more.
    assert xy.delivered_kw - before["x_of_y"].delivered_kw == pytest.approx(SHED_KW)
    assert xy.delivered_kwh == pytest.approx(before["x_of_y"].delivered_kwh + 2 * SHED_KW)
    assert len(xy.reference_days) == 4 and max(xy.reference_days) < START.date()
    assert xy.sentence_fr.startswith("Effacement du 14/11 de 18:00 à 20:00 : ")
    # Excluding the best reference day changes the days, never picks it.
    excl = settle_event(b0_store, "b0-elec", START, END, method="x_of_y",
                        exclude_days=[xy.reference_days[0]])
    assert xy.reference_days[0] not in excl.reference_days
    assert excl.parameters["exclude"] == [xy.reference_days[0].isoformat()]
    jobs = ledger(b0_store)
    assert (jobs["job"] == "flex_settlement").sum() == 6


def test_bad_events_raise_typed_errors(b0_sqlite):
    cases = [
        (UnknownMeterError, dict(meter_code="zz-elec"), "unknown meter 'zz-elec'"),
        (NotElectricityMeterError, dict(meter_code="b0-gas"), "gas meter"),
        (EventOutsideDataError, dict(start=pd.Timestamp("2021-01-05 18:00", tz=TZ),
                                     end=pd.Timestamp("2021-01-05 20:00", tz=TZ)),
         "no reading"),
        (EventOutsideDataError, dict(start=pd.Timestamp("2019-12-31 23:00", tz=TZ),
                                     end=pd.Timestamp("2020-01-01 03:00", tz=TZ)),
         "outside the data"),
        (NaiveTimeError, dict(start=pd.Timestamp("2019-11-14 18:00")), "no time zone"),
        (SettlementError, dict(end=START), "not after its start"),
        (SettlementError, dict(x=6), "need 1 <= x <= y"),
    ]
    for error, kwargs, message in cases:
        args = dict(meter_code="b0-elec", start=START, end=END) | kwargs
        with pytest.raises(error, match=message.replace("(", r"\(")):
            settle_event(b0_sqlite, args.pop("meter_code"), args.pop("start"),
                         args.pop("end"), **args)


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _fr(v: float) -> str:
    return f"{v:.1f}".replace(".", ",")


def test_cli_prints_the_settlement_in_french_english_and_json(b0_sqlite):
    db = b0_sqlite.engine.url.render_as_string()
    res = settle_event(b0_sqlite, "b0-elec", START, END, method="x_of_y")
    out = _run("flex", "settle", "b0-elec", "--start", "2019-11-14T18:00",
               "--end", "2019-11-14T20:00", "--db", db)
    assert out.exit_code == 0, out.output
    iv = res.intervals
    lo, hi = res.interval_kw
    for words in (res.sentence_fr, "Effacement par intervalle (kW)", "Mesure kW",
                  "Référence kW", "Effacé kW", "14/11/2019 18:00–19:00",
                  "14/11/2019 19:00–20:00", _fr(iv["actual_kw"].iloc[0]),
                  _fr(iv["reference_kw"].iloc[1]), f"Intervalle à 90 % : {_fr(lo)} à {_fr(hi)} kW",
                  "Jours de référence : " + ", ".join(
                      f"{d:%d/%m/%Y}" for d in sorted(res.reference_days))):
        assert words in out.output, words
    # An explicit offset is the same instant as the local clock time.
    en = _run("--lang", "en", "flex", "settle", "b0-elec", "--start", "2019-11-14T17:00+00:00",
              "--end", "2019-11-14T19:00Z", "--method", "mv", "--db", db)
    assert en.exit_code == 0, en.output
    for words in ("Shed on 14/11 from 18:00 to 20:00", "Shed per interval (kW)",
                  "Delivered kW", "90 % interval:", "Model hourly_towt", "uncertainty_dof"):
        assert words in en.output, words
    js = _run("flex", "settle", "b0-elec", "--start", "2019-11-14T18:00", "--end",
              "2019-11-14T20:00", "--x", "3", "--y", "5", "--exclude", "2019-11-13", "--json",
              "--db", db)
    doc = json.loads(js.output)
    assert doc["parameters"]["x"] == 3 and doc["parameters"]["exclude"] == ["2019-11-13"]
    assert len(doc["reference_days"]) == 3 and "2019-11-13" not in doc["reference_days"]
    assert doc["event_start_utc"] == "2019-11-14T17:00:00+00:00"


def test_cli_bad_input_exits_2_with_the_reason(b0_sqlite):
    db = b0_sqlite.engine.url.render_as_string()
    ok = ["--start", "2019-11-14T18:00", "--end", "2019-11-14T20:00"]
    cases = [
        (["zz", *ok], "unknown meter 'zz'"),
        (["b0-gas", *ok], "gas meter"),
        (["b0-elec", "--start", "2021-01-05T18:00", "--end", "2021-01-05T20:00"], "no reading"),
        (["b0-elec", "--start", "2019-11-14T20:00", "--end", "2019-11-14T18:00"],
         "not after its start"),
        (["b0-elec", "--start", "14/11 18h", "--end", "2019-11-14T20:00"], "not a date-time"),
        (["b0-elec", "--start", "2019-10-27T02:30", "--end", "2019-10-27T04:00"], "ambiguous"),
        (["b0-elec", *ok, "--x", "6"], "need 1 <= x <= y"),
        (["b0-elec", *ok, "--exclude", "13/11/2019"], "not a date YYYY-MM-DD"),
        (["b0-elec", *ok, "--method", "nebef"], "nebef"),
    ]
    for args, message in cases:
        res = CliRunner().invoke(main, ["flex", "settle", *args, "--db", db])
        assert res.exit_code == 2, (args, res.output)
        assert message in " ".join(res.output.split()), (args, res.output)
