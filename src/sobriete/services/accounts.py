"""Accounts, passwords (argon2id), API tokens and role grants (issue 6, model only).

- Passwords: argon2id through argon2-cffi's ``PasswordHasher`` with its default parameters;
  shorter than ``MIN_PASSWORD_LENGTH`` is refused (``WeakPasswordError``).
- ``authenticate``: one ``AuthenticationError`` message whether the login is unknown, the
  account inactive or the password wrong; an unknown login still costs one hash verification
  (against a dummy hash) so that timing does not tell either. Every attempt is recorded in
  ``login_attempt`` (for rate limiting later). A hash made with older parameters is rehashed.
- Tokens: ``secrets.token_urlsafe(32)``, shown once; the store keeps its sha256 only.
- ``principal_for_token(..., cache_s=N)``: a token's principal is remembered N seconds by
  this process (the service reads it on every request). Any change of accounts, grants or
  tokens made through this module forgets them all at once; one made by another process (a
  second worker, the CLI) takes effect here within N seconds.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.exc import IntegrityError

from sobriete.domain.access import AccessError, Grant, Principal, Role, Scope, ScopeLevel
from sobriete.reporting.i18n import LANGS
from sobriete.services.store import Store
from sobriete.services.store import accounts as Q

MIN_PASSWORD_LENGTH = 12
FAILED_LOGIN = "unknown login or wrong password"
BAD_TOKEN = "invalid, expired or revoked token"
# A token's last use is recorded to the minute: a write per request would serialise every
# reader behind SQLite's single writer.
TOUCH_EVERY = timedelta(minutes=1)

_RECENT_MAX = 10_000  # tokens remembered at most (then forgotten all at once)

_DEFAULT_HASHER = PasswordHasher()  # argon2id, the library's recommended parameters
_dummy_hashes: dict[tuple, str] = {}


class AuthenticationError(AccessError):
    """The credentials do not identify an active account (never says which part is wrong)."""


class WeakPasswordError(AccessError):
    """The password is too short."""


class LoginTakenError(AccessError):
    """An account already has this login."""


class TooManyAttemptsError(AccessError):
    """Too many failed logins for this login or from this address: wait ``retry_after_s``."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class UnknownAccountError(AccessError):
    """No account of that id (or login)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len,
           hasher.salt_len, hasher.type)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hashes[key]


def token_digest(token: str) -> str:
    """What the store keeps of a token: its sha256, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _principal(conn, account_id: int, login: str) -> Principal:
    return Principal(account_id, login, tuple(
        Grant(Role(r), Scope(ScopeLevel(lvl), code))
        for r, lvl, code in Q.grants(conn, account_id)))


def create_account(store: Store, login: str, password: str | None, display_name: str,
                   grants: Iterable[Grant] = (), *,
                   hasher: PasswordHasher | None = None) -> int:
    """Create an account and its grants; returns its id. ``password=None`` makes an account
    that cannot log in by password (OIDC later)."""
    hasher = hasher or _DEFAULT_HASHER
    if not login or not login.strip():
        raise AccessError("the login must not be empty")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    pw_hash = hasher.hash(password) if password is not None else None
    with store.engine.begin() as conn:
        if Q.login_exists(conn, login):
            raise LoginTakenError(f"the login {login!r} is already taken")
        try:
            account_id = Q.insert_account(conn, login, display_name, pw_hash, _now())
        except IntegrityError:  # created concurrently
            raise LoginTakenError(f"the login {login!r} is already taken") from None
        for g in grants:
            Q.add_grant(conn, account_id, g.role.value, g.scope.level.value, g.scope.code)
    return account_id


