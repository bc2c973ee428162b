"""PMV/PPD (ISO 7730) through pythermalcomfort: values, categories, the category floor and its
place beside the legal floor (information only)."""

from __future__ import annotations

from datetime import time

import numpy as np
import pandas as pd
import pytest
from pythermalcomfort.environment import v_relative
from pythermalcomfort.models import pmv_ppd_iso

from sobriete.control.comfort import (
    ComfortSettings,
    PMVAssumptions,
    comfort_envelope,
    iso7730_category,
    pmv_floor,
    pmv_ppd,
)
from sobriete.domain.portfolio import Building, OccupancyCalendar, OpeningHours

OFFICE = Building(code="MAIRIE", name="Mairie", calendar=OccupancyCalendar(
    weekly={d: (OpeningHours(start=time(8), end=time(18)),) for d in range(1, 6)}))


def library_pmv(t_air: float, t_rad: float, a: PMVAssumptions) -> tuple[float, float]:
    r = pmv_ppd_iso(tdb=t_air, tr=t_rad, vr=v_relative(a.air_speed_m_s, a.met), rh=a.rh_pct,
                    met=a.met, clo=a.clo, round_output=False)
    return float(np.asarray(r.pmv)), float(np.asarray(r.ppd))


@pytest.mark.parametrize(("t_air", "t_rad", "a"), [
    (20.0, None, PMVAssumptions()),
    (22.0, 18.0, PMVAssumptions()),
    (19.0, None, PMVAssumptions(clo=1.3, met=1.4, air_speed_m_s=0.2, rh_pct=35)),
])
def test_pmv_ppd_is_the_library_value(t_air, t_rad, a):
    r = pmv_ppd(t_air, temp_radiant_c=t_rad, assumptions=a)
    pmv, ppd = library_pmv(t_air, t_air if t_rad is None else t_rad, a)
    assert r.pmv == pytest.approx(pmv, abs=1e-9) and r.ppd_pct == pytest.approx(ppd, abs=1e-9)
    assert r.category == iso7730_category(pmv)


def test_known_values_and_categories():
    # Default winter office (1.0 clo, 1.2 met, 0.1 m/s, 50 %): measured -0.47 at 20 °C (B),
    # -0.69 at 19 °C (C); ISO 7730 Table A.5 puts B at 20-24 °C and C at 19-25 °C there.
    assert pmv_ppd(20.0).pmv == pytest.approx(-0.47, abs=0.01) and pmv_ppd(20.0).category == "B"
    assert pmv_ppd(19.0).category == "C" and pmv_ppd(22.0).category == "A"
    assert pmv_ppd(19.0).ppd_pct == pytest.approx(15.1, abs=0.1)
    cold = pmv_ppd(8.0)  # outside ISO 7730's range (air < 10 °C): no value, no category
    assert cold.pmv is None and cold.ppd_pct is None and cold.category == "-"
    assert [iso7730_category(v) for v in (0.1, -0.3, 0.6, -0.9)] == ["A", "B", "C", "-"]


def test_category_floor_solves_pmv_and_is_plausible():
    floors = {c: pmv_floor(c).floor_c for c in "ABC"}
    for c, limit in (("A", 0.2), ("B", 0.5), ("C", 0.7)):
        assert library_pmv(floors[c], floors[c], PMVAssumptions())[0] == pytest.approx(
            -limit, abs=2e-3)
    # Measured 21.2 / 19.9 / 19.0 °C. ISO 7730:2005 Table A.5 (offices, winter, 1.0 clo,
    # 1.2 met) gives the lower operative temperatures 21 / 20 / 19 °C: within 0.5 K.
    assert 19.4 <= floors["B"] <= 20.4
    assert abs(floors["A"] - 21.0) < 0.5 and abs(floors["C"] - 19.0) < 0.5
    assert floors["A"] > floors["B"] > floors["C"]
    # More clothing or activity lowers the floor.
    assert pmv_floor("B", PMVAssumptions(clo=1.3)).floor_c < floors["B"] - 1
    assert pmv_floor("B", PMVAssumptions(met=1.4)).floor_c < floors["B"] - 1
    with pytest.raises(ValueError, match="category"):
        pmv_floor("D")  # type: ignore[arg-type]


def test_floor_is_reported_beside_the_legal_one_and_never_replaces_it():
    f = pmv_floor("B")
    assert f.legal_floor_c == 19.0
    assert "19,9 °C" in f.sentence_fr and "plancher retenu pour chauffer reste 19,0 °C" in (
        f.sentence_fr)
    assert "Information only" in f.sentence_en
    idx = pd.date_range(pd.Timestamp("2025-01-15 00:00", tz="Europe/Paris").tz_convert("UTC"),
                        periods=96, freq="15min")
    plain = comfort_envelope(OFFICE, idx)
    env = comfort_envelope(OFFICE, idx, settings=ComfortSettings(pmv_category="B"))
    assert "pmv_floor_c" not in plain.columns  # unchanged without the option
    pd.testing.assert_frame_equal(env.drop(columns="pmv_floor_c"), plain)  # band untouched
    occ = env["occupied"].to_numpy(bool)
    assert np.allclose(env["pmv_floor_c"][occ], f.floor_c)
    assert env["pmv_floor_c"][~occ].isna().all()
    assert (env["t_min_c"][occ] == 19.0).all()
    empty = comfort_envelope(OFFICE, idx[:0], settings=ComfortSettings(pmv_category="A"))
    assert "pmv_floor_c" in empty.columns
