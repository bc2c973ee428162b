"""The access matrix of issue 6: role x action x scope, pure functions."""

from __future__ import annotations

import pytest

from sobriete.domain.access import (
    Action,
    Grant,
    Principal,
    Role,
    Scope,
    ScopeLevel,
    can,
    require,
)
from sobriete.domain.errors import SobrieteError

# two territories, T1 (communes A, B) and T2 (commune C)
BUILDINGS = {"A": ("A", "T1"), "B": ("B", "T1"), "C": ("C", "T2")}
SCOPES = {
    "portfolio": Scope(ScopeLevel.PORTFOLIO, "metropole"),
    "territory-T1": Scope(ScopeLevel.TERRITORY, "T1"),
    "commune-A": Scope(ScopeLevel.COMMUNE, "A"),
}
# which buildings each scope contains
INSIDE = {"portfolio": {"A", "B", "C"}, "territory-T1": {"A", "B"}, "commune-A": {"A"}}
ROLE_ACTIONS = {
    Role.ADMIN: {"read", "write", "control", "flex_read", "flex_write"},
    Role.ENERGY_MANAGER: {"read", "write", "control", "flex_read", "flex_write"},
    Role.VIEWER: {"read", "flex_read"},
    Role.AGGREGATOR: {"flex_read", "flex_write"},
}
ACTIONS = ["read", "write", "control", "flex_read", "flex_write"]


def _who(role: Role, scope: str) -> Principal:
    return Principal(1, f"{role.value}@{scope}", (Grant(role, SCOPES[scope]),))


@pytest.mark.parametrize("building", sorted(BUILDINGS))
@pytest.mark.parametrize("scope", sorted(SCOPES))
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", list(Role))
def test_matrix(role, action, scope, building):
    commune, territory = BUILDINGS[building]
    expected = action in ROLE_ACTIONS[role] and building in INSIDE[scope]
    assert can(_who(role, scope), action, commune, territory) is expected


def test_commune_manager_cannot_touch_another_commune():
    em = _who(Role.ENERGY_MANAGER, "commune-A")
    assert can(em, "read", "A", "T1") and can(em, "write", "A", "T1")
    assert not can(em, "read", "B", "T1")
    assert not can(em, "write", "B", "T1")
    assert not can(em, "control", "B", "T1")


def test_territory_viewer_reads_its_communes_only():
    v = _who(Role.VIEWER, "territory-T1")
    assert can(v, Action.READ, "A", "T1") and can(v, Action.READ, "B", "T1")
    assert not can(v, Action.READ, "C", "T2")
    assert not can(v, Action.WRITE, "A", "T1")


def test_aggregator_sees_flexibility_only():
    ag = _who(Role.AGGREGATOR, "portfolio")
    assert not can(ag, "read", "A", "T1")  # readings, findings, plans
    assert not can(ag, "write", "A", "T1") and not can(ag, "control", "A", "T1")
    assert can(ag, "flex_read", "A", "T1") and can(ag, "flex_write", "C", "T2")


def test_grants_add_up_and_no_grant_means_nothing():
    p = Principal(1, "x", (Grant(Role.VIEWER, SCOPES["portfolio"]),
                           Grant(Role.ENERGY_MANAGER, SCOPES["commune-A"])))
    assert can(p, "write", "A", "T1") and not can(p, "write", "B", "T1")
    assert can(p, "read", "C", "T2")
    nobody = Principal(2, "nobody")
    assert not any(can(nobody, a, "A", "T1") for a in ACTIONS)


def test_admin_action_and_require():
    admin = _who(Role.ADMIN, "territory-T1")
    assert can(admin, "admin", "A", "T1") and not can(admin, "admin", "C", "T2")
    assert not can(_who(Role.ENERGY_MANAGER, "portfolio"), "admin", "A", "T1")
    require(admin, "write", "B", "T1")
    with pytest.raises(SobrieteError, match="may not write"):
        require(_who(Role.VIEWER, "portfolio"), "write", "B", "T1")


def test_unknown_action_or_role_is_refused():
    with pytest.raises(ValueError):
        can(_who(Role.ADMIN, "portfolio"), "delete", "A", "T1")
    with pytest.raises(ValueError):
        Grant("superuser", SCOPES["portfolio"])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Scope("region", "X")  # type: ignore[arg-type]