def authenticate(store: Store, login: str, password: str, *,
                 hasher: PasswordHasher | None = None, client: str | None = None) -> Principal:
    """The principal of ``login`` if ``password`` is its password, else AuthenticationError."""
    hasher = hasher or _DEFAULT_HASHER
    dummy = _dummy_hash(hasher)  # made before the look-up: the first miss is not slower
    with store.read() as conn:
        acc = Q.account_by_login(conn, login)
    ok = False
    if acc is None or acc.password_hash is None:
        try:  # same work as a real verification
            hasher.verify(dummy, password)
        except VerificationError:
            pass
    else:
        try:
            ok = hasher.verify(acc.password_hash, password)
        except (VerificationError, VerifyMismatchError, InvalidHashError):
            ok = False
        ok = ok and acc.active
    with store.engine.begin() as conn:
        Q.record_attempt(conn, login, _now(), ok, client)
        if not ok:
            principal = None
        else:
            if hasher.check_needs_rehash(acc.password_hash):
                Q.set_password_hash(conn, acc.id, hasher.hash(password))
            principal = _principal(conn, acc.id, acc.login)
    if principal is None:
        raise AuthenticationError(FAILED_LOGIN)
    return principal


def check_login_rate(store: Store, login: str, client: str | None, *, max_failures: int = 5,
                     window_s: float = 900) -> None:
    """``TooManyAttemptsError`` when ``login``, or the ``client`` address, has had
    ``max_failures`` failed attempts within the last ``window_s`` seconds. Checked before the
    password is, so that guessing stops even on a right guess."""
    since = _now() - timedelta(seconds=window_s)
    with store.read() as conn:
        by_login = Q.failures_since(conn, since, login=login)
        by_client = Q.failures_since(conn, since, client=client) if client else 0
    # an address may try several logins (a shared town-hall network): a looser bound
    if by_login >= max_failures or by_client >= 4 * max_failures:
        raise TooManyAttemptsError(int(window_s))


def issue_token(store: Store, account_id: int, label: str,
                ttl_days: float | None = 90) -> str:
    """A new API token for the account (returned once, never stored); ``ttl_days=None``:
    no expiry."""
    now = _now()
    token = secrets.token_urlsafe(32)
    expires = None if ttl_days is None else now + timedelta(days=ttl_days)
    with store.engine.begin() as conn:
        if Q.account_by_id(conn, account_id) is None:
            raise UnknownAccountError(f"no account of id {account_id}")
        Q.insert_token(conn, account_id, token_digest(token), label, now, expires)
    return token


class _RecentPrincipals:
    """Principals by (store, token digest) until a monotonic deadline."""

    def __init__(self) -> None:
        self._items: dict[tuple[int, str], tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[int, str]) -> Principal | None:
        with self._lock:
            hit = self._items.get(key)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def put(self, key: tuple[int, str], until: float, who: Principal) -> None:
        with self._lock:
            if len(self._items) >= _RECENT_MAX:
                self._items.clear()
            self._items[key] = (until, who)

    def forget_all(self) -> None:
        with self._lock:
            self._items.clear()


_recent = _RecentPrincipals()


