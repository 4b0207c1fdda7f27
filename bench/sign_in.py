"""Issue 2's figures: IdP requests per steady-state sign-in, and sign-in throughput.

    .venv/bin/python bench/sign_in.py [--runs 5] [--sso 40] [--passwords 6]

1. HTTP requests the site makes to the IdP per steady-state sign-in (discovery and keys
   already cached): ours vs mozilla-django-oidc's defaults, in one run against the emulator.
   The browser's own hop to the authorize page is not the site's request and is not counted.
2. Whole-flow Entra sign-ins per second (browser → site → emulator → site) vs local password
   sign-ins per second with Django's default password hasher, in one run. Median of --runs.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time

import requests
from harness import (
    ROOT,
    emulator,
    emulator_process,
    free_port,
    machine,
    manage,
    site,
    site_environment,
)

sys.path.insert(0, str(ROOT))
from tests import people

ADMIN = people.person("Administrator")["oid"]
PASSWORD = "bench-password-long-enough"


def sign_in(base: str, location: str | None = None) -> None:
    with requests.Session() as browser:
        start = browser.get(base + "/oidc/authenticate/", allow_redirects=False, timeout=10)
        picked = browser.post(start.headers["Location"], data={"account": ADMIN},
                              allow_redirects=False, timeout=10)
        done = browser.get(picked.headers["Location"], allow_redirects=False, timeout=10)
        if done.status_code != 302 or (location and done.headers["Location"] != location):
            raise RuntimeError(f"sign-in failed: {done.status_code} {done.text[:200]}")


def site_requests_per_sign_in(emu, base: str, location: str | None, count: int = 5) -> float:
    sign_in(base, location)  # warm caches
    emu.reset_counts()
    for _ in range(count):
        sign_in(base, location)
    counts = {k: v for k, v in emu.request_counts.items() if k != "authorize"}
    return sum(counts.values()) / count, {k: v / count for k, v in counts.items()}


def password_sign_in(base: str) -> None:
    with requests.Session() as browser:
        page = browser.get(base + "/accounts/login/", timeout=10)
        token = page.cookies.get("csrftoken") or browser.cookies.get("csrftoken")
        done = browser.post(base + "/accounts/login/", allow_redirects=False, timeout=30, data={
            "csrfmiddlewaretoken": token, "username": "bench.local", "password": PASSWORD,
        })
        if done.status_code != 302:
            raise RuntimeError(f"password sign-in failed: {done.status_code}")


def rate(action, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        action()
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sso", type=int, default=40, help="Entra sign-ins per run")
    parser.add_argument("--passwords", type=int, default=6, help="password sign-ins per run")
    options = parser.parse_args()

    with emulator() as emu:  # in this process, so its request counts can be read
        env = site_environment(emu.base_url)
        with site(env, workers=1) as (base, _):
            ours, ours_detail = site_requests_per_sign_in(emu, base, None)
        vanilla_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.vanilla_settings"}
        with site(vanilla_env, workers=1) as (base, _):
            theirs, theirs_detail = site_requests_per_sign_in(emu, base, "/signed-in")

    with (
        emulator_process(free_port()) as authority,
        site(site_environment(authority)) as (base, site_env),
    ):
        create_local_user(site_env)
        sign_in(base)  # warm caches
        sso_rates, password_rates = [], []
        for _ in range(options.runs):
            sso_rates.append(rate(lambda: sign_in(base), options.sso))
            password_rates.append(rate(lambda: password_sign_in(base), options.passwords))

    sso, password = statistics.median(sso_rates), statistics.median(password_rates)
    print(f"# bench/sign_in.py — {datetime.date.today()} — {machine()}")
    print(f"command: .venv/bin/python bench/sign_in.py --runs {options.runs} "
          f"--sso {options.sso} --passwords {options.passwords}")
    print("IdP requests per steady-state sign-in:")
    print(f"  keyfax:                      {ours:.2f}  {ours_detail}")
    print(f"  mozilla-django-oidc default: {theirs:.2f}  {theirs_detail}")
    print(f"Sign-ins per second (median of {options.runs} runs):")
    print(f"  Entra, whole flow:  {sso:.1f}/s   runs: {[round(r, 1) for r in sso_rates]}")
    print(f"  password (default hasher): {password:.2f}/s   runs: "
          f"{[round(r, 2) for r in password_rates]}")
    print(f"  ratio: {sso / password:.1f}x")


def create_local_user(env: dict[str, str]) -> None:
    manage(env, "shell", "-c", (
        "from accounts.models import User; "
        "u = User.objects.create(username='bench.local'); "
        f"u.set_password('{PASSWORD}'); u.save()"
    ))


if __name__ == "__main__":
    main()
