"""Model-predictive heating plan: a linear program over 24-48 h of 15-min steps (HiGHS).

Decision variables per step k: heating power ``P[k]`` [kW] in ``[0, cap[k]]``; the model state
``x[k+1]`` through the discrete dynamics ``x[k+1] = A x[k] + B u[k]`` with
``u = [power_w, temp_out_c, solar_w_m2]``; comfort slacks below and above the envelope [K]; one
peak variable [kW] at least every step's power.

Comfort comes first, money second (lexicographic): stage 1 minimises the slack below the
envelope (K·h, occupied steps weighted ``occupied_weight`` times more); stage 2 minimises energy
cost + CO2 cost + peak charge + overshoot penalty with that slack held at its stage-1 optimum.
So no price can ever buy a degree of comfort, and a too-cold start or too little power still
gives a plan: the slack *is* the relaxation, and it is reported (``violation_kh``,
``infeasible_reason_*``), never hidden.

Above the envelope the bound is hard except for free cooling: without cooling, a zone at 19 °C
at closing time needs hours to fall to 16 °C, and no plan can change that. The upper bound is
therefore raised to a *ceiling*: the unheated trajectory from the previous bound, as long as it
stays above the band. Heating can never push the zone above it; a slack above the ceiling exists
only as a safety net (weighted 1000 times a K·h of discomfort) for multi-state models whose
hidden states hold more heat than ``initial_state`` assumes. ``overshoot_kh`` reports the time
spent above the band (mostly that free cooling).

The temperature of step k is the one at its start instant ``t[k]``: ``temp_c[0]`` is the
measured start, constrained only from step 1 on; the end of the horizon is held to the last
row's band.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy import sparse

from sobriete.control.comfort import runs
from sobriete.control.interface import STEP_S, LinearThermalModel
from sobriete.domain.numbers import fmt_fr

_TOL_K = 1e-4  # slack below this is solver noise, not a comfort violation
_TOL_KW = 1e-4


class PlanSettings(BaseModel):
    """Planning parameters; every price is in euros, every power in watts."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    max_power_w: float = Field(gt=0, description="installed heating power [W]")
    step_s: int = Field(STEP_S, gt=0, description="planning step [s]")
    co2_price_eur_per_kg: float = Field(
        0.0, ge=0, description="shadow price of CO2 [EUR/kgCO2e] (e.g. 0.1 = 100 EUR/t)")
    peak_price_eur_per_kw: float = Field(
        0.0, ge=0, description="charge on the horizon's peak power [EUR/kW]")
    occupied_weight: float = Field(
        10.0, ge=1, description="how much more a K·h of discomfort weighs when occupied")
    timezone: str = Field("Europe/Paris", description="for the times in the messages")
    explain_gain: bool = Field(
        True, description="also solve a flat-price plan to state the gain of price steering")
    time_limit_s: float = Field(30.0, gt=0, description="solver time limit per stage [s]")


@dataclass(frozen=True)
class Plan:
    """A heating plan and what it costs, emits and keeps.

    ``steps`` is indexed by the UTC step starts with ``power_w``, ``temp_c`` (predicted, at the
    step start), ``t_min_c``, ``t_max_c``, ``occupied``, ``price_eur_per_kwh``,
    ``co2_kg_per_kwh``, ``cap_w``, ``slack_low_k``, ``slack_high_k`` (and ``tariff_label``
    when the prices had one).
    """

    steps: pd.DataFrame
    temp_end_c: float  # predicted at the end of the horizon [°C]
    energy_kwh: float
    cost_eur: float  # energy only, at the given prices
    co2_kg: float
    peak_kw: float
    objective_eur: float  # energy + CO2 at its shadow price + peak charge
    violation_kh: float  # comfort violation (below the band) in occupation [K·h]
    violation_total_kh: float  # below the band, all steps [K·h]
    overshoot_kh: float  # above the band, all steps [K·h] (mostly free cooling after closing)
    occupied_mean_c: float | None  # planned occupied average (R.241-26 caps it at 19 °C)
    gain_eur: float | None  # energy cost of a flat-price plan minus this plan's
    status: str  # HiGHS model status of the last stage
    solve_time_s: float  # wall time of all solves
    infeasible_reason_fr: str
    infeasible_reason_en: str
    explanation_fr: str
    explanation_en: str

    @property
    def comfort_kept(self) -> bool:
        return self.violation_total_kh <= _TOL_K


def _column(frames: list[pd.DataFrame], name: str, n: int, default: float) -> np.ndarray:
    for f in frames:
        if name in f.columns:
            v = f[name].to_numpy(float)
            return np.where(np.isnan(v), default, v)
    return np.full(n, default)


