"""Prepare a DOE/ASHRAE prototype IDF for the heating-control benchmark.

What changes (everything else, envelope, internal gains, infiltration, schedules, is the
prototype's):

- The prototype's HVAC (air loops, coils, boilers, plant loops, terminals, its EMS programs,
  service hot water) is removed. Every thermostatted zone gets a
  ``ZoneHVAC:IdealLoadsAirSystem``: an ideal electric heater, capacity limited to the
  autosized design heating capacity (the prototype's own ``Sizing:Zone``), cooling off. Heating
  electricity = delivered heat / COP with COP = 1 (electric resistance, the "convecteurs" of
  many French schools).
- The prototype's mechanical outdoor air (its ``DesignSpecification:OutdoorAir`` per zone, per
  person and per floor area) is kept as ``ZoneVentilation:DesignFlowRate`` (balanced, no fan
  energy) on the prototype's ``HVACOperationSchd``: its heating load counts, as with the
  prototype's air handlers, without heat recovery.
- The prototype's heating setpoint schedules (US values, 21.1 °C occupied, 15.6 °C set-back,
  with its optimum-start ramp) keeps its hours and ramps, its values mapped linearly onto
  19 °C / 16 °C (French rules R.241-26 and the sobriety plan): that is the rule-based control.
- Heaters sized at 1.5 times the design heating load (Denver design days, Chicago weather).
- The prototype's US holidays are replaced by the French ones of December-January (25 December,
  1 January): the rule-based schedule and the comfort calendar agree on working days.
- The prototype's meters, custom meters, load centres and EMS programs go with the HVAC.
- Each zone gets a ``Schedule:Constant`` heating-availability schedule the adapter actuates
  (0 = heating off for the step); the heating setpoint is actuated through the thermostat.
- ``Timestep`` 4 (15 min), one ``RunPeriod`` with an explicit year (weekdays of that year),
  no output files but the ``.err``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

# Object classes of the prototype's HVAC and outputs, dropped (prefix match, upper case).
_DROP_PREFIXES = (
    "AIRLOOPHVAC", "AIRTERMINAL", "ZONEHVAC:", "COIL:", "COILSYSTEM", "FAN:", "BOILER",
    "CHILLER", "COOLINGTOWER", "PLANTLOOP", "CONDENSERLOOP", "PUMP:", "PIPE:", "BRANCH",
    "CONNECTOR", "CONTROLLER:", "SETPOINTMANAGER", "SIZING:SYSTEM", "SIZING:PLANT", "NODELIST",
    "OUTDOORAIR:", "AVAILABILITYMANAGER", "PLANTEQUIPMENT", "CONDENSEREQUIPMENT",
    "HEATEXCHANGER", "HUMIDIFIER", "DEHUMIDIFIER", "WATERHEATER", "WATERUSE", "REFRIGERATION",
    "ENERGYMANAGEMENTSYSTEM", "OUTPUT:", "OUTPUTCONTROL", "HEATPUMP", "SOLARCOLLECTOR",
    "EVAPORATIVECOOLER", "DISTRICT", "TEMPERINGVALVE", "THERMALSTORAGE", "PLANTCOMPONENT",
    "ZONEAIRMASSFLOWCONSERVATION", "RUNPERIOD", "METER:", "ELECTRICLOADCENTER",
    "UNITARYSYSTEMPERFORMANCE",
)
# The prototypes are sized on Denver's design days and run here on Chicago's colder weather:
# heaters 1.5 times the design heating load (the prototypes use 1.0 to 1.2).
HEATING_SIZING_FACTOR = 1.5
_KEEP = ("RUNPERIODCONTROL:DAYLIGHTSAVINGTIME",)  # US holidays (MLK day...) are dropped


@dataclass
class IdfObject:
    cls: str
    fields: list[str]
    names: list[str] = field(default_factory=list)  # the "!- field name" comments, if any

    def get(self, name_part: str) -> str | None:
        for f, n in zip(self.fields, self.names, strict=False):
            if name_part.lower() in n.lower():
                return f
        return None

    def text(self) -> str:
        body = ",\n    ".join([self.cls, *self.fields])
        return f"  {body};\n"


def parse(text: str) -> list[IdfObject]:
    """IDF objects with their field-name comments (enough for prototype files)."""
    objects, current, names, buf = [], [], [], ""
    for raw in text.splitlines():
        code, _, comment = raw.partition("!")
        m = re.match(r"-\s*(.*)", comment)
        fname = m.group(1).strip() if m else ""
        for ch in code:
            if ch in ",;":
                current.append(buf.strip())
                names.append(fname)
                buf = ""
                if ch == ";":
                    objects.append(IdfObject(current[0], current[1:], names[1:]))
                    current, names = [], []
            else:
                buf += ch
        buf += " " if buf.strip() else ""
    return objects


@dataclass(frozen=True)
class PreparedIdf:
    path: Path
    zones: tuple[str, ...]  # thermostatted zones, each with an ideal heater
    heating_schedule: str  # the prototype's heating setpoint schedule (first thermostat's)
    source: str  # the prototype file name


def _is_num(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def _french_values(o: IdfObject, lo: float, hi: float, occupied_c: float,
                   setback_c: float) -> IdfObject:
    """The schedule's values mapped linearly from [lo, hi] (the lowest and highest heating
    setpoints of the prototype) onto [setback_c, occupied_c]: same hours and ramps (optimum
    start), French setpoints."""
    until = [i for i, f in enumerate(o.fields) if f.lower().startswith("until")]
    fields = list(o.fields)
    for i in until:
        v = float(fields[i + 1])
        fields[i + 1] = f"{setback_c + (v - lo) / (hi - lo) * (occupied_c - setback_c):.2f}"
    return IdfObject(o.cls, fields, o.names)


def prepare(source: Path, out_dir: Path, *, year: int, begin: tuple[int, int],
            end: tuple[int, int], occupied_c: float = 19.0,
            setback_c: float = 16.0) -> PreparedIdf:
    """Write the benchmark IDF for ``source`` into ``out_dir`` (see the module docstring);
    ``begin``/``end`` are (month, day) of the run period in ``year``."""
    objects = parse(source.read_text(encoding="latin-1"))
    thermostats = [o for o in objects if o.cls.upper() == "ZONECONTROL:THERMOSTAT"]
    zones = tuple(o.fields[1] for o in thermostats)
    duals = {o.fields[0].upper(): o for o in objects
             if o.cls.upper() == "THERMOSTATSETPOINT:DUALSETPOINT"}
    first = thermostats[0]
    heating_schedule = duals[first.fields[4].upper()].fields[1]
    # Every heating setpoint schedule of a thermostat (a prototype may use several: with
    # set-back, without optimum start...), mapped with one common range.
    heating = {duals[t.fields[4].upper()].fields[1].upper() for t in thermostats}
    values = [float(o.fields[i + 1]) for o in objects
              if o.cls.upper() == "SCHEDULE:COMPACT" and o.fields[0].upper() in heating
              for i, f in enumerate(o.fields) if f.lower().startswith("until")]
    lo, hi = min(values), max(values)
    dsoa = {o.fields[0].upper(): o for o in objects
            if o.cls.upper() == "DESIGNSPECIFICATION:OUTDOORAIR"}
    zone_dsoa = {}
    for o in objects:
        if o.cls.upper() == "SIZING:ZONE":
            name = o.get("Design Specification Outdoor Air Object Name")
            if name and name.upper() in dsoa:
                zone_dsoa[o.fields[0].upper()] = dsoa[name.upper()]
    kept = []
    for o in objects:
        u = o.cls.upper()
        if u == "SCHEDULE:COMPACT" and o.fields[0].upper() in heating:
            o = _french_values(o, lo, hi, occupied_c, setback_c)
        if u.startswith(_DROP_PREFIXES) and not u.startswith(_KEEP):
            continue
        if u == "TIMESTEP":
            o = IdfObject("Timestep", ["4"])
        elif u == "SIZING:PARAMETERS":
            o = IdfObject("Sizing:Parameters", [f"{HEATING_SIZING_FACTOR}", *o.fields[1:]])
        elif u == "SIMULATIONCONTROL":
            o = IdfObject("SimulationControl", ["Yes", "No", "No", "No", "Yes", "No", "1"])
        kept.append(o)
    added = [
        IdfObject("RunPeriod", ["SOB_RUN", str(begin[0]), str(begin[1]), str(year),
                                str(end[0]), str(end[1]), str(year), "", "No", "No", "No",
                                "Yes", "Yes"]),
        # French public holidays of the simulated months (December-January): 25 Dec, 1 Jan.
        IdfObject("RunPeriodControl:SpecialDays", ["SOB Noel", "12/25", "1", "Holiday"]),
        IdfObject("RunPeriodControl:SpecialDays", ["SOB Jour de l'an", "1/1", "1", "Holiday"]),
        IdfObject("Schedule:Constant", ["SOB_OFF", "", "0"]),
        IdfObject("Output:Diagnostics", ["DisplayExtraWarnings"]),
    ]
    for z in zones:
        added += [
            IdfObject("Schedule:Constant", [f"SOB_AVAIL {z}", "", "1"]),
            IdfObject("ZoneHVAC:IdealLoadsAirSystem", [
                f"SOB_IL {z}", "", f"SOB_IL {z} Inlet", "", "", "50", "13", "0.0156", "0.0077",
                "LimitCapacity", "", "autosize", "NoLimit", "", "", f"SOB_AVAIL {z}",
                "SOB_OFF", "None", "", "None"]),
            IdfObject("ZoneHVAC:EquipmentList", [
                f"SOB_EQ {z}", "SequentialLoad", "ZoneHVAC:IdealLoadsAirSystem",
                f"SOB_IL {z}", "1", "1", "", ""]),
            IdfObject("ZoneHVAC:EquipmentConnections", [
                z, f"SOB_EQ {z}", f"SOB_IL {z} Inlet", "", f"{z} Air Node", f"{z} SOB Return"]),
        ]
        oa = zone_dsoa.get(z.upper())
        if oa is not None:
            per_person = oa.get("per Person") or ""
            per_area = oa.get("per Zone Floor Area") or ""
            for kind, value in (("Flow/Person", per_person), ("Flow/Area", per_area)):
                if _is_num(value) and float(value) > 0:
                    args = ["", float(value), "", ""] if kind == "Flow/Area" else [
                        "", "", float(value), ""]
                    added.append(IdfObject("ZoneVentilation:DesignFlowRate", [
                        f"SOB_OA {kind} {z}", z, "HVACOperationSchd", kind,
                        *[str(a) for a in args], "Balanced", "0", "1", "1", "0", "0", "0"]))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / source.name.replace(".idf", "_sobriete.idf")
    path.write_text("".join(o.text() for o in kept + added), encoding="latin-1")
    return PreparedIdf(path=path, zones=zones, heating_schedule=heating_schedule,
                       source=source.name)
