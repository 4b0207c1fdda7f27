"""``make run``: migrate, load the demo data, start the Entra emulator and the site.

With no tenant configured (no ``ENTRA_TENANT_ID`` in the environment or ``.env``) the site
signs in against the development Entra emulator, so sign-in works with no Entra tenant.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEMO_TENANT_ID = "9b2c1d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"
DEMO_CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
# fixtures/*.json, loaded by every `make run` in this order (the role mappings name the
# demo Script Sets, so they come after demo_scripts)
DEMO_FIXTURES = ("demo", "demo_people", "demo_scripts", "demo_role_mappings")
DEMO_CLIENT_SECRET = "dev-emulator-secret-not-for-production"  # noqa: S105


def _configured_tenant() -> str:
    env_file = BASE_DIR / ".env"
    if os.environ.get("ENTRA_TENANT_ID"):
        return os.environ["ENTRA_TENANT_ID"]
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            name, _, value = line.partition("=")
            if name.strip() == "ENTRA_TENANT_ID" and value.strip():
                return value.strip()
    return ""


def _emulator_environment(emulator_port: int) -> dict[str, str]:
    authority = f"http://127.0.0.1:{emulator_port}"
    return {
        "ENTRA_AUTHORITY": authority,
        "ENTRA_GRAPH_URL": authority,
        "ENTRA_TENANT_ID": DEMO_TENANT_ID,
        "ENTRA_CLIENT_ID": DEMO_CLIENT_ID,
        "ENTRA_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        # The demo lets the people's app roles decide (the seeded role mappings), so each demo
        # person lands with permissions; set either to `authentication` to manage them in
        # User Maintenance instead.
        "KEYFAX_SSO_ADMIN_TOOL": os.environ.get(
            "KEYFAX_SSO_ADMIN_TOOL", "authentication_and_permissions"
        ),
        "KEYFAX_SSO_WEB_STAFF": os.environ.get(
            "KEYFAX_SSO_WEB_STAFF", "authentication_and_permissions"
        ),
        # The demo break-glass account (see README) signs in with a password.
        "KEYFAX_LOCAL_LOGIN": os.environ.get("KEYFAX_LOCAL_LOGIN", "true"),
        "DEBUG": "true",
    }


def _manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--emulator-port", type=int, default=8001)
    options = parser.parse_args()

    env = dict(os.environ)
    use_emulator = not _configured_tenant()
    if use_emulator:
        env.update(_emulator_environment(options.emulator_port))
    _manage("migrate", "--noinput", "-v", "0", env=env)
    _manage("loaddata", *DEMO_FIXTURES, "-v", "0", env=env)

    children: list[subprocess.Popen] = []
    if use_emulator:
        children.append(subprocess.Popen(
            [sys.executable, "manage.py", "entra_emulator", "--port", str(options.emulator_port)],
            cwd=BASE_DIR, env=env,
        ))
        time.sleep(1.0)
    children.append(subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{options.port}"],
        cwd=BASE_DIR, env=env,
    ))
    print(f"\n  Keyfax is running at http://127.0.0.1:{options.port}/", flush=True)
    if use_emulator:
        print(
            f"  Signing in through the development Entra emulator at "
            f"http://127.0.0.1:{options.emulator_port} (pick a demo person).", flush=True,
        )
    print("  Press Ctrl-C to stop.\n", flush=True)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    sys.exit(max((child.returncode or 0) for child in children) if children else 0)


if __name__ == "__main__":
    main()
