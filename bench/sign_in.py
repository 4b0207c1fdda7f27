"""Issue 2's figures: IdP requests per steady-state sign-in, and sign-in throughput.

    .venv/bin/python bench/sign_in.py [--runs 5] [--sso 40] [--passwords 6] [--record]
    .venv/bin/python bench/sign_in.py --smoke    # every path once, writes nothing

1. HTTP requests the site makes to the IdP per steady-state sign-in (discovery and keys
   already cached): ours vs mozilla-django-oidc's defaults, in one run against the emulator.
   The browser's own hop to the authorize page is not the site's request and is not counted.
2. Whole-flow Entra sign-ins per second (browser → site → emulator → site) vs local password
   sign-ins per second with Django's default password hasher, in one run. Median of --runs.
Every hop of every sign-in is checked (status, where it redirects, the session it leaves), so
a failed sign-in stops the bench instead of counting as a fast one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import requests
from harness import (
    ROOT,
    BenchFailure,
    arguments,
    check,
    emulator,
    emulator_process,
    expect,
    free_port,
    manage,
    publish,
    site,
    site_environment,
)

sys.path.insert(0, str(ROOT))
from tests import people

ADMIN = people.person("Administrator")["oid"]
PASSWORD = "bench-password-long-enough"


def sign_in(base: str, location: str = "/") -> None:
    """One whole Entra sign-in as a browser does it; every hop checked. ``location``: where
    the site sends a signed-in browser (Keyfax: ``/``)."""
    with requests.Session() as browser:
        start = expect(browser.get(base + "/oidc/authenticate/", allow_redirects=False,
                                   timeout=10), 302, what="sign-in start")
        authorize = start.headers.get("Location", "")
        check("/oauth2/v2.0/authorize" in authorize, f"sign-in start sent to {authorize!r}")
        picked = expect(browser.post(authorize, data={"account": ADMIN},
                                     allow_redirects=False, timeout=10), 302,
                        what="emulator authorize")
        callback = picked.headers.get("Location", "")
        check(callback.startswith(base) and "code=" in callback,
              f"the emulator sent the browser to {callback!r}")
        done = expect(browser.get(callback, allow_redirects=False, timeout=10), 302,
                      what="sign-in callback")
        check(done.headers.get("Location") == location,
              f"signed in, but sent to {done.headers.get('Location')!r}, not {location!r}")
        check(browser.cookies.get("sessionid"), "signed in, but no session cookie")


def site_requests_per_sign_in(emu, base: str, location: str,
                              count: int) -> tuple[float, dict[str, float]]:
    sign_in(base, location)  # warm caches
    emu.reset_counts()
    for _ in range(count):
        sign_in(base, location)
    counts = {k: v for k, v in emu.request_counts.items() if k != "authorize"}
    check(counts.get("token") == count, f"{count} sign-ins, {counts.get('token')} token calls")
    return sum(counts.values()) / count, {k: v / count for k, v in counts.items()}


def password_sign_in(base: str) -> None:
    with requests.Session() as browser:
        page = expect(browser.get(base + "/accounts/login/", timeout=10), 200,
                      'name="password"', what="password sign-in page")
        token = page.cookies.get("csrftoken") or browser.cookies.get("csrftoken")
        check(token, "no CSRF cookie on the sign-in page")
        done = browser.post(base + "/accounts/login/", allow_redirects=False, timeout=30, data={
            "csrfmiddlewaretoken": token, "username": "bench.local", "password": PASSWORD,
        })
        expect(done, 302, what="password sign-in")
        check(done.headers.get("Location") == "/",
              f"password sign-in sent to {done.headers.get('Location')!r}")
        check(browser.cookies.get("sessionid"), "password sign-in, but no session cookie")


def rate(action, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        action()
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sso", type=int, default=40, help="Entra sign-ins per run")
    parser.add_argument("--passwords", type=int, default=6, help="password sign-ins per run")
    parser.add_argument("--steady", type=int, default=5,
                        help="steady-state sign-ins whose IdP requests are counted")
    options = arguments(parser, smoke={"runs": 1, "sso": 2, "passwords": 1, "steady": 1})

    with emulator() as emu:  # in this process, so its request counts can be read
        env = site_environment(emu.base_url)
        with site(env, workers=1) as (base, _):
            ours, ours_detail = site_requests_per_sign_in(emu, base, "/", options.steady)
        vanilla_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.vanilla_settings"}
        with site(vanilla_env, workers=1) as (base, _):
            theirs, theirs_detail = site_requests_per_sign_in(emu, base, "/signed-in",
                                                              options.steady)

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
    publish(options, "Sign-in: IdP requests and throughput (issue 2)", [
        f"- IdP requests per steady-state sign-in ({options.steady} counted, caches warm):",
        f"  - Keyfax: {ours:.2f} {ours_detail}",
        f"  - mozilla-django-oidc defaults (baseline, same run): {theirs:.2f} {theirs_detail}",
        f"- Sign-ins per second, median of {options.runs} runs:",
        f"  - Entra, whole flow ({options.sso} a run): {sso:.1f}/s, runs "
        f"{[round(r, 1) for r in sso_rates]}",
        f"  - password, default hasher ({options.passwords} a run): {password:.2f}/s, runs "
        f"{[round(r, 2) for r in password_rates]}",
        f"  - ratio: {sso / password:.1f}x",
    ])


def create_local_user(env: dict[str, str]) -> None:
    manage(env, "shell", "-c", (
        "from accounts.models import User; "
        "u = User.objects.create(username='bench.local'); "
        f"u.set_password('{PASSWORD}'); u.save()"
    ))


if __name__ == "__main__":
    try:
        main()
    except BenchFailure as failure:
        raise SystemExit(f"bench/sign_in.py failed: {failure}") from failure
