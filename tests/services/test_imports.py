"""The import use case end to end: real files, idempotence, rejection without half-writes."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from sobriete.cli import main
from sobriete.domain.errors import InputError
from sobriete.services.footprint import ledger
from sobriete.services.imports import import_file
from sobriete.services.store import open_store
from sobriete.services.store.readings import read_series

ENEDIS = "france/enedis_courbe_de_charge_example.csv"


def _raw_enedis_total_kwh(path) -> float:
    """Independent of the reader: sum of the W values x 0.5 h, from the raw text."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    values = [float(line.split(";")[1]) for line in lines[3:] if line.strip()]
    return sum(values) * 0.5 / 1000


def test_enedis_example_imports_once(any_store_url, shared_data):
    path = shared_data / ENEDIS
    store = open_store(any_store_url)
    first = import_file(store, path, "enedis")
    again = import_file(store, path, "enedis")
    with store.engine.connect() as c:
        frame = read_series(c, "1111111111111", "energy_kwh")
        batches = c.exec_driver_sql("SELECT status, rows_new FROM import_batch").all()
    store.close()
    assert first.counts.rows_new == 17_520
    assert (again.counts.rows_new, again.counts.rows_unchanged) == (0, 17_520)
    assert len(frame) == 17_520
    assert frame.value.sum() == pytest.approx(_raw_enedis_total_kwh(path), rel=1e-12)
    assert frame.start_utc.iloc[0] == pd.Timestamp("2022-07-28T22:00Z")
    assert [tuple(b) for b in batches] == [("ok", 17_520), ("ok", 0)]


def test_a_bad_file_is_rejected_whole_and_logged(sqlite_url, shared_data, tmp_path):
    good = shared_data / ENEDIS
    bad = tmp_path / "courbe.csv"
    text = good.read_text(encoding="utf-8-sig").splitlines()
    text[5000] = "2022-08-10T12:00:00+02:00;douze"  # one corrupt value deep in the file
    bad.write_text("\n".join(text), encoding="utf-8")
    store = open_store(sqlite_url)
    with pytest.raises(InputError) as err:
        import_file(store, bad, "enedis")
    assert err.value.line == 5001 and err.value.file.endswith("courbe.csv")
    with store.engine.connect() as c:
        n = c.exec_driver_sql("SELECT count(*) FROM reading").scalar_one()
        status, message = c.exec_driver_sql("SELECT status, message FROM import_batch").one()
    assert n == 0
    assert status == "rejected" and "5001" in message
    # A refused file still cost computing: the ledger shows it, with its failure.
    assert '"failed"' in ledger(store).iloc[0].details_json
    store.close()


def test_cli_import_then_footprint(tmp_path, shared_data):
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    runner = CliRunner()
    res = runner.invoke(main, ["import", "enedis", str(shared_data / ENEDIS), "--db", db])
    assert res.exit_code == 0, res.output
    assert "17,520" in res.output
    res = runner.invoke(main, ["--lang", "en", "footprint", "--db", db])
    assert res.exit_code == 0 and "import:enedis" in res.output


def test_cli_rejects_bad_file_with_exit_code_2(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_bytes(b"\x00\x01garbage")
    res = CliRunner().invoke(
        main, ["import", "enedis", str(bad), "--db", f"sqlite:///{tmp_path / 'd.sqlite'}"])
    assert res.exit_code == 2
    assert "x.csv" in res.output


def test_demo_runs_twice_and_second_run_adds_nothing(tmp_path):
    out = tmp_path / "demo"
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--no-serve", "--out", str(out)])
    assert first.exit_code == 0, first.output
    html = (out / "synthese.html").read_text(encoding="utf-8")
    assert "Bâtiment universitaire b0" in html and "data:image/png;base64," in html
    # The heating planner's part, on the simulated school, labelled as such.
    assert "Pilotage (école simulée" in first.output and "Préchauffage" in first.output
    assert (out / "plan_ecole_simulee.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    second = runner.invoke(main, ["--lang", "en", "demo", "--no-serve", "--out", str(out)])
    assert second.exit_code == 0, second.output
    store = open_store(f"sqlite:///{out / 'sobriete-demo.sqlite'}")
    with store.engine.connect() as c:
        new_rows = c.exec_driver_sql(
            "SELECT sum(rows_new) FROM import_batch WHERE id > (SELECT max(id) / 2 FROM"
            " import_batch)").scalar_one()
    store.close()
    assert new_rows == 0
    shutil.rmtree(out)
