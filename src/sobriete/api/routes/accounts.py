"""Accounts, grants and API tokens.

Administration is scoped like everything else: an admin of the portfolio manages every
account; an admin of a territory or a commune creates accounts and grants roles only inside
that territory or commune, and sees only the accounts holding a grant there. Everyone manages
their own API tokens (listed by id and label; a token's value is shown once, at creation).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from sobriete.api.deps import ScopeDenied, access, get_store, principal
from sobriete.api.lists import ListParams, Page, list_params, paged
from sobriete.domain.access import Grant, Principal, Role, Scope, ScopeLevel
from sobriete.services import accounts as A
from sobriete.services.store import schema as S

router = APIRouter(tags=["accounts"])


class GrantIn(BaseModel):
    role: Role
    scope_level: ScopeLevel
    scope_code: str = Field(min_length=1, max_length=64)

    def grant(self) -> Grant:
        return Grant(self.role, Scope(self.scope_level, self.scope_code))


class AccountIn(BaseModel):
    login: str = Field(min_length=1, max_length=200)
    display_name: str = Field(min_length=1, max_length=200)
    password: str | None = Field(None, description="None: no password (OIDC later)")
    email: str | None = None
    grants: list[GrantIn] = []


class AccountOut(BaseModel):
    id: int
    login: str
    display_name: str
    email: str | None
    active: bool
    created_at: datetime
    grants: list[GrantIn]


class TokenIn(BaseModel):
    label: str = Field(min_length=1, max_length=200)
    ttl_days: float | None = Field(90, gt=0, le=3650, description="None: no expiry")


class TokenCreated(BaseModel):
    id: int
    label: str
    token: str = Field(description="shown once; only its sha256 is kept")
    expires_at: datetime | None


class TokenOut(BaseModel):
    id: int
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def _territory_of(request: Request, commune_code: str) -> str | None:
    c, t = S.commune.c, S.territory.c
    with get_store(request).read() as conn:
        return conn.execute(select(t.code).select_from(S.commune.join(
            S.territory, c.territory_id == t.id)).where(c.code == commune_code)).scalar()


def _administers(request: Request, who: Principal, scope: Scope) -> bool:
    """Whether one of ``who``'s admin grants covers the whole of ``scope``."""
    for g in who.grants:
        if g.role is not Role.ADMIN:
            continue
        lvl = g.scope.level
        if lvl is ScopeLevel.PORTFOLIO:
            return True
        if scope.level is ScopeLevel.PORTFOLIO:
            continue
        if lvl is scope.level and g.scope.code == scope.code:
            return True
        if (lvl is ScopeLevel.TERRITORY and scope.level is ScopeLevel.COMMUNE
                and _territory_of(request, scope.code) == g.scope.code):
            return True
    return False


def _admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if not any(g.role is Role.ADMIN for g in who.grants):
        raise ScopeDenied(403, f"{who.login!r} administers no account (admin role needed)")
    return who


def _out(acc, p: Principal) -> AccountOut:
    return AccountOut(id=acc.id, login=acc.login, display_name=acc.display_name,
                      email=acc.email, active=acc.active, created_at=acc.created_at,
                      grants=[GrantIn(role=g.role, scope_level=g.scope.level,
                                      scope_code=g.scope.code) for g in p.grants])


def _managed(request: Request, who: Principal, account_id: int) -> A.Q.AccountRow:
    for acc, p in A.list_accounts(get_store(request)):
        if acc.id == account_id and (
                _administers(request, who, Scope(ScopeLevel.PORTFOLIO, "*"))
                or any(_administers(request, who, g.scope) for g in p.grants)):
            return acc
    raise ScopeDenied(404, f"no account {account_id} (or not one you administer)")


@router.get("/accounts", response_model=Page[AccountOut], openapi_extra=access("admin"),
            summary="Comptes que j'administre / accounts I administer")
def list_accounts(request: Request, who: Annotated[Principal, Depends(_admin)],
                  params: Annotated[ListParams, Depends(list_params)]):
    everything = _administers(request, who, Scope(ScopeLevel.PORTFOLIO, "*"))
    rows = [_out(acc, p) for acc, p in A.list_accounts(get_store(request))
            if everything or any(_administers(request, who, g.scope) for g in p.grants)]
    return paged(rows, params, "comptes")


def _check_grants(request: Request, who: Principal, grants: list[GrantIn]) -> None:
    for g in grants:
        if not _administers(request, who, g.grant().scope):
            raise ScopeDenied(403, f"{who.login!r} may not grant {g.role.value} on "
                                   f"{g.scope_level.value} {g.scope_code!r}")


