"""Property-based tests of the whole API from its own OpenAPI document (schemathesis, in
process through ASGI, no server): random valid and invalid requests as a portfolio admin must
never get a 5xx, and every answer must match the documented schema and content type.

Routes that manage accounts, tokens and the session are left out: random calls there would
deactivate or revoke the very admin the test runs as (they have their own tests). The app
runs on its own copy of the test estate, since random writes land in it.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from sobriete.api.app import create_app
from sobriete.api.settings import ServiceSettings

EXAMPLES = 12  # per operation
LEFT_OUT = r"^/api/v1/(accounts|me|session)"
_DIR = tempfile.mkdtemp(prefix="sobriete-schemathesis-")
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
_DB = Path(_DIR) / "store.sqlite"
URL = f"sqlite:///{_DB}"
APP = create_app(ServiceSettings(scheduler=False, db_url=URL))
schema = (schemathesis.openapi.from_asgi("/openapi.json", APP)
          .include(path_regex=r"^/api/v1/").exclude(path_regex=LEFT_OUT))
# The coverage phase alone sends some 70 boundary requests per operation (half the run);
# random generation with a fixed budget keeps the whole test near half a minute.
schema.config.phases.update(phases=["examples", "fuzzing"])


@pytest.fixture(scope="module")
def admin_headers(build_estate) -> dict[str, str]:
    """The estate written into the app's own database; the admin's bearer header."""
    est = build_estate(URL)
    est.store.close()
    return est.auth("admin@portfolio")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_answers_as_documented(case, admin_headers):
    case.call_and_validate(
        headers=admin_headers,
        checks=[not_a_server_error, response_schema_conformance])
