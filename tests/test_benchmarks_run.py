"""Every bench in bench/ runs, at its tiny size (``--smoke``), so none can rot.

Each bench checks every response itself (status and content) and stops, non-zero, on the
first wrong one; a smoke run goes through every request and measurement path once, the
baseline too, and writes nothing. Asserted here: the bench exits 0, reports as a smoke run,
and leaves bench/RESULTS.md byte for byte as it was. Never a wall-clock time: a smoke run's
figures mean nothing.

On PostgreSQL (``DATABASE_URL=postgres://…``, as CI's second pass) the benches that take
``--database-url`` run on a scratch database of their own, ``<that database>_bench``
(``KEYFAX_BENCH_DATABASE_URL`` to choose another), dropped and recreated for each bench and
dropped at the end; the others, and every bench on SQLite, use a scratch SQLite file.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "RESULTS.md"
HELPERS = {"__init__", "harness", "vanilla_settings", "vanilla_urls"}
MAIN_BLOCK = re.compile(r'^if __name__ == "__main__":', re.MULTILINE)
TIMEOUT = 300  # seconds: a hung bench fails instead of hanging the suite


def benches() -> list[str]:
    """Every runnable bench: a bench/*.py with a ``__main__`` block, helpers excepted."""
    return sorted(
        path.stem for path in BENCH.glob("*.py")
        if path.stem not in HELPERS and MAIN_BLOCK.search(path.read_text(encoding="utf-8"))
    )


def test_every_bench_file_is_a_bench_or_a_known_helper():
    """A new bench/*.py without a ``__main__`` block would be skipped silently below."""
    assert set(benches()) | HELPERS == {path.stem for path in BENCH.glob("*.py")}
    assert benches(), "no benches found"


def postgres_bench_url() -> str | None:
    """The scratch PostgreSQL database for the smoke runs, or None on SQLite."""
    if url := os.environ.get("KEYFAX_BENCH_DATABASE_URL"):
        return url
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return None
    server, name = url.split("?", 1)[0].rsplit("/", 1)
    return f"{server}/{name[:57]}_bench"


def _postgres(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture(scope="module")
def bench_database():
    """The scratch PostgreSQL URL (dropped at the end), or None on SQLite."""
    url = postgres_bench_url()
    yield url
    if url:
        name = url.rsplit("/", 1)[1]
        _postgres(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_smoke(name: str, database_url: str | None) -> subprocess.CompletedProcess:
    command = [sys.executable, f"bench/{name}.py", "--smoke"]
    source = (BENCH / f"{name}.py").read_text(encoding="utf-8")
    if database_url and "--database-url" in source:
        db = database_url.rsplit("/", 1)[1]
        _postgres(database_url, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)',
                  f'CREATE DATABASE "{db}"')
        command += ["--database-url", database_url]
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    # Its own session: on a timeout the bench and its servers (gunicorn, emulator) all go.
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"{' '.join(command[1:])} still running after {TIMEOUT} s\n"
                    f"{stdout[-2000:]}\n{stderr[-3000:]}")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@pytest.mark.parametrize("name", benches())
def test_the_bench_runs_at_smoke_size_and_writes_nothing(name, bench_database):
    before = RESULTS.read_bytes()
    done = run_smoke(name, bench_database)
    assert done.returncode == 0, (
        f"{' '.join(done.args[1:])} exited {done.returncode}\n"
        f"--- stdout ---\n{done.stdout[-2000:]}\n--- stderr ---\n{done.stderr[-4000:]}"
    )
    assert "(--smoke: not results)" in done.stdout, done.stdout[-2000:]
    assert RESULTS.read_bytes() == before, f"bench/{name}.py --smoke changed bench/RESULTS.md"


def test_a_recorded_run_replaces_only_its_own_section():
    from bench.harness import RESULTS_HEADER, replace_section

    document = replace_section(RESULTS_HEADER, "## A on SQLite", "## A on SQLite\n\n- 1\n")
    document = replace_section(document, "## A on PostgreSQL", "## A on PostgreSQL\n\n- 2\n")
    document = replace_section(document, "## A on SQLite", "## A on SQLite\n\n- 3\n")

    assert document.startswith(RESULTS_HEADER)
    assert document.count("## A on SQLite") == 1 and "- 1" not in document
    assert document.index("- 3") < document.index("- 2")  # kept in its place
