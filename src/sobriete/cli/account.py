"""`sobriete account create | grant | token | deactivate | list`: the accounts of the service,
from the command line (the first admin is made here; the rest can be made in the API)."""

from __future__ import annotations

import sys

import click
from rich.table import Table

from sobriete.cli import _db_option, _lang, console, fail, main
from sobriete.domain.access import Grant, Role, Scope, ScopeLevel
from sobriete.domain.errors import SobrieteError
from sobriete.services import accounts as A
from sobriete.services.store import open_store


def _grant_options(f):
    f = click.option("--scope-code", default="*", show_default=True,
                     help="Code du territoire ou INSEE de la commune (ignoré pour portfolio).")(f)
    f = click.option("--scope", "scope_level", default="portfolio", show_default=True,
                     type=click.Choice([s.value for s in ScopeLevel]),
                     help="Périmètre : toute la métropole, un territoire, une commune.")(f)
    return click.option("--role", required=True, type=click.Choice([r.value for r in Role]),
                        help="Rôle accordé.")(f)


def _account_id(store, login: str) -> int:
    for acc, _p in A.list_accounts(store):
        if acc.login == login:
            return acc.id
    raise A.UnknownAccountError(f"no account with login {login!r}")


@main.group()
def account() -> None:
    """Comptes du service : création, rôles, jetons d'API."""


@account.command("create")
@click.option("--login", required=True)
@click.option("--name", "display_name", default=None, help="Nom affiché (défaut : le login).")
@click.option("--email", default=None, help="Adresse des alertes.")
@click.option("--mail-lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True,
              help="Langue des e-mails d'alerte / language of the alert e-mails.")
@click.option("--password-stdin", is_flag=True,
              help="Lire le mot de passe sur l'entrée standard (sinon il est demandé).")
@_grant_options
@_db_option
@click.pass_context
def create(ctx, login, display_name, email, mail_lang, password_stdin, role, scope_level,
           scope_code, db_url) -> None:
    """Crée un compte avec un rôle (le premier administrateur se crée ainsi)."""
    lang = _lang(ctx)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Mot de passe" if lang == "fr" else "Password",
                                hide_input=True, confirmation_prompt=True)
    try:
        store = open_store(db_url)
        aid = A.create_account(store, login, password, display_name or login,
                               [Grant(Role(role), Scope(ScopeLevel(scope_level), scope_code))])
        if email:
            A.set_email(store, aid, email)
        if mail_lang != "fr":
            A.set_lang(store, aid, mail_lang)
    except SobrieteError as exc:
        fail(exc, lang)
    console.print(f"compte {login!r} créé (id {aid}) : {role} sur {scope_level} {scope_code}"
                  if lang == "fr" else
                  f"account {login!r} created (id {aid}): {role} on {scope_level} {scope_code}")


@account.command("grant")
@click.option("--login", required=True)
@click.option("--remove", is_flag=True, help="Retirer ce rôle au lieu de le donner.")
@_grant_options
@_db_option
@click.pass_context
def grant(ctx, login, remove, role, scope_level, scope_code, db_url) -> None:
    """Donne (ou retire avec --remove) un rôle à un compte."""
    try:
        store = open_store(db_url)
        g = Grant(Role(role), Scope(ScopeLevel(scope_level), scope_code))
        aid = _account_id(store, login)
        changed = (A.revoke_role if remove else A.grant_role)(store, aid, g)
    except SobrieteError as exc:
        fail(exc, _lang(ctx))
    console.print(("retiré" if remove else "accordé") if changed else "inchangé")


@account.command("token")
@click.option("--login", required=True)
@click.option("--label", required=True, help="À quoi sert ce jeton (script, supervision...).")
@click.option("--days", type=float, default=90, show_default=True,
              help="Durée de validité en jours (0 : sans expiration).")
@_db_option
@click.pass_context
def token(ctx, login, label, days, db_url) -> None:
    """Crée un jeton d'API et l'affiche une seule fois (seule son empreinte est gardée)."""
    try:
        store = open_store(db_url)
        value = A.issue_token(store, _account_id(store, login), label,
                              ttl_days=days if days > 0 else None)
    except SobrieteError as exc:
        fail(exc, _lang(ctx))
    click.echo(value)


@account.command("deactivate")
@click.option("--login", required=True)
@click.option("--reactivate", is_flag=True)
@_db_option
@click.pass_context
def deactivate(ctx, login, reactivate, db_url) -> None:
    """Désactive un compte (ses jetons et sessions sont révoqués), ou le réactive."""
    try:
        store = open_store(db_url)
        A.set_active(store, _account_id(store, login), reactivate)
    except SobrieteError as exc:
        fail(exc, _lang(ctx))
    console.print("réactivé" if reactivate else "désactivé, jetons révoqués")


@account.command("list")
@_db_option
@click.pass_context
def list_(ctx, db_url) -> None:
    """Liste les comptes et leurs rôles."""
    fr = _lang(ctx) == "fr"
    try:
        rows = A.list_accounts(open_store(db_url))
    except SobrieteError as exc:
        fail(exc, _lang(ctx))
    table = Table()
    for col in (("Login", "Login"), ("Nom", "Name"), ("Actif", "Active"), ("Rôles", "Roles")):
        table.add_column(col[0] if fr else col[1])
    for acc, p in rows:
        table.add_row(acc.login, acc.display_name, "oui" if acc.active else "non",
                      ", ".join(f"{g.role.value}@{g.scope.level.value}:{g.scope.code}"
                                for g in p.grants))
    console.print(table)
