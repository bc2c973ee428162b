"""Grey-box RC thermal models of a zone and their identification from measured data.

Two models implement ``interface.LinearThermalModel`` (inputs u = [heating_power_w [W],
temp_out_c [°C], solar_w_m2 [W/m²]], output the zone air temperature [°C]):

- ``R1C1``: one node for air and structure, ``C dT/dt = (T_out - T)/R + φ_h + A_s·I_sol``.
- ``R2C2``: an air node (small capacity, receives the heating) coupled through ``R_ae`` to an
  envelope/mass node (large capacity) that loses heat to the outside through ``R_eo``; the
  solar gain ``A_s·I_sol`` is split between air (``solar_air_fraction``) and envelope.

Both may carry unmetered internal gains (people, lighting, computers): ``q_int_w`` [W] while
the zone is occupied and a constant ``q_base_w`` [W]. They enter the air node like heating, so
they are *not* a fourth input of ``state_space``: whoever simulates or plans adds
``model.internal_gains_w(occupied)`` to the heating-power column (the planner takes it from
the forecast's ``internal_gain_w`` column). A model without gains has both at 0.

Continuous models are discretised exactly under a zero-order hold (inputs constant over the
step) with the matrix exponential of the augmented matrix, so a 15-minute plan and a
1-minute simulation agree. ``identify`` fits the parameters on a measured frame by minimising
the multi-step simulation error, which is what the optimiser needs (a model good at
predicting one step ahead can still drift over a day).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Literal, Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from scipy.linalg import expm
from scipy.optimize import least_squares
from scipy.signal import lfilter

from sobriete.control.interface import STEP_S

COLUMNS = ("temp_zone_c", "heating_power_w", "temp_out_c")  # required; solar_w_m2 optional
OCCUPIED = "occupied"  # optional 0/1 column (from the calendar): internal gains are identified
MIN_DAYS = 2.0  # below this identification refuses: the validation tail would be too short
USABLE_DAYS = 7.0  # below this it warns: one week holds one weekday/weekend cycle
HORIZON_STEPS = 24 * 3600 // STEP_S  # 24 h ahead
_BOUNDS = {  # physical bounds of the fitted parameters, wide enough for a hut or a school
    "r": (1e-5, 1.0),  # K/W
    "c": (1e4, 1e11),  # J/K
    "a": (1e-3, 1e3),  # m²
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def discretise(ac: np.ndarray, bc: np.ndarray, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact zero-order-hold discretisation of dx/dt = Ac x + Bc u over ``dt_s`` [s]."""
    if dt_s <= 0:
        raise ValueError(f"dt_s must be positive, got {dt_s}")
    n, m = bc.shape
    aug = np.zeros((n + m, n + m))
    aug[:n, :n] = ac
    aug[:n, n:] = bc
    e = expm(aug * dt_s)
    return e[:n, :n], e[:n, n:]


