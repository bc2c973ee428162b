"""M&V plots: every figure is a real PNG, in French by default and in English, survives empty
inputs and gaps, and draws from a real fit (Cambridge gas meter b0)."""

from __future__ import annotations

import io
import math
from datetime import time
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from sobriete.analytics.mv import data as mvdata
from sobriete.analytics.mv import uncertainty as U
from sobriete.analytics.mv.changepoint import ChangePointModel
from sobriete.analytics.mv.events import NonRoutineEvent, cusum, cusum_changes
from sobriete.analytics.mv.savings import avoided_energy
from sobriete.domain.portfolio import OccupancyCalendar, OpeningHours
from sobriete.reporting import mv_plots as P

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---- synthetic data --------------------------------------------------------------------------

def daily_frame(n: int = 730, start: str = "2022-01-01", seed: int = 0,
                cooling: bool = False) -> pd.DataFrame:
    """A daily model frame: heating below 15 °C (and cooling above 22 °C), lower weekends."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, periods=n, freq="D", name="local_date")
    doy = np.arange(n)
    t = 12 - 9 * np.cos(2 * np.pi * (doy - 20) / 365.25) + rng.normal(0, 2.5, n)
    if cooling:
        t = t + 6
    weekend = np.asarray(idx.day_of_week) >= 5
    y = 300 + 25 * np.maximum(0, 15 - t) - 120 * weekend
    if cooling:
        y = y + 30 * np.maximum(0, t - 22)
    y = y * (1 + rng.normal(0, 0.05, n))
    return pd.DataFrame({
        "energy_kwh": y, "temp_air_c": t, "temp_min_c": t - 4, "temp_max_c": t + 4,
        "energy_coverage": 1.0, "day_type": np.where(weekend, "weekend", "workday"),
        "local_dow": idx.day_of_week}, index=idx)


def fitted(frame: pd.DataFrame, days: int = 365) -> ChangePointModel:
    m = ChangePointModel()
    m.fit(frame.iloc[:days])
    return m


def hourly_series(days: int = 60, start: str = "2023-03-01") -> tuple[pd.Series, pd.Series]:
    """Hourly actual and predicted kWh on a UTC index (crossing the spring DST change)."""
    idx = pd.date_range(start, periods=24 * days, freq="h", tz="UTC")
    hour = np.asarray(idx.tz_convert("Europe/Paris").hour)
    pred = 10 + 8 * ((hour >= 8) & (hour < 18))
    rng = np.random.default_rng(3)
    actual = pred * (1 + rng.normal(0, 0.1, len(idx)))
    actual[24 * days // 2:] *= 0.85  # 15 % saved in the second half
    return pd.Series(actual, idx), pd.Series(pred.astype(float), idx)


def assert_png(png: bytes, min_w: int = 600, min_h: int = 300,
               min_ink: float = 0.02) -> np.ndarray:
    assert isinstance(png, bytes) and png.startswith(PNG_SIGNATURE)
    img = mpimg.imread(io.BytesIO(png), format="png")
    h, w = img.shape[:2]
    assert w >= min_w and h >= min_h, img.shape
    rgb = img[..., :3].reshape(-1, 3)
    non_white = (rgb < 0.95).any(axis=1).mean()
    assert non_white > min_ink, f"almost blank image ({non_white:.1%} non-white pixels)"
    assert len(np.unique((rgb * 255).astype(np.uint8), axis=0)) > 10  # more than a few colours
    return img


# ---- one builder per figure, for the parametrised tests --------------------------------------

def _bva(lang: str, **kw) -> bytes:
    d = daily_frame()
    m = fitted(d)
    res = avoided_energy(m, d.iloc[365:], events=[NonRoutineEvent(
        d.index[400], d.index[430], "declared", "Fermeture", "Closure")])
    return P.baseline_vs_actual_png(d, m.predict(d), result=res, meter="École Jaurès",
                                    lang=lang, **kw)


def _cusum(lang: str, **kw) -> bytes:
    d = daily_frame()
    m = fitted(d)
    d.loc[d.index[500]:, "energy_kwh"] *= 0.8
    cf = cusum(d["energy_kwh"], m.predict(d)["predicted_kwh"])
    return P.cusum_png(cf, reporting_start=d.index[365], meter="École Jaurès", source=m,
                       lang=lang, **kw)


def _signature(lang: str, **kw) -> bytes:
    d = daily_frame(cooling=True)
    return P.energy_signature_png(d, fitted(d), meter="Mairie", lang=lang, **kw)


def _components(lang: str, **kw) -> bytes:
    d = daily_frame()
    m = fitted(d)
    return P.components_png(m.predict(d), meter="Mairie", source=m, lang=lang, **kw)


FIGURES = {"baseline_vs_actual": _bva, "cusum": _cusum, "signature": _signature,
           "components": _components}


@pytest.mark.parametrize("name", FIGURES)
def test_figure_is_a_png_and_languages_differ(name: str) -> None:
    fr = FIGURES[name]("fr")
    en = FIGURES[name]("en")
    assert_png(fr)
    assert_png(en)
    assert fr != en


@pytest.mark.parametrize("name", FIGURES)
def test_path_writes_the_same_bytes(name: str, tmp_path: Path) -> None:
    out = tmp_path / f"{name}.png"
    png = FIGURES[name]("fr", path=out)
    assert out.read_bytes() == png


def test_empty_inputs_give_a_placeholder_png() -> None:
    empty_daily = daily_frame().iloc[:0]
    empty_s = pd.Series([], dtype=float, index=pd.DatetimeIndex([]))
    pngs = [
        P.baseline_vs_actual_png(empty_s, empty_s),
        P.baseline_vs_actual_png(empty_daily, pd.DataFrame(columns=["predicted_kwh"])),
        P.cusum_png(pd.DataFrame(columns=["cusum_kwh", "change_kwh"])),
        P.cusum_png(cusum(empty_s, empty_s)),
        P.energy_signature_png(empty_daily),
        P.energy_signature_png(empty_daily, fitted(daily_frame())),
        P.components_png(pd.DataFrame(columns=["predicted_kwh", "base_kwh", "heating_kwh",
                                               "cooling_kwh", "calendar_kwh"])),
    ]
    for png in pngs:
        assert_png(png, min_h=200, min_ink=0.005)  # title, message and footer


def test_all_nan_inputs_give_a_placeholder_png() -> None:
    d = daily_frame(60)
    d["energy_kwh"] = np.nan
    nan_pred = pd.Series(np.nan, index=d.index)
    assert_png(P.baseline_vs_actual_png(d["energy_kwh"], nan_pred), min_h=200, min_ink=0.005)
    assert_png(P.energy_signature_png(d), min_h=200, min_ink=0.005)
    comp = pd.DataFrame(np.nan, index=d.index, columns=["predicted_kwh", "base_kwh",
                                                         "heating_kwh", "cooling_kwh",
                                                         "calendar_kwh"])
    assert_png(P.components_png(comp), min_h=200, min_ink=0.005)


def test_nan_gaps_do_not_crash() -> None:
    d = daily_frame()
    m = fitted(d)
    pred = m.predict(d)
    d.loc[d.index[100]:d.index[140], "energy_kwh"] = np.nan  # a 41-day hole
    d.loc[d.index[::17], "temp_air_c"] = np.nan
    pred.loc[pred.index[600]:pred.index[610]] = np.nan
    band = pd.Series(25.0, index=d.index)
    band.iloc[::5] = np.nan
    assert_png(P.baseline_vs_actual_png(d, pred, band=band, reporting_start=d.index[365]))
    cf = cusum(d["energy_kwh"], pred["predicted_kwh"])
    cf.iloc[10:20, cf.columns.get_loc("cusum_kwh")] = np.nan
    assert_png(P.cusum_png(cf))
    assert_png(P.energy_signature_png(d, m))
    assert_png(P.components_png(pred))


def test_hourly_series_are_drawn_per_day_and_per_week() -> None:
    actual, pred = hourly_series(days=60)
    half = actual.index[len(actual) // 2]
    ev = NonRoutineEvent(pd.Timestamp("2023-03-10", tz="Europe/Paris"),
                         pd.Timestamp("2023-03-13", tz="Europe/Paris"), "declared",
                         "Fermeture", "Closure")
    assert_png(P.baseline_vs_actual_png(actual, pred, band=1.5, events=[ev],
                                        reporting_start=half, lang="en"))
    assert_png(P.baseline_vs_actual_png(actual, pred, freq="W"))
    long_a, long_p = hourly_series(days=900, start="2021-01-01")
    assert_png(P.baseline_vs_actual_png(long_a, long_p, reporting_start="2022-01-01"))
    with pytest.raises(ValueError, match="freq"):
        P.baseline_vs_actual_png(actual, pred, freq="M")


def test_hourly_bins_are_local_days_scaled_when_partly_covered() -> None:
    idx = pd.date_range("2023-03-25", "2023-03-28", freq="h", tz="UTC", inclusive="left")
    f = pd.DataFrame({"actual": 1.0, "predicted": 2.0, "band": 0.5}, index=idx)
    f.loc["2023-03-26 04:00":"2023-03-26 09:00", "actual"] = np.nan  # 6 h gap: scaled up
    f.loc["2023-03-27 00:00":"2023-03-27 17:00", "actual"] = np.nan  # 18 h gap: left blank
    local = f.set_axis(P._local(f.index, "Europe/Paris"))
    bins = P._bins(local, 1, pd.Timedelta(hours=1))
    day = bins["actual"]
    assert day[pd.Timestamp("2023-03-25")] == pytest.approx(23.0)  # starts at 01:00 Paris
    assert day[pd.Timestamp("2023-03-26")] == pytest.approx(24.0)  # 17 of 23 hours, scaled
    assert bins["predicted"][pd.Timestamp("2023-03-26")] == pytest.approx(48.0)
    assert math.isnan(day[pd.Timestamp("2023-03-27")])
    # the band of a complete day adds 24 per-hour half-widths in quadrature
    assert bins["band"][pd.Timestamp("2023-03-25")] == pytest.approx(0.5 * math.sqrt(23))


def test_weekly_bins_start_on_monday_and_scale_partial_weeks() -> None:
    d = daily_frame(30, start="2024-01-03")  # a Wednesday
    f = pd.DataFrame({"actual": 1.0, "predicted": 1.0, "band": np.nan}, index=d.index)
    bins = P._bins(f, 7, pd.Timedelta(days=1))
    assert (bins.index.day_of_week == 0).all()
    assert bins["actual"].iloc[0] == pytest.approx(7.0)  # 5 of 7 days, scaled to a week
    assert bins["actual"].iloc[1] == pytest.approx(7.0)


def test_point_band_is_the_guideline_interval_for_one_point() -> None:
    d = daily_frame()
    m = fitted(d)
    res = avoided_energy(m, d.iloc[365:])
    assert P.point_band(res) * math.sqrt(res.m) == pytest.approx(res.uncertainty_kwh)
    mt = m.fit_result.metrics
    one = U.absolute_uncertainty(U.terms(mt.n, mt.p, mt.cvrmse, mt.mean_y, mt.rho_lag1, 0.9), 1)
    assert P.point_band(m) == pytest.approx(one)
    assert P.point_band(m.fit_result, 0.95) > P.point_band(m.fit_result, 0.80)


def test_provenance_footer_names_the_model_and_confidence() -> None:
    d = daily_frame()
    m = fitted(d)
    res = avoided_energy(m, d.iloc[365:], confidence=0.95)
    fr, en = P.Provenance.of(res).text("fr"), P.Provenance.of(res).text("en")
    assert "changepoint_daily v1" in fr and "changepoint_daily v1" in en
    assert "95" in fr and "confiance" in fr and "confidence" in en
    assert "2022-01-01" in fr
    assert P.Provenance.of(None) is None
    assert "modèle non précisé" in P.Provenance().text("fr")
    with pytest.raises(TypeError):
        P.Provenance.of(42)


def test_french_dates_and_numbers() -> None:
    assert P._num(12345.6, "fr", 1) == "12\u00a0345,6"
    assert P._num(-12345.6, "en", 1) == "−12,345.6"
    assert P._energy(123_456, "fr") == "123\u00a0MWh"
    assert P._day(pd.Timestamp("2024-02-01"), "fr") == "1 févr. 2024"
    assert P._day(pd.Timestamp("2024-02-01"), "en") == "1 Feb 2024"
    import matplotlib.dates as mdates

    loc = mdates.MonthLocator()
    fmt = P._DateFormatter(loc, "fr")
    ticks = mdates.date2num(pd.date_range("2024-01-01", periods=6, freq="MS").to_pydatetime())
    labels = fmt.format_ticks(ticks)
    assert labels[1:4] == ["févr.", "mars", "avr."]


def test_cusum_changes_from_the_frame_or_given() -> None:
    d = daily_frame()
    m = fitted(d)
    d.loc[d.index[500]:, "energy_kwh"] *= 0.7
    cf = cusum(d["energy_kwh"], m.predict(d)["predicted_kwh"])
    ch = cusum_changes(cf)
    assert len(ch) >= 1
    assert_png(P.cusum_png(cf, ch, lang="en"))
    assert_png(P.cusum_png(cf, [d.index[500]]))
    assert_png(P.cusum_png(cf, []))


# ---- real data ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def b0_daily(shared_data: Path) -> pd.DataFrame:
    """Cambridge gas meter b0 as a daily model frame (Monday-Friday calendar, UK time)."""
    gas = pd.read_csv(shared_data / "cambridge/gas_kwh_hourly.csv.gz",
                      usecols=["timestamp_utc", "b0"])
    w = pd.read_csv(shared_data / "cambridge/weather_bedford_hourly.csv.gz")
    w.index = pd.to_datetime(w["timestamp_utc"], utc=True)
    w = w.rename(columns={"air_temperature_c": "temp_air_c"})
    cal = OccupancyCalendar(
        weekly={d: (OpeningHours(start=time(8), end=time(18)),) for d in range(1, 6)},
        closed_on_public_holidays=False, timezone="Europe/London")
    r = pd.DataFrame({"series_key": "b0", "quantity": "energy_kwh",
                      "start_utc": pd.to_datetime(gas["timestamp_utc"], utc=True),
                      "duration_s": 3600, "value": gas["b0"]})
    hourly, _ = mvdata.hourly_input(r, w, cal)
    return mvdata.daily_input(hourly)


def test_cambridge_b0_real_fit_figures(b0_daily: pd.DataFrame, tmp_path: Path) -> None:
    d = b0_daily.loc["2016-01-01":"2018-12-31"]
    m = ChangePointModel()
    fit = m.fit(d.loc["2016-01-01":"2016-12-31"])
    res = avoided_energy(m, d.loc["2017-01-01":], detect_events=True)
    assert res.events, "b0's 2018 drop should come back as non-routine events"
    pred = m.predict(d)
    mt = fit.metrics
    sigma = mt.cvrmse * mt.mean_y * math.sqrt((1 + mt.rho_lag1) / (1 - mt.rho_lag1))
    cf = cusum(d["energy_kwh"], pred["predicted_kwh"], sigma=sigma)
    for lang in ("fr", "en"):
        pngs = [
            P.baseline_vs_actual_png(d, pred, result=res, meter="Cambridge b0", lang=lang,
                                     path=tmp_path / f"bva_{lang}.png"),
            P.cusum_png(cf, reporting_start="2017-01-01", meter="Cambridge b0", source=m,
                        lang=lang),
            P.energy_signature_png(d.loc["2016"], m, meter="Cambridge b0", lang=lang),
            P.components_png(pred, meter="Cambridge b0", source=m, lang=lang),
        ]
        for png in pngs:
            assert_png(png)
    assert (tmp_path / "bva_fr.png").read_bytes() != (tmp_path / "bva_en.png").read_bytes()
