"""`sobriete account create`: an account with its grant, its alert address and the language
of its e-mails."""

from __future__ import annotations

from click.testing import CliRunner

from sobriete.cli import main
from sobriete.services.store import open_store
from sobriete.services.store.accounts import account_by_login


def test_an_account_is_created_with_its_mail_language(sqlite_url):
    def create(login: str, *extra: str):
        return CliRunner().invoke(main, [
            "account", "create", "--login", login, "--email", f"{login}@mairie.fr",
            "--role", "energy_manager", "--scope", "commune", "--scope-code", "93048",
            "--password-stdin", "--db", sqlite_url, *extra], input="correct horse battery\n")

    assert create("jean").exit_code == 0
    r = create("jane", "--mail-lang", "en")
    assert r.exit_code == 0, r.output
    assert create("hans", "--mail-lang", "de").exit_code == 2  # refused by name
    store = open_store(sqlite_url)
    with store.read() as conn:
        got = {x: (a.email, a.lang) for x in ("jean", "jane", "hans")
               if (a := account_by_login(conn, x)) is not None}
    store.close()
    assert got == {"jean": ("jean@mairie.fr", "fr"), "jane": ("jane@mairie.fr", "en")}
