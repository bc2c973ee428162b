"""Building registry CSV -> ``domain.portfolio.Portfolio``.

One row per meter or sensor of a building (or one row for a building with neither); the
estate hierarchy is repeated on every row. Separator ``;`` or ``,`` (sniffed), UTF-8 (cp1252
accepted with a warning, for spreadsheet exports). Column order is free; names are matched
without case or accents.

=====================  ========  ==========================================================
column                 required  meaning
=====================  ========  ==========================================================
portfolio_code         yes       one value for the whole file
portfolio_name                   defaults to the code
territory_code         yes       établissement public territorial
territory_name
commune_insee          yes       INSEE code of the commune
commune_name
site_code              yes
site_name
building_code          yes       the commune's own building reference
building_name          yes
activity                         school, gym, pool, town_hall... or French: école, gymnase,
                                 piscine, mairie, crèche, médiathèque, bureaux, collège...
floor_area_m2                    surface de plancher, > 0 (decimal comma accepted)
heating_system                   gas_boiler, district_heat, heat_pump... or French: gaz,
                                 fioul, réseau de chaleur, PAC, électrique, bois
climate_zone                     H1 (default), H2, H3
school_zone                      Zone A/B/C or Corse ("C" accepted): sets the calendar zone
meter_code                       PRM / PCE / meter number (empty: no meter on this row)
meter_kind                       electricity, gas, heat, water (électricité, gaz, chaleur, eau)
meter_step_min                   nominal step in minutes
subscribed_power_kva             electricity contract
zone_code, zone_name             functional zone a sensor belongs to (default: building)
sensor_code, sensor_kind         temperature, setpoint, occupancy (température, consigne,
                                 occupation)
weather_station                  key of the weather series for this building's models
                                 (e.g. ``07149-paris-orly``, ``bedford``); empty: none
latitude, longitude              WGS84 decimal degrees, for the portfolio map (both or
                                 neither)
=====================  ========  ==========================================================

Building attributes (weather_station included) may be given on any row of the building and
must agree on every row that gives them; a conflict, an unknown label or a value the model
refuses is an InputError naming the file, the line and the column. A meter_code or
sensor_code belongs to one building: the same code under two buildings is an InputError
naming both lines. The registry is small (hundreds of rows), so rows are walked in Python to
build the model.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from sobriete.domain import portfolio as P
from sobriete.domain.errors import FormatError, InputError
from sobriete.io import _text as T

REQUIRED = ("portfolio_code", "territory_code", "commune_insee", "site_code",
            "building_code", "building_name")
OPTIONAL = ("portfolio_name", "territory_name", "commune_name", "site_name", "activity",
            "floor_area_m2", "heating_system", "climate_zone", "school_zone", "meter_code",
            "meter_kind", "meter_step_min", "subscribed_power_kva", "zone_code", "zone_name",
            "sensor_code", "sensor_kind", "weather_station", "latitude", "longitude")

ACTIVITY_LABELS = {
    "ecole": "school", "ecole maternelle": "school", "ecole elementaire": "school",
    "ecole primaire": "school", "groupe scolaire": "school", "college": "secondary_school",
    "lycee": "secondary_school", "creche": "nursery", "halte-garderie": "nursery",
    "gymnase": "gym", "salle de sport": "gym", "piscine": "pool", "mairie": "town_hall",
    "hotel de ville": "town_hall", "bureaux": "office", "bureau": "office",
    "bibliotheque": "library", "mediatheque": "library", "salle des fetes": "culture",
    "theatre": "culture", "centre culturel": "culture", "conservatoire": "culture",
    "sante": "health", "centre de sante": "health", "universite": "university",
    "autre": "other",
}
HEATING_LABELS = {
    "gaz": "gas_boiler", "chaudiere gaz": "gas_boiler", "fioul": "oil_boiler",
    "chaudiere fioul": "oil_boiler", "reseau de chaleur": "district_heat",
    "pompe a chaleur": "heat_pump", "pac": "heat_pump", "electrique": "electric_resistance",
    "convecteurs": "electric_resistance", "bois": "wood_boiler", "chaudiere bois":
    "wood_boiler", "inconnu": "unknown",
}
METER_LABELS = {"electricite": "electricity", "elec": "electricity", "gaz": "gas",
                "chaleur": "heat", "reseau de chaleur": "heat", "eau": "water"}
SENSOR_LABELS = {"temperature": "temperature", "consigne": "setpoint",
                 "occupation": "occupancy", "presence": "occupancy"}
_BUILDING_ATTRS = ("building_name", "activity", "floor_area_m2", "heating_system",
                   "climate_zone", "school_zone", "site_code", "weather_station", "latitude",
                   "longitude")


def read_registry(path: str | Path | bytes, *, name: str | None = None) -> P.Portfolio:
    """Read a registry CSV (schema in the module docstring) into a validated Portfolio."""
    raw = T.load_text(path, name=name, fallback="cp1252")
    header = T.head_lines(raw.text, 1)[0]
    sep = T.sniff_separator(header, (";", ",", "\t"))
    names = T.split_header(header, sep)
    folded = [T.fold(n) for n in names]
    known = set(REQUIRED) | set(OPTIONAL)
    unknown = [n for n, f in zip(names, folded, strict=True) if f not in known]
    if unknown:
        raise FormatError("unknown column", file=raw.label, line=1, field=unknown[0],
                          expected="columns of the registry schema (see docs/formats.md)",
                          found=unknown[0])
    for r in REQUIRED:
        T.column_index(names, r, raw.label, 1)
    table = T.read_table(T.body_after(raw.text, 1), folded, sep=sep, first_line=2,
                         label=raw.label)
    if not len(table):
        raise FormatError("no rows", file=raw.label, line=2, expected="one row per meter")
    cols = {k: [str(x).strip() for x in v.to_pylist()] for k, v in table.columns.items()}
    rows = [{k: cols.get(k, [""] * len(table))[i] for k in (*REQUIRED, *OPTIONAL)}
            for i in range(len(table))]
    return _build(rows, table, raw.label)


def _label(value: str, mapping: dict[str, str]) -> str:
    f = T.fold(value)
    return mapping.get(f, f.replace(" ", "_"))


def _model(cls, line: int, label: str, fields: dict[str, str], **kw):
    """Build a pydantic model; a ValidationError becomes an InputError on the CSV column."""
    try:
        return cls(**kw)
    except ValidationError as exc:
        e = exc.errors()[0]
        attr = str(e["loc"][0]) if e["loc"] else ""
        col = fields.get(attr, attr)
        raise InputError(e["msg"], file=label, line=line, field=col,
                         found=str(e.get("input"))[:80]) from None


def _num(v: str, label: str, line: int, field: str) -> float | None:
    if v == "":
        return None
    try:
        return float(v.replace(",", "."))
    except ValueError:
        raise InputError("not a number", file=label, line=line, field=field,
                         expected="a decimal number", found=v) from None


def _build(rows: list[dict[str, str]], table: T.Table, label: str) -> P.Portfolio:
    codes = {r["portfolio_code"] for r in rows}
    if len(codes) != 1:
        raise InputError("several portfolios in one registry", file=label,
                         line=table.line(next(i for i, r in enumerate(rows)
                                              if r["portfolio_code"] != rows[0]["portfolio_code"])),
                         field="portfolio_code", expected=rows[0]["portfolio_code"])
    buildings: dict[str, dict] = {}
    tree: dict[str, dict[str, dict[str, list[str]]]] = {}
    names: dict[tuple[str, str], tuple[str, int]] = {}
    owners: dict[tuple[str, str], tuple[str, int]] = {}  # (field, code) -> (building, line)
    for i, r in enumerate(rows):
        line = table.line(i)
        for k in REQUIRED:
            if not r[k]:
                raise InputError("required value is empty", file=label, line=line, field=k,
                                 expected="a value", found="")
        for level in ("territory", "commune", "site"):
            code = r["commune_insee"] if level == "commune" else r[f"{level}_code"]
            nm = r[f"{level}_name"]
            prev = names.get((level, code))
            if nm and prev and prev[0] and prev[0] != nm:
                raise InputError(f"{level} {code} has two names", file=label, line=line,
                                 field=f"{level}_name", expected=f"{prev[0]!r} as on line "
                                 f"{prev[1]}", found=nm)
            if nm or not prev:
                names[(level, code)] = (nm, line)
        b = buildings.get(r["building_code"])
        if b is None:
            b = buildings[r["building_code"]] = {"row": dict(r), "line": line, "meters": {},
                                                 "zones": {}, "lines": {}}
            site = (tree.setdefault(r["territory_code"], {})
                    .setdefault(r["commune_insee"], {}).setdefault(r["site_code"], []))
            site.append(r["building_code"])
        else:
            for a in _BUILDING_ATTRS:
                if r[a] and b["row"][a] and r[a] != b["row"][a]:
                    raise InputError(f"building {r['building_code']} described twice",
                                     file=label, line=line, field=a,
                                     expected=f"{b['row'][a]!r} as on line "
                                     f"{b['lines'].get(a, b['line'])}", found=r[a])
                if r[a] and not b["row"][a]:  # an attribute may be given on any row
                    b["row"][a], b["lines"][a] = r[a], line
        for fld in ("meter_code", "sensor_code"):
            code = r[fld]
            if not code:
                continue
            owner = owners.setdefault((fld, code), (r["building_code"], line))
            if owner[0] != r["building_code"]:
                what = fld.split("_")[0]
                raise InputError(
                    f"{what} {code} is in two buildings", file=label, line=line, field=fld,
                    expected=f"only building {owner[0]!r} as on line {owner[1]}",
                    found=f"building {r['building_code']!r}")
        if r["meter_code"]:
            kind = _label(r["meter_kind"] or "electricity", METER_LABELS)
            step = _num(r["meter_step_min"], label, line, "meter_step_min")
            m = _model(P.Meter, line, label, {"kind": "meter_kind", "code": "meter_code",
                                                "step_s": "meter_step_min",
                                                "subscribed_power_kva": "subscribed_power_kva"},
                       code=r["meter_code"], kind=kind,
                       step_s=None if step is None else int(round(step * 60)),
                       subscribed_power_kva=_num(r["subscribed_power_kva"], label, line,
                                                 "subscribed_power_kva"))
            b["meters"].setdefault(m.code, (m, line))
        if r["sensor_code"] or r["zone_code"]:
            zone = b["zones"].setdefault(r["zone_code"] or r["building_code"],
                                         {"name": r["zone_name"], "sensors": {}, "line": line})
            if r["sensor_code"]:
                s = _model(P.Sensor, line, label, {"kind": "sensor_kind", "code": "sensor_code"},
                           code=r["sensor_code"],
                           kind=_label(r["sensor_kind"] or "temperature", SENSOR_LABELS))
                zone["sensors"].setdefault(s.code, s)
    built = {code: _building(b, label) for code, b in buildings.items()}
    first = rows[0]
    territories = []
    for t, communes in tree.items():
        cs = []
        for c, sites in communes.items():
            ss = [_model(P.Site, 0, label, {}, code=s, name=names[("site", s)][0] or s,
                         buildings=tuple(built[b] for b in bs)) for s, bs in sites.items()]
            cs.append(_model(P.Commune, 0, label, {}, code=c,
                             name=names[("commune", c)][0] or c, sites=tuple(ss)))
        territories.append(_model(P.Territory, 0, label, {}, code=t,
                                  name=names[("territory", t)][0] or t, communes=tuple(cs)))
    return _model(P.Portfolio, table.line(0), label, {"name": "portfolio_name"},
                  code=first["portfolio_code"], name=first["portfolio_name"] or
                  first["portfolio_code"], territories=tuple(territories))


def _building(b: dict, label: str) -> P.Building:
    try:
        return _building_model(b, label)
    except InputError as exc:
        # An attribute given on a later row than the building's first: name that row.
        at = b["lines"].get(exc.field)
        if at is None or exc.line == at:
            raise
        raise InputError(exc.reason, file=exc.file, line=at, field=exc.field,
                         expected=exc.expected, found=exc.found) from None


def _building_model(b: dict, label: str) -> P.Building:
    r, line = b["row"], b["line"]
    activity = _label(r["activity"] or "other", ACTIVITY_LABELS)
    calendar = None
    if r["school_zone"]:
        zone = r["school_zone"]
        zone = f"Zone {zone.upper()}" if len(zone) == 1 else zone
        try:
            base = P.default_calendar(P.ActivityCategory(activity))
        except ValueError:
            base = P.OccupancyCalendar()
        calendar = _model(P.OccupancyCalendar, line, label, {"school_zone": "school_zone"},
                          **{**base.model_dump(), "school_zone": zone})
    zones = tuple(
        _model(P.Zone, z["line"], label, {"code": "zone_code", "name": "zone_name"}, code=code,
               name=z["name"], sensors=tuple(z["sensors"].values()))
        for code, z in b["zones"].items())
    return _model(
        P.Building, line, label,
        {"code": "building_code", "name": "building_name", "activity": "activity",
         "floor_area_m2": "floor_area_m2", "heating_system": "heating_system",
         "climate_zone": "climate_zone", "calendar": "school_zone",
         "weather_station": "weather_station", "latitude": "latitude",
         "longitude": "longitude"},
        code=r["building_code"], name=r["building_name"], activity=activity,
        floor_area_m2=_num(r["floor_area_m2"], label, line, "floor_area_m2"),
        heating_system=_label(r["heating_system"] or "unknown", HEATING_LABELS),
        climate_zone=(r["climate_zone"] or "H1").upper(), calendar=calendar,
        meters=tuple(m for m, _ in b["meters"].values()), zones=zones,
        weather_station=r["weather_station"] or None,
        latitude=_num(r["latitude"], label, line, "latitude"),
        longitude=_num(r["longitude"], label, line, "longitude"))
