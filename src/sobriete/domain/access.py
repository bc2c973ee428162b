"""Access control (model of issue 6): roles scoped to the portfolio, a territory or a commune.

Pure functions, no storage: ``services.accounts`` loads a ``Principal`` and the API will ask
``can`` before every read or write.

Actions: ``read`` (estate, readings, findings, plans), ``write`` (registry, actions, imports),
``control`` (setpoints, control plans), ``flex_read`` and ``flex_write`` (flexibility events
and allocations).

Matrix (inside the grant's scope; outside it, nothing):

=============== ==== ===== ======= ========= ========== =====
role            read write control flex_read flex_write admin
=============== ==== ===== ======= ========= ========== =====
admin           yes  yes   yes     yes       yes        yes
energy_manager  yes  yes   yes     yes       yes        no
viewer          yes  no    no      yes       no         no
aggregator      no   no    no      yes       yes        no
=============== ==== ===== ======= ========= ========== =====

A scope contains a building when its level is ``portfolio`` (the whole metropolis), or
``territory`` with the building's territory code, or ``commune`` with the building's commune
code. A principal may hold several grants: an action is allowed when one grant allows it.
Administering accounts (granting roles) is reserved to ``admin`` and is the ``admin`` action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sobriete.domain.errors import SobrieteError


class AccessError(SobrieteError):
    """Base of the access-control errors."""


class ForbiddenError(AccessError):
    """The principal is known but its grants do not allow the action."""


class Role(StrEnum):
    ADMIN = "admin"
    ENERGY_MANAGER = "energy_manager"
    VIEWER = "viewer"
    AGGREGATOR = "aggregator"


class ScopeLevel(StrEnum):
    PORTFOLIO = "portfolio"
    TERRITORY = "territory"
    COMMUNE = "commune"


class Action(StrEnum):
    READ = "read"
    WRITE = "write"
    CONTROL = "control"
    FLEX_READ = "flex_read"
    FLEX_WRITE = "flex_write"
    ADMIN = "admin"  # manage accounts and grants


ALLOWED: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.ENERGY_MANAGER: frozenset({Action.READ, Action.WRITE, Action.CONTROL,
                                    Action.FLEX_READ, Action.FLEX_WRITE}),
    Role.VIEWER: frozenset({Action.READ, Action.FLEX_READ}),
    Role.AGGREGATOR: frozenset({Action.FLEX_READ, Action.FLEX_WRITE}),
}


@dataclass(frozen=True)
class Scope:
    """``level`` and the territory or commune ``code`` (the portfolio's code, or any, for
    ``portfolio``: there is one portfolio, the metropolis)."""

    level: ScopeLevel
    code: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", ScopeLevel(self.level))
        if not self.code:
            raise AccessError(f"scope {self.level.value} needs a code")

    def contains(self, building_commune: str, building_territory: str) -> bool:
        if self.level is ScopeLevel.PORTFOLIO:
            return True
        if self.level is ScopeLevel.TERRITORY:
            return self.code == building_territory
        return self.code == building_commune


@dataclass(frozen=True)
class Grant:
    role: Role
    scope: Scope

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))


@dataclass(frozen=True)
class Principal:
    """Who is asking: an account and its grants (from a password, a token or later OIDC)."""

    account_id: int
    login: str
    grants: tuple[Grant, ...] = field(default_factory=tuple)


def can(principal: Principal, action: Action | str, building_commune: str,
        building_territory: str) -> bool:
    """Whether ``principal`` may do ``action`` on a building of commune ``building_commune``
    in territory ``building_territory`` (see the matrix in the module docstring)."""
    act = Action(action)
    return any(act in ALLOWED[g.role] and g.scope.contains(building_commune, building_territory)
               for g in principal.grants)


def require(principal: Principal, action: Action | str, building_commune: str,
            building_territory: str) -> None:
    """``can`` or a ``ForbiddenError``."""
    if not can(principal, action, building_commune, building_territory):
        raise ForbiddenError(
            f"{principal.login!r} may not {Action(action).value} in commune "
            f"{building_commune!r} (territory {building_territory!r})")