def _check_inputs(forecast, envelope, prices) -> pd.DatetimeIndex:
    index = envelope.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ValueError("envelope must be indexed by timezone-aware UTC step starts")
    for name, frame, cols in (("forecast", forecast, ("temp_out_c", "solar_w_m2")),
                              ("envelope", envelope, ("t_min_c", "t_max_c", "occupied")),
                              ("prices", prices, ("price_eur_per_kwh", "co2_kg_per_kwh"))):
        if not frame.index.equals(index):
            raise ValueError(f"{name} must have the envelope's index (same steps)")
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks columns {missing}")
        if frame[list(cols)].isna().to_numpy().any():
            raise ValueError(f"{name} has missing values in {list(cols)}")
    if len(index) < 2:
        raise ValueError("a plan needs at least two steps")
    return index


class _Lp:
    """Column layout and the HiGHS instance of one planning problem."""

    def __init__(self, a, b, c, x0, power_gain, disturbance, cap_kw, t_min, ceiling):
        n_steps, n_x = len(cap_kw), a.shape[0]
        self.n_steps, self.n_x = n_steps, n_x
        self.p0 = 0
        self.x0 = n_steps  # x[1..N]
        self.slo0 = self.x0 + n_steps * n_x
        self.shi0 = self.slo0 + n_steps
        self.peak = self.shi0 + n_steps
        n_col = self.peak + 1
        rows, cols, vals = [], [], []
        lo, hi = [], []
        r = 0
        # Dynamics: x[k+1] - A x[k] - B_p P[k] = B_d d[k] (+ A x0 at k = 0).
        for k in range(n_steps):
            rhs = disturbance[k].copy()
            if k == 0:
                rhs += a @ x0
            for i in range(n_x):
                rows.append(r + i)
                cols.append(self.x0 + k * n_x + i)
                vals.append(1.0)
                if k > 0:
                    for j in range(n_x):
                        if a[i, j] != 0:
                            rows.append(r + i)
                            cols.append(self.x0 + (k - 1) * n_x + j)
                            vals.append(-a[i, j])
                if power_gain[i] != 0:
                    rows.append(r + i)
                    cols.append(self.p0 + k)
                    vals.append(-power_gain[i])
            lo.extend(rhs)
            hi.extend(rhs)
            r += n_x
        # Comfort of y[k+1] = C x[k+1]: band of step k+1 (the last row at the end), ceiling k.
        for k in range(n_steps):
            band = min(k + 1, n_steps - 1)
            for j in range(n_x):
                if c[j] != 0:
                    rows += [r, r + 1]
                    cols += [self.x0 + k * n_x + j] * 2
                    vals += [c[j], c[j]]
            rows += [r, r + 1]
            cols += [self.slo0 + k, self.shi0 + k]
            vals += [1.0, -1.0]
            lo += [t_min[band], -highspy.kHighsInf]
            hi += [highspy.kHighsInf, ceiling[k]]
            r += 2
        # Peak: P[k] - peak <= 0.
        for k in range(n_steps):
            rows += [r, r]
            cols += [self.p0 + k, self.peak]
            vals += [1.0, -1.0]
            lo.append(-highspy.kHighsInf)
            hi.append(0.0)
            r += 1
        mat = sparse.csc_matrix((vals, (rows, cols)), shape=(r, n_col))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_col, r
        lp.col_cost_ = np.zeros(n_col)
        col_lo = np.full(n_col, -highspy.kHighsInf)
        col_hi = np.full(n_col, highspy.kHighsInf)
        col_lo[:n_steps], col_hi[:n_steps] = 0.0, cap_kw
        col_lo[self.slo0:] = 0.0
        lp.col_lower_, lp.col_upper_ = col_lo, col_hi
        lp.row_lower_, lp.row_upper_ = np.asarray(lo, float), np.asarray(hi, float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = mat.indptr
        lp.a_matrix_.index_ = mat.indices
        lp.a_matrix_.value_ = mat.data
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.passModel(lp)
        self.n_col = n_col

    def solve(self, cost: np.ndarray) -> tuple[np.ndarray, str]:
        self.h.changeColsCost(self.n_col, np.arange(self.n_col, dtype=np.int32), cost)
        self.h.run()
        status = self.h.getModelStatus()
        text = self.h.modelStatusToString(status)
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(
                f"le solveur n'a pas trouvé de plan ({text}) / the solver found no plan ({text})")
        return np.asarray(self.h.getSolution().col_value), text

    def cap_slack(self, weights: np.ndarray, bound: float) -> None:
        """Hold the weighted comfort slack at most ``bound``."""
        idx = np.arange(self.slo0, self.peak, dtype=np.int32)
        self.h.addRow(-highspy.kHighsInf, bound, len(idx), idx, weights)


def _ceiling(model, a, c, x0, disturbance, t_max) -> np.ndarray:
    """Upper bound per step [°C]: the band, or the unheated trajectory while it is above it.

    Entry j bounds the temperature at step j+1's start (the last entry the horizon's end).
    """
    n = len(t_max)
    x = x0 if c @ x0 > t_max[0] else np.asarray(model.initial_state(t_max[0]), float)
    out = np.empty(n)
    for k in range(n):
        band = t_max[min(k + 1, n - 1)]
        x = a @ x + disturbance[k]
        if c @ x <= band:
            # The bound binds again: heating may hold the zone there from now on.
            x = np.asarray(model.initial_state(band), float)
        out[k] = max(band, float(c @ x))
    return out


def _fmt(t: pd.Timestamp, with_day: bool) -> str:
    return t.strftime("%d/%m %H:%M" if with_day else "%H:%M")


def plan(
    model: LinearThermalModel,
    x0: np.ndarray,
    forecast: pd.DataFrame,
    envelope: pd.DataFrame,
    prices: pd.DataFrame,
    settings: PlanSettings,
) -> Plan:
    """Plan the heating power of each step of the horizon, comfort first, then money.

    ``forecast``: ``temp_out_c`` [°C], ``solar_w_m2`` [W/m²], optionally ``internal_gain_w``
    [W] (unmetered gains, NaN or absent = 0); ``envelope``: ``t_min_c``,
    ``t_max_c`` [°C], ``occupied`` (from ``comfort.comfort_envelope``); ``prices``:
    ``price_eur_per_kwh`` [EUR/kWh], ``co2_kg_per_kwh`` [kgCO2e/kWh], optionally ``max_power_w``
    [W] per step (a demand-response cap; NaN = none) and ``tariff_label`` (e.g. "jour rouge
    Tempo", used in the explanation). All three share one index of UTC step starts.
    ``x0`` is the model state at the first step start (``model.initial_state(measured)``).
    """
    index = _check_inputs(forecast, envelope, prices)
    n = len(index)
    dt_h = settings.step_s / 3600
    a, b, c = (np.atleast_2d(np.asarray(m, float)) for m in model.state_space(settings.step_s))
    c = c.reshape(-1)
    x0 = np.asarray(x0, float).reshape(-1)
    if a.shape != (len(x0), len(x0)) or b.shape != (len(x0), 3) or c.shape != (len(x0),):
        raise ValueError(f"state-space shapes A{a.shape} B{b.shape} C{c.shape} for x0 {x0.shape}")
    t_min = envelope["t_min_c"].to_numpy(float)
    t_max = envelope["t_max_c"].to_numpy(float)
    occupied = envelope["occupied"].to_numpy(bool)
    price = prices["price_eur_per_kwh"].to_numpy(float)
    co2 = prices["co2_kg_per_kwh"].to_numpy(float)
    cap_w = np.minimum(_column([prices, forecast], "max_power_w", n, settings.max_power_w),
                       settings.max_power_w).clip(min=0.0)
    disturbance = (b[:, 1:] @ np.vstack([forecast["temp_out_c"].to_numpy(float),
                                         forecast["solar_w_m2"].to_numpy(float)])).T
    # Unmetered internal gains (optional forecast column, e.g. model.internal_gains_w(occupied))
    # heat the air node like the heater.
    disturbance += np.outer(_column([forecast], "internal_gain_w", n, 0.0), b[:, 0])
    ceiling = _ceiling(model, a, c, x0, disturbance, t_max)
    # Power in kW keeps the LP well scaled (W would put 1e-5 coefficients next to 1).
    lp = _Lp(a, b, c, x0, b[:, 0] * 1000.0, disturbance, cap_w / 1000.0, t_min, ceiling)

    started = time.perf_counter()
    # Stage 1: least discomfort. Slack j is the temperature at step j+1's start.
    band_occ = occupied[np.minimum(np.arange(n) + 1, n - 1)]
    w = np.where(band_occ, settings.occupied_weight, 1.0) * dt_h
    weights = np.concatenate([w, 1000.0 * w])
    cost1 = np.zeros(lp.n_col)
    cost1[lp.slo0:lp.peak] = weights
    sol, _ = lp.solve(cost1)
    least = float(weights @ sol[lp.slo0:lp.peak])
    lp.cap_slack(weights, least * (1 + 1e-7) + 1e-7)

    def money(unit_price: np.ndarray, unit_co2: np.ndarray) -> np.ndarray:
        cost = np.zeros(lp.n_col)
        cost[:n] = (unit_price + unit_co2 * settings.co2_price_eur_per_kg) * dt_h
        cost[lp.peak] = settings.peak_price_eur_per_kw
        # A tiny slack cost picks the least-discomfort allocation among equal-cost plans.
        cost[lp.slo0:lp.peak] = weights * 1e-6
        return cost

    sol, status = lp.solve(money(price, co2))
    power_kw = sol[:n]
    gain = None
    varies = np.ptp(price) > 1e-9 or (settings.co2_price_eur_per_kg > 0 and np.ptp(co2) > 1e-9)
    if settings.explain_gain and varies:
        flat, _ = lp.solve(money(np.full(n, price.mean()), np.full(n, co2.mean())))
        gain = float((flat[:n] - power_kw) @ price * dt_h)
    solve_time = time.perf_counter() - started

    xs = sol[lp.x0:lp.slo0].reshape(n, lp.n_x)
    temps = np.concatenate([[c @ x0], xs @ c])
    slo = sol[lp.slo0:lp.shi0]
    slo = np.where(slo > _TOL_K, slo, 0.0)
    band_max = t_max[np.minimum(np.arange(n) + 1, n - 1)]
    shi = np.clip(temps[1:] - band_max, 0.0, None)
    shi = np.where(shi > _TOL_K, shi, 0.0)
    power_w = np.where(power_kw > _TOL_KW, power_kw * 1000.0, 0.0)
    # Slack j belongs to step j+1's start: show it on that step (the last on the last row).
    slack_low = np.zeros(n)
    slack_high = np.zeros(n)
    np.add.at(slack_low, np.minimum(np.arange(n) + 1, n - 1), slo)
    np.add.at(slack_high, np.minimum(np.arange(n) + 1, n - 1), shi)
    steps = pd.DataFrame({
        "power_w": power_w, "temp_c": temps[:n], "t_min_c": t_min, "t_max_c": t_max,
        "occupied": occupied, "price_eur_per_kwh": price, "co2_kg_per_kwh": co2,
        "cap_w": cap_w, "slack_low_k": slack_low, "slack_high_k": slack_high}, index=index)
    if "tariff_label" in prices.columns:
        steps["tariff_label"] = prices["tariff_label"].to_numpy()
    kwh = power_w / 1000.0 * dt_h
    viol = slo * dt_h
    occ_temps = temps[1:][band_occ]
    peak_kw = float(power_w.max() / 1000.0)
    cost = float(kwh @ price)
    co2_kg = float(kwh @ co2)
    text = _Texts(steps, settings, temps, gain, float(viol[band_occ].sum()))
    reason_fr, reason_en = text.infeasible()
    expl_fr, expl_en = text.explanation()
    return Plan(
        steps=steps, temp_end_c=float(temps[-1]), energy_kwh=float(kwh.sum()), cost_eur=cost,
        co2_kg=co2_kg, peak_kw=peak_kw,
        objective_eur=cost + co2_kg * settings.co2_price_eur_per_kg
        + peak_kw * settings.peak_price_eur_per_kw,
        violation_kh=float(viol[band_occ].sum()), violation_total_kh=float(viol.sum()),
        overshoot_kh=float(shi.sum() * dt_h),
        occupied_mean_c=float(occ_temps.mean()) if len(occ_temps) else None,
        gain_eur=gain, status=status, solve_time_s=solve_time,
        infeasible_reason_fr=reason_fr, infeasible_reason_en=reason_en,
        explanation_fr=expl_fr, explanation_en=expl_en)


class _Texts:
    """The FR/EN sentences of a plan, from its steps only."""

    def __init__(self, steps, settings, temps, gain, violation_kh):
        self.s, self.settings, self.temps = steps, settings, temps
        self.gain, self.violation_kh = gain, violation_kh
        self.local = steps.index.tz_convert(settings.timezone)
        self.step = pd.Timedelta(seconds=settings.step_s)
        self.with_day = (self.local[-1] - self.local[0]) >= pd.Timedelta(hours=24)

    def _span(self, a: int, b: int) -> tuple[str, str]:
        """Local start of step a and end of step b-1."""
        return (_fmt(self.local[a], self.with_day), _fmt(self.local[b - 1] + self.step,
                                                         self.with_day))

    def infeasible(self) -> tuple[str, str]:
        s, fr, en = self.s, [], []
        power = s["power_w"].to_numpy()
        cap = s["cap_w"].to_numpy()
        for a, b in runs(s["slack_low_k"].to_numpy() > 0):
            short = s["slack_low_k"].iloc[a:b].max()
            t0 = self.temps[0]
            if a <= 1 and t0 < s["t_min_c"].iloc[1]:
                why_fr = f"départ trop froid ({fmt_fr(t0, 1)} °C)"
                why_en = f"start too cold ({t0:.1f} °C)"
            elif (cap[:b] < self.settings.max_power_w - 1e-6).any() and (
                    power[:b][cap[:b] < self.settings.max_power_w] >= cap[:b][
                        cap[:b] < self.settings.max_power_w] - 1.0).any():
                low = cap[:b].min() / 1000
                why_fr = f"puissance plafonnée par l'effacement ({fmt_fr(low, 1)} kW)"
                why_en = f"power capped by demand response ({low:.1f} kW)"
            else:
                kw = self.settings.max_power_w / 1000
                why_fr = f"puissance maximale insuffisante ({fmt_fr(kw, 1)} kW)"
                why_en = f"maximum power too low ({kw:.1f} kW)"
            f, t = self._span(a, b)
            fr.append(f"Confort non tenable de {f} à {t} : {why_fr} ; "
                      f"jusqu'à {fmt_fr(short, 1)} K sous la borne basse")
            en.append(f"Comfort cannot be kept from {f} to {t}: {why_en}; "
                      f"up to {short:.1f} K below the lower bound")
        return ". ".join(fr), ". ".join(en)

    def explanation(self) -> tuple[str, str]:
        s, fr, en = self.s, [], []
        price = s["price_eur_per_kwh"].to_numpy()
        power = s["power_w"].to_numpy()
        if np.ptp(price) > 1e-9:
            dear = price > price.min() + 0.5 * np.ptp(price)
            a, b = runs(dear)[0]
            label_fr = "période chère"
            if "tariff_label" in s.columns:
                label_fr = str(s["tariff_label"].iloc[a])
            k = a
            while k > 0 and power[k - 1] > 0:
                k -= 1
            stored = (self.temps[k + 1:a + 1] > s["t_min_c"].to_numpy()[
                np.minimum(np.arange(k + 1, a + 1), len(s) - 1)] + 0.05).any()
            wf, wt = self._span(a, b)
            if k < a and stored:
                pf, pt = self._span(k, a)
                fr.append(f"Préchauffage de {pf} à {pt} : {label_fr} de {wf} à {wt} "
                          f"({fmt_fr(price[a], 2)} €/kWh)")
                en.append(f"Pre-heating from {pf} to {pt}: {label_fr} from {wf} to {wt} "
                          f"({price[a]:.2f} EUR/kWh)")
            else:
                fr.append(f"{label_fr} de {wf} à {wt} ({fmt_fr(price[a], 2)} €/kWh)")
                en.append(f"{label_fr} from {wf} to {wt} ({price[a]:.2f} EUR/kWh)")
        capped = s["cap_w"].to_numpy() < self.settings.max_power_w - 1e-6
        for a, b in runs(capped):
            f, t = self._span(a, b)
            kw = s["cap_w"].iloc[a:b].min() / 1000
            fr.append(f"Effacement de {f} à {t} : puissance plafonnée à {fmt_fr(kw, 1)} kW")
            en.append(f"Demand response from {f} to {t}: power capped at {kw:.1f} kW")
        if self.gain is not None:
            fr.append(f"gain prévu {self.gain:.0f} € par rapport à un prix constant")
            en.append(f"expected gain {self.gain:.0f} EUR against a flat price")
        occ = s["occupied"].to_numpy(bool)
        if occ.any():
            target = float(np.median(s["t_min_c"].to_numpy()[occ]))
            if self.violation_kh <= _TOL_K:
                fr.append(f"{target:.0f} °C tenus en occupation")
                en.append(f"{target:.0f} °C kept while occupied")
            else:
                fr.append(f"confort non tenu en occupation : {fmt_fr(self.violation_kh, 1)} K·h")
                en.append(f"comfort not kept while occupied: {self.violation_kh:.1f} K·h")
        if not fr:
            fr.append("Aucune occupation ni signal de prix sur l'horizon : bornes tenues")
            en.append("No occupation nor price signal over the horizon: bounds kept")
        return " ; ".join(fr), "; ".join(en)
