"""Diagnostics: find waste and faults in meter and zone data (first AI brick).

``diagnose_meter`` runs every meter detector on one hourly series, ``diagnose_zone`` the
code-de-l'énergie temperature rules on one zone; each returns typed ``Finding`` objects with
their evidence. This is function (2) of the Décret BACS: detect efficiency losses and inform
the operator.
"""

from __future__ import annotations

from sobriete.analytics.diagnostics.base import MeterSeries
from sobriete.analytics.diagnostics.runner import METER_DETECTORS, diagnose_meter
from sobriete.analytics.diagnostics.settings import DETECTOR_VERSIONS, DiagnosticSettings
from sobriete.analytics.diagnostics.zones import ZoneSeries, diagnose_zone

__all__ = ["DETECTOR_VERSIONS", "METER_DETECTORS", "DiagnosticSettings", "MeterSeries",
           "ZoneSeries", "diagnose_meter", "diagnose_zone"]