@lru_cache(maxsize=64)
def _state_space(model: _RCModel, dt_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The matrix exponential dominates a plan's set-up, and a loop re-plans every step with
    the same (frozen, hashable) model: kept per model and step length, arrays read-only."""
    ac, bc, c = model.continuous()
    a, b = discretise(ac, bc, dt_s)
    for m in (a, b, c):
        m.setflags(write=False)
    return a, b, c


class _RCModel(_Frozen):
    """Shared behaviour: discrete state space, JSON, the fitted parameters."""

    def continuous(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError

    def state_space(self, dt_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Discrete (A, B, C) for a step of ``dt_s`` seconds; B columns: W, °C, W/m²."""
        return _state_space(self, float(dt_s))

    def ua_w_per_k(self) -> float:
        """Overall heat-loss coefficient [W/K] (steady state: φ = UA·(T - T_out))."""
        raise NotImplementedError

    def internal_gains_w(self, occupied: np.ndarray | pd.Series | float) -> np.ndarray:
        """Unmetered internal gain [W] per step for an occupancy flag (0/1 or a fraction):
        ``q_base_w + q_int_w · occupied``. Add it to the heating power of the step (it heats
        the air node like the heater); for the planner, the forecast's ``internal_gain_w``."""
        occ = np.asarray(occupied, dtype=float)
        return self.q_base_w + self.q_int_w * occ

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> Self:
        return cls.model_validate_json(text)


class R1C1(_RCModel):
    """One node: air and structure together. State x = [T_zone °C]."""

    kind: Literal["R1C1"] = "R1C1"
    r_k_per_w: float = Field(gt=0, description="resistance zone -> outside [K/W]")
    c_j_per_k: float = Field(gt=0, description="heat capacity of the zone [J/K]")
    a_sol_m2: float = Field(0.0, ge=0, description="effective solar aperture [m²]")
    q_int_w: float = Field(
        0.0, description="internal gain while occupied (people, lighting), unmetered [W]"
    )
    q_base_w: float = Field(0.0, description="constant internal gain, unmetered [W]")

    def continuous(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r, c = self.r_k_per_w, self.c_j_per_k
        ac = np.array([[-1.0 / (r * c)]])
        bc = np.array([[1.0 / c, 1.0 / (r * c), self.a_sol_m2 / c]])
        return ac, bc, np.array([[1.0]])

    def initial_state(self, temp_zone_c: float, temp_out_c: float | None = None) -> np.ndarray:
        return np.array([float(temp_zone_c)])

    def ua_w_per_k(self) -> float:
        return 1.0 / self.r_k_per_w


class R2C2(_RCModel):
    """Air node + envelope/mass node. State x = [T_air °C, T_envelope °C]."""

    kind: Literal["R2C2"] = "R2C2"
    r_air_env_k_per_w: float = Field(gt=0, description="resistance air -> envelope [K/W]")
    r_env_out_k_per_w: float = Field(gt=0, description="resistance envelope -> outside [K/W]")
    c_air_j_per_k: float = Field(gt=0, description="capacity of air and furniture [J/K]")
    c_env_j_per_k: float = Field(gt=0, description="capacity of envelope and mass [J/K]")
    a_sol_m2: float = Field(0.0, ge=0, description="effective solar aperture [m²]")
    solar_air_fraction: float = Field(
        0.5, ge=0, le=1, description="share of the solar gain into the air node [1]"
    )
    q_int_w: float = Field(
        0.0, description="internal gain while occupied (people, lighting), unmetered [W]"
    )
    q_base_w: float = Field(0.0, description="constant internal gain, unmetered [W]")

    def continuous(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ri, ro = self.r_air_env_k_per_w, self.r_env_out_k_per_w
        ci, ce = self.c_air_j_per_k, self.c_env_j_per_k
        f, a = self.solar_air_fraction, self.a_sol_m2
        ac = np.array(
            [[-1 / (ri * ci), 1 / (ri * ci)], [1 / (ri * ce), -1 / (ri * ce) - 1 / (ro * ce)]]
        )
        bc = np.array([[1 / ci, 0.0, f * a / ci], [0.0, 1 / (ro * ce), (1 - f) * a / ce]])
        return ac, bc, np.array([[1.0, 0.0]])

    def initial_state(self, temp_zone_c: float, temp_out_c: float | None = None) -> np.ndarray:
        """Air at ``temp_zone_c``; envelope at its equilibrium between air and outside [°C]."""
        if temp_out_c is None:
            return np.array([float(temp_zone_c)] * 2)
        gi, go = 1 / self.r_air_env_k_per_w, 1 / self.r_env_out_k_per_w
        return np.array([temp_zone_c, (gi * temp_zone_c + go * temp_out_c) / (gi + go)], float)

    def ua_w_per_k(self) -> float:
        return 1.0 / (self.r_air_env_k_per_w + self.r_env_out_k_per_w)


ThermalModel = Annotated[R1C1 | R2C2, Field(discriminator="kind")]
_MODEL_ADAPTER: TypeAdapter[R1C1 | R2C2] = TypeAdapter(ThermalModel)
_FITTED = {
    "R1C1": (("r_k_per_w", "r"), ("c_j_per_k", "c"), ("a_sol_m2", "a")),
    "R2C2": (
        ("r_air_env_k_per_w", "r"),
        ("r_env_out_k_per_w", "r"),
        ("c_air_j_per_k", "c"),
        ("c_env_j_per_k", "c"),
        ("a_sol_m2", "a"),
    ),
}


def model_from_json(text: str) -> R1C1 | R2C2:
    """Either model from its JSON (the ``kind`` field says which)."""
    return _MODEL_ADAPTER.validate_json(text)


def simulate(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, x0: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Outputs y[0..n-1] of x[k+1] = A x[k] + B u[k] from x[0] = x0; ``u`` is (n, m).

    RC networks have real, distinct eigenvalues, so the recursion splits into first-order
    modes run by ``lfilter`` (C speed: an identification evaluates it hundreds of times).
    """
    n = len(u)
    lam, v = np.linalg.eig(a)
    if np.iscomplexobj(lam) or np.linalg.cond(v) > 1e8:  # not an RC network: plain loop
        x, xs = np.asarray(x0, float), np.empty((n, len(x0)))
        for k in range(n):
            xs[k] = x
            x = a @ x + b @ u[k]
        return xs @ c.T[:, 0]
    vinv = np.linalg.inv(v)
    w = (u[:-1] @ b.T) @ vinv.T
    z0 = vinv @ x0
    z = np.empty((n, len(x0)))
    z[0] = z0
    for i, li in enumerate(lam):
        if n > 1:
            z[1:, i] = lfilter([1.0], [1.0, -li], w[:, i], zi=[li * z0[i]])[0]
    return (z @ v.T) @ c.T[:, 0]


class IdentificationWarning(_Frozen):
    code: str  # short_data, poor_excitation, parameter_at_bound, no_solar
    message: str


class Identification(_Frozen):
    """A fitted model with its evidence: data used, accuracy on held-out data, warnings."""

    model: ThermalModel
    parameters: dict[str, float]
    rmse_fit_c: float  # multi-step simulation over the training part [K]
    rmse_one_step_c: float  # one step (15 min) ahead on the validation tail [K]
    rmse_24h_c: float  # simulations up to 24 h ahead, started hourly in the validation tail [K]
    data_start_utc: datetime
    data_end_utc: datetime
    n_points: int
    n_train: int
    n_validation: int
    step_s: int = STEP_S
    warnings: tuple[IdentificationWarning, ...] = ()

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> Identification:
        return cls.model_validate_json(text)


def prepare_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Check a measured frame and bring it to the 15-min grid (timestamps mark interval starts).

    Temperatures are samples (taken at the grid instants, interpolated if coarser); powers,
    irradiance and the optional ``occupied`` flag are interval means (averaged if finer, held
    if coarser; a finer flag becomes the occupied fraction of the 15 min).
    """
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise ValueError("the frame index must be a DatetimeIndex (timezone-aware UTC)")
    if frame.index.tz is None:
        raise ValueError("the frame index has no timezone: expected timezone-aware UTC")
    for col in COLUMNS:
        if col not in frame.columns:
            raise ValueError(f"missing column {col!r} (required: {', '.join(COLUMNS)})")
    df = frame.sort_index().tz_convert("UTC")
    steps = df.index.to_series().diff().dt.total_seconds().to_numpy()[1:]
    if len(steps) == 0 or steps.min() < 300 or np.any(steps % steps.min() != 0):
        raise ValueError("the index must be regular with a step of at least 5 minutes")
    optional = [c for c in ("solar_w_m2", OCCUPIED) if c in df.columns]
    cols = list(COLUMNS) + optional
    df = df[cols].astype(float)
    step = steps.min()
    means = [c for c in cols if c != "temp_zone_c"]
    if step <= STEP_S:
        out = df[means].resample(f"{STEP_S}s").mean()
        out["temp_zone_c"] = df["temp_zone_c"].reindex(out.index)
    else:
        grid = pd.date_range(df.index[0], df.index[-1], freq=f"{STEP_S}s")
        out = df[means].reindex(grid).ffill(limit=int(step // STEP_S) - 1)
        out["temp_zone_c"] = df["temp_zone_c"].reindex(grid).interpolate(limit_area="inside")
    if "solar_w_m2" not in out.columns:
        out["solar_w_m2"] = 0.0
    out[means] = out[means].interpolate(limit=4, limit_area="inside")  # bridge ≤ 1 h gaps
    for col in means:
        if out[col].isna().any():
            raise ValueError(f"column {col!r} has gaps longer than 1 h; inputs must be complete")
    keep = ["temp_zone_c", "heating_power_w", "temp_out_c", "solar_w_m2"]
    return out[keep + ([OCCUPIED] if OCCUPIED in out.columns else [])]


def _build(
    kind: str, values: dict[str, float], solar_air_fraction: float, gains: dict[str, float]
) -> R1C1 | R2C2:
    if kind == "R1C1":
        return R1C1(**values, **gains)
    return R2C2(**values, solar_air_fraction=solar_air_fraction, **gains)


def _initial_guess(
    kind: str, df: pd.DataFrame, with_solar: bool, gain_cols: list[str] | None = None
) -> dict[str, float]:
    """UA from a daily-mean energy balance, a 30-hour time constant, a light air node."""
    daily = df.resample("1D").mean().dropna()
    dt = (daily["temp_zone_c"] - daily["temp_out_c"]).to_numpy()
    cols = [dt] + ([-daily["solar_w_m2"].to_numpy()] if with_solar else [])
    cols += [-daily[g].to_numpy() for g in gain_cols or []]  # gains heat like the heater
    x = np.column_stack(cols)
    coef = np.linalg.lstsq(x, daily["heating_power_w"].to_numpy(), rcond=None)[0]
    ua = float(coef[0]) if np.isfinite(coef[0]) and coef[0] > 0 else 100.0
    a_sol = float(np.clip(coef[1], 1.0, 100.0)) if with_solar else 0.0
    r, c = 1.0 / ua, 30 * 3600 * ua
    if kind == "R1C1":
        return {"r_k_per_w": r, "c_j_per_k": c, "a_sol_m2": a_sol}
    return {
        "r_air_env_k_per_w": 0.3 * r,
        "r_env_out_k_per_w": 0.7 * r,
        "c_air_j_per_k": 0.05 * c,
        "c_env_j_per_k": c,
        "a_sol_m2": a_sol,
    }


def _observer(model: R1C1 | R2C2, y: np.ndarray, u: np.ndarray) -> np.ndarray:
    """States x[k] with the air node at the measured temperature and the hidden nodes driven
    by it (their own dynamics, fed by measured air and inputs): a simple, noise-tolerant
    estimate for one-step and 24-h forecasts."""
    a, b, _ = model.state_space(STEP_S)
    x0 = model.initial_state(y[0], u[0, 1])
    if len(x0) == 1:
        return y[:, None]
    hidden_in = np.column_stack([y, u])
    bh = np.column_stack([a[1:, :1], b[1:]])
    hidden = np.empty((len(y), len(x0) - 1))
    for j in range(len(x0) - 1):  # simulate returns one output: one call per hidden node
        cj = np.zeros((1, len(x0) - 1))
        cj[0, j] = 1.0
        hidden[:, j] = simulate(a[1:, 1:], bh, cj, x0[1:], hidden_in)
    return np.column_stack([y, hidden])


def _rmse(e: np.ndarray) -> float:
    e = e[np.isfinite(e)]
    return float(np.sqrt(np.mean(e**2))) if len(e) else float("nan")


def identify(
    frame: pd.DataFrame,
    model: Literal["R1C1", "R2C2"] = "R2C2",
    *,
    validation_fraction: float = 0.25,
    solar_air_fraction: float = 0.5,
    internal_gains: bool | None = None,
    base_gain: bool = False,
) -> Identification:
    """Fit an RC model on ``frame`` (UTC index; temp_zone_c [°C], heating_power_w [W],
    temp_out_c [°C], optional solar_w_m2 [W/m²], optional ``occupied`` 0/1 from the calendar;
    regular step ≥ 5 min, resampled to 15 min).

    The first ``1 - validation_fraction`` of the data is fitted by least squares on the
    log-parameters (bounded) of the multi-step simulation error; the tail measures accuracy.

    ``internal_gains``: identify the unmetered gain ``q_int_w`` [W] while occupied (``None``:
    when the frame has an ``occupied`` column; ``True``: the column is required; ``False``:
    never). ``base_gain``: also identify a constant gain ``q_base_w`` [W] (it trades off
    against the resistances when the heating hardly varies: off by default). The output is
    linear in the gains, so for every trial of R and C they are solved exactly by linear
    least squares (variable projection): no bounds, no starting point, and a net negative
    value is possible (e.g. ventilation opened during occupation).
    """
    if model not in _FITTED:
        raise ValueError(f"unknown model {model!r}: expected 'R1C1' or 'R2C2'")
    if not 0.05 <= validation_fraction <= 0.5:
        raise ValueError("validation_fraction must lie in [0.05, 0.5]")
    if internal_gains and OCCUPIED not in frame.columns:
        raise ValueError(f"internal_gains=True needs an {OCCUPIED!r} column (0/1)")
    df = prepare_frame(frame)
    first = df["temp_zone_c"].first_valid_index()
    if first is None:
        raise ValueError("column 'temp_zone_c' has no value")
    df = df.loc[first:]
    days = len(df) * STEP_S / 86400
    if days < MIN_DAYS:
        raise ValueError(f"data too short: {days * 24:.1f} h, at least {MIN_DAYS * 24:.0f} h")
    warnings: list[IdentificationWarning] = []
    if days < USABLE_DAYS:
        warnings.append(
            IdentificationWarning(
                code="short_data",
                message=(
                    f"only {days:.1f} days of data: the model is indicative, usable after 7 days"
                ),
            )
        )
    with_solar = bool((df["solar_w_m2"] > 1.0).any())
    if not with_solar:
        warnings.append(
            IdentificationWarning(
                code="no_solar", message="no solar irradiance: solar gains are not modelled"
            )
        )
    power = df["heating_power_w"].to_numpy()
    if np.std(power) < 0.1 * max(np.mean(np.abs(power)), 1.0) or np.ptp(power) < 1.0:
        warnings.append(
            IdentificationWarning(
                code="poor_excitation",
                message=(
                    "heating power hardly varies: resistances and capacities are poorly separated"
                ),
            )
        )
    gain_fields: list[str] = []  # model fields of the gains, solved linearly
    gain_inputs: list[np.ndarray] = []  # their input profile (W per W of gain)
    if internal_gains is not False and OCCUPIED in df.columns:
        occ = df[OCCUPIED].to_numpy(float)
        if np.ptp(occ) < 1e-9:
            warnings.append(
                IdentificationWarning(
                    code="occupancy_constant",
                    message="the zone is never (or always) occupied in the data: "
                    "internal gains are not identified",
                )
            )
        else:
            gain_fields.append("q_int_w")
            gain_inputs.append(occ)
    if base_gain:
        gain_fields.append("q_base_w")
        gain_inputs.append(np.ones(len(df)))

    y = df["temp_zone_c"].to_numpy()
    u = df[["heating_power_w", "temp_out_c", "solar_w_m2"]].to_numpy()
    n_train = int(round(len(df) * (1 - validation_fraction)))
    names = [(f, k) for f, k in _FITTED[model] if with_solar or k != "a"]
    work = df.iloc[:n_train].assign(
        **{f"_gain{j}": g[:n_train] for j, g in enumerate(gain_inputs)}
    )
    guess = _initial_guess(
        model, work, with_solar, [f"_gain{j}" for j in range(len(gain_inputs))]
    )
    lo = np.log([_BOUNDS[k][0] for _, k in names])
    hi = np.log([_BOUNDS[k][1] for _, k in names])
    fixed = {f: 0.0 for f, k in _FITTED[model] if (f, k) not in names}
    y_tr, u_tr = y[:n_train], u[:n_train]
    mask = np.isfinite(y_tr)
    g_tr = [np.column_stack([g[:n_train], np.zeros((n_train, 2))]) for g in gain_inputs]

    def params(theta: np.ndarray) -> dict[str, float]:
        return {**fixed, **{f: float(np.exp(t)) for (f, _), t in zip(names, theta, strict=True)}}

    def fit_gains(theta: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        """Simulation residuals with the gains that minimise them for these R, C."""
        m = _build(model, params(theta), solar_air_fraction, {})
        a, b, c = m.state_space(STEP_S)
        sim = simulate(a, b, c, m.initial_state(y_tr[0], u_tr[0, 1]), u_tr)
        if not gain_fields:
            return (sim - y_tr)[mask], {}
        zero = np.zeros(a.shape[0])
        resp = np.column_stack([simulate(a, b, c, zero, g) for g in g_tr])[mask]
        q = np.linalg.lstsq(resp, (y_tr - sim)[mask], rcond=None)[0]
        gains = {f: float(v) for f, v in zip(gain_fields, q, strict=True)}
        return sim[mask] + resp @ q - y_tr[mask], gains

    def residuals(theta: np.ndarray) -> np.ndarray:
        return fit_gains(theta)[0]

    theta0 = np.clip(np.log([guess[f] for f, _ in names]), lo + 1e-6, hi - 1e-6)
    starts = [theta0]
    if model == "R2C2":  # the air/envelope split has local minima: try a heavier air node too
        alt = theta0.copy()
        alt[2] += np.log(4.0)
        starts.append(np.clip(alt, lo + 1e-6, hi - 1e-6))
    fits = [least_squares(residuals, s, bounds=(lo, hi), x_scale=1.0) for s in starts]
    best = min(fits, key=lambda r: r.cost)
    fit_residuals, gains = fit_gains(best.x)
    fitted = _build(model, params(best.x), solar_air_fraction, gains)
    at_bound = [
        f for (f, _), t, a, b in zip(names, best.x, lo, hi, strict=True) if min(t - a, b - t) < 0.01
    ]
    if at_bound:
        warnings.append(
            IdentificationWarning(
                code="parameter_at_bound",
                message=(
                    f"parameters at their bounds: {', '.join(at_bound)}; "
                    "the data do not determine them"
                ),
            )
        )

    a, b, c = fitted.state_space(STEP_S)
    u = u.copy()  # the gains heat the air node like the heater
    u[:, 0] += sum((gains[f] * g for f, g in zip(gain_fields, gain_inputs, strict=True)), 0.0)
    states = _observer(fitted, np.asarray(pd.Series(y).interpolate(limit_direction="both")), u)
    one_step = (states[:-1] @ a.T + u[:-1] @ b.T) @ c.T[:, 0]
    e1 = (one_step - y[1:])[n_train - 1 :]
    errors = []
    for k in range(n_train, len(y) - 1, 3600 // STEP_S):  # a 24-h forecast every hour
        end = min(k + HORIZON_STEPS + 1, len(y))
        errors.append(simulate(a, b, c, states[k], u[k:end])[1:] - y[k + 1 : end])
    return Identification(
        model=fitted,
        parameters={f: getattr(fitted, f) for f, _ in _FITTED[model]} | gains,
        rmse_fit_c=_rmse(fit_residuals),
        rmse_one_step_c=_rmse(e1),
        rmse_24h_c=_rmse(np.concatenate(errors)) if errors else float("nan"),
        data_start_utc=df.index[0].to_pydatetime(),
        data_end_utc=df.index[-1].to_pydatetime(),
        n_points=len(df),
        n_train=n_train,
        n_validation=len(df) - n_train,
        warnings=tuple(warnings),
    )
