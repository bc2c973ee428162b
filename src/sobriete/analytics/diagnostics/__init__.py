"""Diagnostics: find waste and faults in meter and zone data (first AI brick).

``diagnose_meter`` runs every meter detector on one hourly series; each detector is a pure
function returning typed ``Finding`` objects with their evidence.
"""

from __future__ import annotations

from sobriete.analytics.diagnostics.base import MeterSeries
from sobriete.analytics.diagnostics.runner import METER_DETECTORS, diagnose_meter
from sobriete.analytics.diagnostics.settings import DETECTOR_VERSIONS, DiagnosticSettings

__all__ = ["DETECTOR_VERSIONS", "METER_DETECTORS", "DiagnosticSettings", "MeterSeries",
           "diagnose_meter"]