@router.post("/accounts", response_model=AccountOut, status_code=201,
             openapi_extra=access("admin", example={"body": {
                 "login": "agent.c1", "display_name": "Agent C1",
                 "password": "une phrase de passe longue", "grants": [
                     {"role": "viewer", "scope_level": "commune", "scope_code": "C1"}]}}),
             summary="Créer un compte / create an account")
def create_account(body: AccountIn, request: Request,
                   who: Annotated[Principal, Depends(_admin)]) -> AccountOut:
    if not body.grants and not _administers(request, who, Scope(ScopeLevel.PORTFOLIO, "*")):
        raise ScopeDenied(403, "an account without grants can only be made by a portfolio "
                               "admin: give it a role in your scope")
    _check_grants(request, who, body.grants)
    store = get_store(request)
    try:
        aid = A.create_account(store, body.login, body.password, body.display_name,
                               [g.grant() for g in body.grants])
    except A.LoginTakenError as exc:
        raise HTTPException(409, str(exc)) from None
    if body.email is not None:
        A.set_email(store, aid, body.email)
    return _account_out(request, aid)


def _account_out(request: Request, account_id: int) -> AccountOut:
    for acc, p in A.list_accounts(get_store(request)):
        if acc.id == account_id:
            return _out(acc, p)
    raise HTTPException(404, f"no account {account_id}")


@router.post("/accounts/{account_id}/grants", response_model=AccountOut,
             openapi_extra=access("admin", example={
                 "path": {"account_id": 1},
                 "body": {"role": "viewer", "scope_level": "commune", "scope_code": "C1"}}),
             summary="Donner un rôle / grant a role")
def add_grant(account_id: int, body: GrantIn, request: Request,
              who: Annotated[Principal, Depends(_admin)]) -> AccountOut:
    _check_grants(request, who, [body])
    A.grant_role(get_store(request), _managed(request, who, account_id).id, body.grant())
    return _account_out(request, account_id)


@router.post("/accounts/{account_id}/grants/remove", response_model=AccountOut,
             openapi_extra=access("admin", example={
                 "path": {"account_id": 1},
                 "body": {"role": "viewer", "scope_level": "commune", "scope_code": "C1"}}),
             summary="Retirer un rôle / remove a grant")
def remove_grant(account_id: int, body: GrantIn, request: Request,
                 who: Annotated[Principal, Depends(_admin)]) -> AccountOut:
    _check_grants(request, who, [body])
    A.revoke_role(get_store(request), _managed(request, who, account_id).id, body.grant())
    return _account_out(request, account_id)


class ActiveIn(BaseModel):
    active: bool


@router.post("/accounts/{account_id}/active", response_model=AccountOut,
             openapi_extra=access("admin", example={"path": {"account_id": 1},
                                                    "body": {"active": False}}),
             summary="Désactiver ou réactiver un compte / deactivate or reactivate")
def set_active(account_id: int, body: ActiveIn, request: Request,
               who: Annotated[Principal, Depends(_admin)]) -> AccountOut:
    if account_id == who.account_id and not body.active:
        raise HTTPException(409, "you cannot deactivate your own account: ask another admin")
    A.set_active(get_store(request), _managed(request, who, account_id).id, body.active)
    return _account_out(request, account_id)


@router.get("/me/tokens", response_model=list[TokenOut], openapi_extra=access(None),
            summary="Mes jetons d'API / my API tokens")
def my_tokens(request: Request, who: Annotated[Principal, Depends(principal)]):
    return [TokenOut(id=t.id, label=t.label, created_at=t.created_at,
                     expires_at=t.expires_at, revoked_at=t.revoked_at,
                     last_used_at=t.last_used_at)
            for t in A.tokens(get_store(request), who.account_id)]


@router.post("/me/tokens", response_model=TokenCreated, status_code=201,
             openapi_extra=access(None, example={"body": {"label": "script", "ttl_days": 30}}),
             summary="Créer un jeton d'API / create an API token")
def new_token(body: TokenIn, request: Request,
              who: Annotated[Principal, Depends(principal)]) -> TokenCreated:
    store = get_store(request)
    token = A.issue_token(store, who.account_id, body.label, ttl_days=body.ttl_days)
    row = A.tokens(store, who.account_id)[-1]
    return TokenCreated(id=row.id, label=row.label, token=token, expires_at=row.expires_at)


@router.delete("/me/tokens/{token_id}", status_code=204,
               openapi_extra=access(None, example={"path": {"token_id": 1}}),
               summary="Révoquer un de mes jetons / revoke one of my tokens")
def revoke(token_id: int, request: Request,
           who: Annotated[Principal, Depends(principal)]) -> None:
    if not A.revoke_token_id(get_store(request), who.account_id, token_id):
        raise HTTPException(404, f"no active token {token_id} of yours")
