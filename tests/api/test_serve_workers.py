"""`sobriete serve --workers 2` as people run it: a supervising process, two workers on one
port, the jobs of one worker read from the other, and a clear refusal of a taken port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from sobriete.api import workers as W
from sobriete.domain.errors import InputError

pytestmark = pytest.mark.skipif(not W.reuse_port_supported(),
                                reason="SO_REUSEPORT is missing on this system")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sobriete() -> list[str]:
    exe = Path(sys.executable).with_name("sobriete")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "sobriete.cli"]


@pytest.fixture
def two_workers(tmp_path):
    port = _free_port()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    env = dict(os.environ, SOBRIETE_SCHEDULER="false", SOBRIETE_COOKIE_SECURE="false")
    proc = subprocess.Popen([*_sobriete(), "serve", "--db", f"sqlite:///{tmp_path}/s.sqlite",
                             "--port", str(port), "--workers", "2"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while (tmp_path / "serve.log").read_text(errors="replace").count(
                "Application startup complete") < 2:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "two workers did not start in 90 s"
            time.sleep(0.2)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _answering(url: str, tries: int = 40) -> set[int]:
    """The workers that answered ``tries`` requests, each on a new connection (the kernel
    spreads new connections over the workers' sockets)."""
    pids = set()
    for _ in range(tries):
        r = httpx.get(f"{url}/health", timeout=10)
        assert r.status_code == 200
        pids.add(r.json()["worker_pid"])
    return pids


def test_two_workers_share_the_port_and_stop_together(two_workers, tmp_path):
    url, proc = two_workers
    pids = _answering(url)
    assert len(pids) == 2
    # each worker logs the application's own records as JSON lines, INFO included
    opened = [json.loads(line) for line in (tmp_path / "serve.log").read_text().splitlines()
              if "store opened" in line]
    assert len(opened) == 2 and {r["logger"] for r in opened} == {"sobriete.api"}
    assert proc.pid not in pids  # the supervisor serves nothing itself
    # a worker that dies is replaced (after its start-up grace: a crash loop is not retried)
    dead = pids.pop()
    time.sleep(max(0.0, psutil.Process(dead).create_time() + W.START_S + 1 - time.time()))
    os.kill(dead, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        pids = _answering(url)
        if len(pids) == 2 and dead not in pids:
            break
        assert time.monotonic() < deadline, f"no new worker after {dead} died: {pids}"
        time.sleep(0.5)
    proc.terminate()
    assert proc.wait(timeout=30) == 0
    for pid in pids:  # no worker left behind
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_job_started_on_one_worker_is_followed_on_any(two_workers, tmp_path):
    from sobriete.domain.access import Grant, Role, Scope, ScopeLevel
    from sobriete.services import accounts as A
    from sobriete.services.store import open_store

    url, _ = two_workers
    store = open_store(f"sqlite:///{tmp_path}/s.sqlite")
    aid = A.create_account(store, "chef", None, "Chef", [
        Grant(Role.ADMIN, Scope(ScopeLevel.PORTFOLIO, "M"))])
    token = A.issue_token(store, aid, "test")
    store.close()
    auth = {"Authorization": f"Bearer {token}"}
    r = httpx.post(f"{url}/api/v1/jobs/analysis", json={"steps": ["status"]}, headers=auth,
                   timeout=30)
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    # 20 new connections: all on the worker that started it has odds of 1 in 2**20 (the
    # test above shows that connections are spread)
    for _ in range(20):
        r = httpx.get(f"{url}/api/v1/jobs/{job_id}", headers=auth, timeout=10)
        assert r.status_code == 200, r.text
        assert r.json()["kind"] == "analysis"


def test_a_taken_port_is_refused_by_name():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(InputError, match=f"127.0.0.1:{port}"):
            W.listening_socket("127.0.0.1", port).close()
