"""Shared pieces for the benchmarks: an emulator in this process and the site in another.

The site runs as a real server (gunicorn, as in production) on a fresh SQLite file,
so a benchmark measures the whole stack over HTTP, as a browser would see it.

Every bench parses its command line with :func:`arguments` (``--smoke``, ``--record``,
``--results``), checks every response with :func:`expect` (a failed request must never be
measured as a fast one) and reports with :func:`publish`, the only writer of RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
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


class BenchFailure(RuntimeError):
    """A request or a measurement went wrong: the bench stops (non-zero exit), reports
    nothing, and records nothing."""


def expect(response: Any, status: int = 200, contains: str | bytes | None = None,
           what: str = "") -> Any:
    """``response`` (``requests`` or Django's test Client) if it has ``status`` and, when
    given, ``contains`` in its body; else :class:`BenchFailure`. Returns the response."""
    what = what or getattr(response, "url", "") or "request"
    if response.status_code != status:
        raise BenchFailure(f"{what}: HTTP {response.status_code}, expected {status}: "
                           f"{_body(response)[:300]!r}")
    if contains is not None:
        needle = contains.encode() if isinstance(contains, str) else contains
        if needle not in response.content:
            raise BenchFailure(f"{what}: HTTP {status} but {needle!r} is not in the body: "
                               f"{_body(response)[:300]!r}")
    return response


def check(condition: object, message: str) -> None:
    """``assert`` that ``python -O`` cannot switch off."""
    if not condition:
        raise BenchFailure(message)


def _body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"<streamed>"
    return response.content


def arguments(parser: argparse.ArgumentParser, smoke: dict[str, Any],
              argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Add ``--smoke``, ``--record`` and ``--results`` to ``parser``; parse the command line.

    ``--smoke`` runs every request and measurement path once (the baseline too) at the
    tiny sizes of ``smoke`` (option name → value; sizes given on the command line still
    win), in a few seconds, and never writes RESULTS.md: CI runs each bench this way
    (tests/test_benchmarks_run.py) so none can rot. Its figures mean nothing."""
    parser.add_argument("--smoke", action="store_true",
                        help="every path once at a tiny size; writes nothing (CI)")
    parser.add_argument("--record", action="store_true",
                        help="record the figures in --results (replacing this bench's section)")
    parser.add_argument("--results", type=Path, default=RESULTS, metavar="PATH",
                        help="the file --record writes to (default bench/RESULTS.md)")
    options = parser.parse_args(argv)
    if options.smoke:
        if options.record:
            parser.error("--smoke figures are not results: --record is refused")
        parser.set_defaults(**smoke)
        options = parser.parse_args(argv)
    return options


def django_in_process(url: str, **settings: str) -> None:
    """Set Django up in this process on ``url`` (production-like: DEBUG off, both elements
    in ``authentication`` unless ``settings`` say otherwise), quiet, and migrated."""
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "keyfax_site.settings", "DATABASE_URL": url,
        "DEBUG": "false", "SECRET_KEY": "bench-only-secret-key-0123456789abcdef",
        "ALLOWED_HOSTS": "testserver", "ENTRA_TENANT_ID": TENANT_ID,
        "ENTRA_CLIENT_ID": CLIENT_ID, "ENTRA_CLIENT_SECRET": "bench-secret",
        "KEYFAX_SSO_ADMIN_TOOL": "authentication", "KEYFAX_SSO_WEB_STAFF": "authentication",
        "LOG_LEVEL": "ERROR", "SILENCED_SYSTEM_CHECKS": "keyfax.E006,keyfax.W001,keyfax.W002",
        **settings,
    })
    import logging

    import django
    from django.core.management import call_command

    django.setup()
    logging.getLogger("keyfax.audit").setLevel(logging.WARNING)  # events, not figures
    call_command("migrate", verbosity=0)


@contextmanager
def database(url: str, *, recreate: bool = True) -> Iterator[str]:
    """The bench's database URL: a PostgreSQL ``url`` dropped and recreated first (when
    ``recreate``), any other ``url`` as given, and a scratch SQLite file when empty."""
    if url:
        if recreate and url.startswith("postgres"):
            recreate_postgres(url)
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="keyfax-bench-") as scratch:
        yield f"sqlite:///{scratch}/bench.sqlite3"


def recreate_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_version() -> str:
    """The configured database and its version ("PostgreSQL 15.20", "SQLite 3.40.1")."""
    from django.db import connection

    connection.ensure_connection()
    if connection.vendor == "postgresql":
        major, minor = divmod(connection.pg_version, 10000)
        return f"PostgreSQL {major}.{minor}"
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    return connection.vendor


def command_line(argv: Sequence[str] | None = None) -> str:
    """How this bench was run, as a command to paste (``--record``/``--results`` left out,
    a password in a URL masked)."""
    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0]).resolve()
    shown = [str(script.relative_to(ROOT)) if script.is_relative_to(ROOT) else argv[0]]
    rest = iter(argv[1:])
    for arg in rest:
        if arg == "--record" or arg.startswith("--results="):
            continue
        if arg == "--results":
            next(rest, None)
            continue
        shown.append(re.sub(r"(://[^:/@]+:)[^@/]+@", r"\1***@", arg))
    return ".venv/bin/python " + shlex.join(shown)


RESULTS_HEADER = """# Benchmark results

Written by the bench scripts (`--record`), never by hand: each section is the latest
recorded run of one bench on one database engine, and a new run replaces its own section.
"""


def publish(options: argparse.Namespace, title: str, body: Sequence[str],
            database: str = "") -> str:
    """Print the figures under a heading with machine, date and command; with ``--record``
    (never with ``--smoke``) put them in ``--results``, replacing this bench's previous
    section for the same database engine. Returns the text."""
    heading = f"## {title}" + (f" on {database.split()[0]}" if database else "")
    lines = [
        heading, "",
        f"- Machine: {machine()}" + (f", {database}" if database else ""),
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Command: `{command_line()}`",
        *body,
    ]
    text = "\n".join(lines).rstrip("\n") + "\n"
    if options.smoke:
        text = text.replace(heading, f"{heading} (--smoke: not results)", 1)
    print(text, end="")
    if options.record:
        check(not options.smoke, "--smoke never records")
        results = Path(options.results)
        current = results.read_text(encoding="utf-8") if results.exists() else RESULTS_HEADER
        results.write_text(replace_section(current, heading, text), encoding="utf-8")
        print(f"(recorded in {results})")
    return text


def replace_section(document: str, heading: str, section: str) -> str:
    """``document`` with the ``heading`` section (up to the next ``## ``) replaced by
    ``section``, or ``section`` appended when there is none."""
    parts = re.split(r"(?m)^(?=## )", document)
    kept = [part for part in parts if part.splitlines()[:1] != [heading]]
    replaced = len(kept) != len(parts)
    at = next((i for i, part in enumerate(parts) if part.splitlines()[:1] == [heading]),
              len(kept))
    kept.insert(at if replaced else len(kept), section)
    return "\n".join(part.rstrip("\n") + "\n" for part in kept if part.strip())
