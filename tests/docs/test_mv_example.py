"""The Python example of docs/mv.md runs as written (on the Cambridge b4 electricity)."""

import re
from pathlib import Path

import pandas as pd

DOC = Path(__file__).resolve().parents[2] / "docs" / "mv.md"


def test_the_documented_example_runs(shared_data, capsys):
    code = re.search(r"## Python API example\n\n```python\n(.*?)```", DOC.read_text(),
                     re.S).group(1)
    cam = shared_data / "cambridge"
    elec = pd.read_csv(cam / "electricity_kwh_hourly.csv.gz", parse_dates=["timestamp_utc"])
    readings = pd.DataFrame({
        "series_key": "b4", "quantity": "energy_kwh",
        "start_utc": elec.timestamp_utc.dt.tz_localize("UTC"), "duration_s": 3600,
        "value": elec.b4})
    w = pd.read_csv(cam / "weather_bedford_hourly.csv.gz", parse_dates=["timestamp_utc"])
    weather = w.set_index(w.timestamp_utc.dt.tz_localize("UTC"))[["air_temperature_c"]]
    weather = weather.rename(columns={"air_temperature_c": "temp_air_c"})
    scope = {"readings": readings, "weather": weather}
    exec(compile(code, str(DOC), "exec"), scope)  # noqa: S102 — our own documentation
    result = scope["result"]
    assert result.uncertainty_kwh > 0 and result.events  # the 2020 closure
    assert "±" in capsys.readouterr().out