def _forgets_principals(fn):
    """After a change of tokens, grants or accounts (committed or not), this process reads
    principals afresh: forgetting before the commit would let a request remember the old."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        finally:
            _recent.forget_all()
    return wrapper


def remembered_principal(store: Store, token: str) -> Principal | None:
    """The principal ``principal_for_token(..., cache_s>0)`` remembers for this token, if it
    is still fresh: no database (callers on an event loop try this first)."""
    return _recent.get((id(store), token_digest(token)))


def principal_for_token(store: Store, token: str, *, now: datetime | None = None,
                        cache_s: float = 0.0) -> Principal:
    """The principal of an API token; unknown, expired, revoked or of an inactive account:
    AuthenticationError. Marks the token used (at most once a minute). ``cache_s``: the
    answer may be up to that old (never past the token's expiry)."""
    key = (id(store), token_digest(token))
    if cache_s > 0 and (who := _recent.get(key)) is not None:
        return who
    now = now or _now()
    with store.read() as conn:
        row = Q.token_by_hash(conn, key[1])
        if row is None or row.revoked_at is not None or (
                row.expires_at is not None and row.expires_at <= now):
            raise AuthenticationError(BAD_TOKEN)
        acc = Q.account_by_id(conn, row.account_id)
        if acc is None or not acc.active:
            raise AuthenticationError(BAD_TOKEN)
        who = _principal(conn, acc.id, acc.login)
    if row.last_used_at is None or row.last_used_at <= now - TOUCH_EVERY:
        # A transaction of its own: the token's row stays locked for that one statement,
        # not while the account and grants are read (under load, the other workers' marks
        # of the same token queued behind a transaction left open by a thread waiting for
        # its turn on the CPU).
        with store.engine.begin() as conn:
            Q.touch_token(conn, row.id, now)
    if cache_s > 0:
        left = cache_s if row.expires_at is None else min(
            cache_s, (row.expires_at - now).total_seconds())
        _recent.put(key, time.monotonic() + left, who)
    return who


@_forgets_principals
def revoke_token(store: Store, token: str) -> bool:
    """Revoke a token (given in clear, as its holder has it); False if unknown or already
    revoked."""
    with store.engine.begin() as conn:
        row = Q.token_by_hash(conn, token_digest(token))
        if row is None:
            return False
        return Q.revoke_token(conn, row.id, _now())


@_forgets_principals
def grant_role(store: Store, account_id: int, grant: Grant) -> bool:
    """Add a grant; False when the account already had it."""
    with store.engine.begin() as conn:
        if Q.account_by_id(conn, account_id) is None:
            raise UnknownAccountError(f"no account of id {account_id}")
        return Q.add_grant(conn, account_id, grant.role.value, grant.scope.level.value,
                           grant.scope.code)


@_forgets_principals
def revoke_role(store: Store, account_id: int, grant: Grant) -> bool:
    """Remove a grant; False when the account did not have it."""
    with store.engine.begin() as conn:
        return Q.remove_grant(conn, account_id, grant.role.value, grant.scope.level.value,
                              grant.scope.code)


def principal_for_account(store: Store, account_id: int) -> Principal:
    with store.read() as conn:
        acc = Q.account_by_id(conn, account_id)
        if acc is None:
            raise UnknownAccountError(f"no account of id {account_id}")
        return _principal(conn, acc.id, acc.login)


def list_accounts(store: Store) -> list[tuple[Q.AccountRow, Principal]]:
    """Every account with its grants (administration)."""
    with store.read() as conn:
        return [(a, _principal(conn, a.id, a.login)) for a in Q.list_accounts(conn)]


def _update(conn, account_id: int, **values) -> None:
    if not Q.update_account(conn, account_id, **values):
        raise UnknownAccountError(f"no account of id {account_id}")


@_forgets_principals
def set_active(store: Store, account_id: int, active: bool) -> None:
    """Deactivate (or reactivate) an account. Deactivating also revokes its tokens, so that
    an open session ends at once rather than at its expiry."""
    with store.engine.begin() as conn:
        _update(conn, account_id, active=active)
        if not active:
            Q.revoke_all_tokens(conn, account_id, _now())


def set_email(store: Store, account_id: int, email: str | None) -> None:
    if email is not None and ("@" not in email or email.strip() != email or len(email) > 320):
        raise AccessError(f"not an e-mail address: {email!r}")
    with store.engine.begin() as conn:
        _update(conn, account_id, email=email)


def set_lang(store: Store, account_id: int, lang: str) -> None:
    """The language of the account's e-mails (``fr`` or ``en``)."""
    if lang not in LANGS:
        raise AccessError(f"unknown language {lang!r}: {' or '.join(LANGS)}")
    with store.engine.begin() as conn:
        _update(conn, account_id, lang=lang)


def tokens(store: Store, account_id: int) -> list[Q.TokenRow]:
    """The account's tokens (never their value: only the hash is kept)."""
    with store.read() as conn:
        return Q.tokens_of(conn, account_id)


@_forgets_principals
def revoke_token_id(store: Store, account_id: int, token_id: int) -> bool:
    """Revoke one of the account's own tokens by id; False when it is not theirs, unknown or
    already revoked."""
    with store.engine.begin() as conn:
        if not any(t.id == token_id for t in Q.tokens_of(conn, account_id)):
            return False
        return Q.revoke_token(conn, token_id, _now())


@_forgets_principals
def set_password(store: Store, account_id: int, password: str, *,
                 hasher: PasswordHasher | None = None) -> None:
    hasher = hasher or _DEFAULT_HASHER
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    with store.engine.begin() as conn:
        if Q.account_by_id(conn, account_id) is None:
            raise UnknownAccountError(f"no account of id {account_id}")
        Q.set_password_hash(conn, account_id, hasher.hash(password))
