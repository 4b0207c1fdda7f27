"""Shared pieces for the benchmarks: an emulator in this process and the site in another.

The site runs as a real server (gunicorn, as in production) on a fresh SQLite file,
so a benchmark measures the whole stack over HTTP, as a browser would see it.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from entra_emulator import EntraEmulator, load_people  # noqa: E402
from tests.tokens import CLIENT_ID, CLIENT_SECRET, TENANT_ID  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def emulator() -> Iterator[EntraEmulator]:
    emu = EntraEmulator(
        tenant_id=TENANT_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        people=load_people(), host="127.0.0.1", port=0, quiet=True,
    ).start()
    try:
        yield emu
    finally:
        emu.stop()


@contextmanager
def emulator_process(port: int) -> Iterator[str]:
    """The emulator in its own process, as ``make run`` starts it; yields its base URL.

    Throughput is measured this way so the emulator does not share a GIL with the client.
    """
    env = {**os.environ, "DEBUG": "true", "ENTRA_TENANT_ID": TENANT_ID,
           "ENTRA_CLIENT_ID": CLIENT_ID, "ENTRA_CLIENT_SECRET": CLIENT_SECRET}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "entra_emulator", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/{TENANT_ID}/v2.0/.well-known/openid-configuration")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def site_environment(authority: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        # Production-like: DEBUG off (plain http on loopback, so cookies are not "secure").
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdef",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SILENCED_SYSTEM_CHECKS": "keyfax.E006,keyfax.W001,keyfax.W002",
        "ENTRA_AUTHORITY": authority,
        "ENTRA_GRAPH_URL": authority,
        "ENTRA_TENANT_ID": TENANT_ID,
        "ENTRA_CLIENT_ID": CLIENT_ID,
        "ENTRA_CLIENT_SECRET": CLIENT_SECRET,
        "KEYFAX_SSO_ADMIN_TOOL": "authentication",
        "KEYFAX_SSO_WEB_STAFF": "authentication",
        "KEYFAX_LOCAL_LOGIN": "true",
        "KEYFAX_LOGIN_ATTEMPTS": "1000000",
        "LOG_LEVEL": "WARNING",
    })
    env.update(extra)
    return env


@contextmanager
def site(env: dict[str, str], workers: int = 2) -> Iterator[tuple[str, dict[str, str]]]:
    """Migrate a fresh SQLite database and serve the site; yields its URL and environment.

    Each gunicorn worker keeps its own caches (discovery, keys): count per-sign-in IdP
    requests with one worker, or a worker's first sign-in counts as steady state."""
    with tempfile.TemporaryDirectory() as scratch:
        env = {**env, "DATABASE_URL": f"sqlite:///{scratch}/bench.sqlite3"}
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env,
                       check=True)
        port = free_port()
        # gunicorn, as in production (docs/deployment.md): persistent workers and connections.
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "keyfax_site.wsgi", "--bind",
             f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(base + "/healthz")
            yield base, env
        finally:
            server.terminate()
            server.wait(timeout=10)


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def machine() -> str:
    return f"{platform.node() or 'unknown'}: {platform.machine()}, {os.cpu_count()} cores, " \
           f"Python {platform.python_version()}"
