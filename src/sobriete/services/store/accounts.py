"""Accounts, grants, API tokens and login attempts (tables of migration 0007). SQL only: the
hashing and the rules are in ``services.accounts``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from sobriete.services.store import schema as S


@dataclass(frozen=True)
class AccountRow:
    id: int
    login: str
    display_name: str
    password_hash: str | None
    oidc_subject: str | None
    active: bool
    created_at: datetime
    email: str | None = None
    lang: str = "fr"  # of its e-mails


@dataclass(frozen=True)
class TokenRow:
    id: int
    account_id: int
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def _account(r) -> AccountRow:
    return AccountRow(r["id"], r["login"], r["display_name"], r["password_hash"],
                      r["oidc_subject"], bool(r["active"]), r["created_at"], r["email"],
                      r["lang"])


def login_exists(conn: Connection, login: str) -> bool:
    return conn.execute(select(S.account.c.id).where(S.account.c.login == login)
                        ).first() is not None


def insert_account(conn: Connection, login: str, display_name: str,
                   password_hash: str | None, created_at: datetime) -> int:
    return conn.execute(insert(S.account).values(
        login=login, display_name=display_name, password_hash=password_hash, active=True,
        created_at=created_at)).inserted_primary_key[0]


def account_by_login(conn: Connection, login: str) -> AccountRow | None:
    r = conn.execute(select(S.account).where(S.account.c.login == login)).mappings().first()
    return None if r is None else _account(r)


def account_by_id(conn: Connection, account_id: int) -> AccountRow | None:
    r = conn.execute(select(S.account).where(S.account.c.id == account_id)).mappings().first()
    return None if r is None else _account(r)


def set_password_hash(conn: Connection, account_id: int, password_hash: str) -> None:
    conn.execute(update(S.account).where(S.account.c.id == account_id)
                 .values(password_hash=password_hash))


def grants(conn: Connection, account_id: int) -> list[tuple[str, str, str]]:
    """(role, scope_level, scope_code) of the account, sorted."""
    g = S.account_grant.c
    rows = conn.execute(select(g.role, g.scope_level, g.scope_code)
                        .where(g.account_id == account_id)
                        .order_by(g.role, g.scope_level, g.scope_code)).all()
    return [(r[0], r[1], r[2]) for r in rows]


def add_grant(conn: Connection, account_id: int, role: str, level: str, code: str) -> bool:
    """Insert the grant unless present; True when inserted."""
    g = S.account_grant.c
    exists = conn.execute(select(g.id).where(
        g.account_id == account_id, g.role == role, g.scope_level == level,
        g.scope_code == code)).first()
    if exists is not None:
        return False
    conn.execute(insert(S.account_grant).values(
        account_id=account_id, role=role, scope_level=level, scope_code=code))
    return True


def remove_grant(conn: Connection, account_id: int, role: str, level: str, code: str) -> bool:
    g = S.account_grant.c
    res = conn.execute(delete(S.account_grant).where(
        g.account_id == account_id, g.role == role, g.scope_level == level,
        g.scope_code == code))
    return res.rowcount > 0


def record_attempt(conn: Connection, login: str, at: datetime, ok: bool,
                   client: str | None = None) -> None:
    conn.execute(insert(S.login_attempt).values(login=login, at=at, ok=ok, client=client))


def failures_since(conn: Connection, since: datetime, *, login: str | None = None,
                   client: str | None = None) -> int:
    """Failed attempts since ``since`` for a login, or from a client address."""
    a = S.login_attempt.c
    q = select(func.count()).where(a.at >= since, a.ok.is_(False))
    q = q.where(a.login == login) if login is not None else q.where(a.client == client)
    return int(conn.execute(q).scalar_one())


def insert_token(conn: Connection, account_id: int, token_hash: str, label: str,
                 created_at: datetime, expires_at: datetime | None) -> int:
    return conn.execute(insert(S.api_token).values(
        account_id=account_id, token_hash=token_hash, label=label, created_at=created_at,
        expires_at=expires_at)).inserted_primary_key[0]


def token_by_hash(conn: Connection, token_hash: str) -> TokenRow | None:
    t = S.api_token.c
    r = conn.execute(select(t.id, t.account_id, t.label, t.created_at, t.expires_at,
                            t.revoked_at, t.last_used_at)
                     .where(t.token_hash == token_hash)).mappings().first()
    if r is None:
        return None
    return TokenRow(r["id"], r["account_id"], r["label"], r["created_at"], r["expires_at"],
                    r["revoked_at"], r["last_used_at"])


def touch_token(conn: Connection, token_id: int, at: datetime) -> None:
    conn.execute(update(S.api_token).where(S.api_token.c.id == token_id)
                 .values(last_used_at=at))


def revoke_token(conn: Connection, token_id: int, at: datetime) -> bool:
    t = S.api_token.c
    res = conn.execute(update(S.api_token).where(t.id == token_id, t.revoked_at.is_(None))
                       .values(revoked_at=at))
    return res.rowcount > 0


def list_accounts(conn: Connection) -> list[AccountRow]:
    return [_account(r) for r in conn.execute(
        select(S.account).order_by(S.account.c.login)).mappings()]


def update_account(conn: Connection, account_id: int, **values) -> bool:
    """Set ``active``, ``email``, ``display_name`` or ``lang``; False when no such
    account."""
    res = conn.execute(update(S.account).where(S.account.c.id == account_id).values(**values))
    return res.rowcount > 0


def tokens_of(conn: Connection, account_id: int) -> list[TokenRow]:
    t = S.api_token.c
    rows = conn.execute(select(t.id, t.account_id, t.label, t.created_at, t.expires_at,
                               t.revoked_at, t.last_used_at)
                        .where(t.account_id == account_id).order_by(t.id)).mappings()
    return [TokenRow(r["id"], r["account_id"], r["label"], r["created_at"], r["expires_at"],
                     r["revoked_at"], r["last_used_at"]) for r in rows]


def revoke_all_tokens(conn: Connection, account_id: int, at: datetime) -> int:
    t = S.api_token.c
    return conn.execute(update(S.api_token).where(t.account_id == account_id,
                                                  t.revoked_at.is_(None))
                        .values(revoked_at=at)).rowcount
