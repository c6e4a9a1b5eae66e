"""Throughput of the OpenID Connect provider under `dinhdanh serve --workers 2` (granian).

Load comes from `wrk` (Debian package `wrk`: apt-get install -y wrk) on 127.0.0.1, one Lua
script per scenario; the script stops with a clear message when wrk is missing. wrk runs on
the same machine as the server and takes some of its CPU. Scenarios, ~10 s each:

- client_credentials grants with EdDSA and with ML-DSA-65 access tokens (two clients; a
  client's ``--id-token-alg`` signs its ID tokens *and* its access tokens);
- authorization-code exchanges: codes are pre-minted by logging a demo citizen in once
  (password + TOTP + consent) and then replaying GET /authorize with that session cookie
  under wrk, each 303 carrying a fresh code; every exchange then spends one code (PKCE S256,
  ID token + access token + refresh token). The code lifetime is raised to 600 s
  (DINHDANH_AUTH_CODE_SECONDS) so that pre-minted codes stay valid; it changes no work;
- password logins: POST /login with a correct password for the demo citizens (their answer is
  the 303 to the second-factor page). Only failures count towards the per-account and
  per-IP throttles, so no throttle setting needs relaxing;
- userinfo with a live access token (scope ``openid``: no registry field is opened).

Each gives requests/s, p50 and p99 latency, and errors (any response but the expected one).

    .venv/bin/python benchmarks/oidc.py [--seconds 10] [--connections 32] [--postgres]

PostgreSQL (with --postgres): DINHDANH_BENCH_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1/postgres); a scratch database is created and dropped.
Without it the server uses SQLite in the data directory, the default of `dinhdanh serve`.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _load import WrkResult, lua_str, machine_line, require_wrk, run_wrk
from _measure import scratch_postgres
from dinhdanh.auth.oidc.token import s256
from dinhdanh.auth.totp import totp_at

EXE = str(Path(sys.executable).parent / "dinhdanh")
WORKERS = 2
SCOPE = "openid"
VERIFIER = "bench-" + "v" * 60  # one PKCE verifier for every pre-minted code (43..128 chars)
FORM = "application/x-www-form-urlencoded"

# Targets (per 2 vCPU) and the Keycloak peer's published sizing figures, quoted from
# Keycloak's "Concepts for sizing CPU and memory resources" guide: 120 client-credential
# grants/s and 15 password logins/s per vCPU. Quoted, not measured here.
TARGETS = {"cc_eddsa": 2000, "cc_mldsa65": 800, "password_login": 40}
KEYCLOAK_2VCPU = {"cc_eddsa": 240, "cc_mldsa65": 240, "password_login": 30}
LABELS = {
    "cc_eddsa": "client_credentials EdDSA",
    "cc_mldsa65": "client_credentials ML-DSA-65",
    "authorize_mint": "authorize (code issue)",
    "code_exchange": "authorization_code exchange",
    "password_login": "password login (step 1)",
    "userinfo": "userinfo",
}


def cli(env: dict[str, str], *args: str) -> Any:
    proc = subprocess.run([EXE, *args], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"dinhdanh {' '.join(args)} failed:\n{proc.stderr}")
    return json.loads(proc.stdout) if "--json" in args else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(
    env: dict[str, str], port: int, log: Path, workers: int = WORKERS
) -> Iterator[subprocess.Popen[bytes]]:
    cmd = [EXE, "serve", "--workers", str(workers), "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*cmd, "--log-level", "warning"],
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,  # its own process group: see the kill below
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited ({proc.returncode}):\n{log.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"no /healthz after 60 s:\n{log.read_text()}")
            time.sleep(0.2)
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)  # granian stops its workers; each signs the audit tip
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            # granian forks its workers; killing the master alone left one running (seen
            # here: an orphan worker served on for half an hour beside later runs).
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class Browser:
    """Just enough of a browser: cookies by hand (httpx keeps ``Secure`` cookies off http)."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        r = self.http.request(method, path, headers=headers, **kw)
        self.cookies |= dict(r.cookies.items())
        return r

    def csrf(self, html: str) -> str:
        m = re.search(r'name="csrf" value="([^"]+)"', html)
        if m is None:
            raise SystemExit("no CSRF field in the page")
        return m.group(1)


def expect(r: httpx.Response, status: int, what: str) -> httpx.Response:
    if r.status_code != status:
        raise SystemExit(f"{what}: HTTP {r.status_code}, expected {status}:\n{r.text[:500]}")
    return r


def code_of(r: httpx.Response) -> str:
    codes = parse_qs(urlsplit(r.headers["location"]).query).get("code")
    if not codes:
        raise SystemExit(f"no code in {r.headers['location']}")
    return codes[0]


def authorize_query(client: dict[str, str]) -> str:
    return urlencode(
        {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": client["redirect_uri"],
            "scope": SCOPE,
            "state": "bench",
            "nonce": "bench",
            "code_challenge": s256(VERIFIER),
            "code_challenge_method": "S256",
        }
    )


def log_in(b: Browser, person: dict[str, str], query: str) -> str:
    """Password, TOTP and consent for ``person``; returns the first code."""
    page = expect(b.send("GET", "/login"), 200, "GET /login").text
    form = {"id_number": person["id_number"], "password": person["password"]}
    form |= {"csrf": b.csrf(page), "next": "/authorize?" + query}
    r = expect(b.send("POST", "/login", data=form), 303, "password login")
    b32 = person["totp_secret"]
    secret = base64.b32decode(b32 + "=" * (-len(b32) % 8))
    form = {"code": totp_at(secret, int(time.time())), "csrf": form["csrf"]}
    form["next"] = "/authorize?" + query
    r = expect(b.send("POST", "/login/second-factor", data=form), 303, "second factor")
    r = b.send("GET", r.headers["location"])
    if r.status_code == 200:  # the consent page
        form = {"query": query, "csrf": b.csrf(r.text), "consent": "allow"}
        r = b.send("POST", "/authorize/consent", data=form)
    return code_of(expect(r, 303, "authorize"))


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def jwt_alg(token: str) -> str:
    head = token.split(".", maxsplit=1)[0]
    return str(json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["alg"])


def lua_client_credentials(auth: str) -> str:
    return f"""
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = {lua_str(FORM)}
wrk.headers["Authorization"] = {lua_str(auth)}
function check(status, headers, body) return status == 200 end
"""


def lua_mint(session_cookie: str, out_dir: Path) -> str:
    return f"""
wrk.headers["Cookie"] = {lua_str("__Host-dd_session=" + session_cookie)}
local out
function init(args)
  out = io.open({lua_str(str(out_dir))} .. "/minted-" .. tid .. ".txt", "w")
  out:setvbuf("line")
end
function check(status, headers, body)
  local loc = headers["location"] or headers["Location"] or ""
  local code = string.match(loc, "[?&]code=([^&]+)")
  if status ~= 303 or code == nil then return false end
  out:write(code, "\\n")
  return true
end
"""


def lua_exchange(auth: str, redirect_uri: str, in_dir: Path) -> str:
    suffix = "&" + urlencode({"redirect_uri": redirect_uri, "code_verifier": VERIFIER})
    return f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = {lua_str(FORM)}
wrk.headers["Authorization"] = {lua_str(auth)}
local codes, i = {{}}, 0
function init(args)
  for line in io.lines({lua_str(str(in_dir))} .. "/exchange-" .. tid .. ".txt") do
    codes[#codes + 1] = line
  end
end
function request()
  i = i + 1
  local code = codes[i]
  if code == nil then exhausted = exhausted + 1; code = "spent" end
  return wrk.format(nil, nil, nil, "grant_type=authorization_code&code=" .. code
    .. {lua_str(suffix)})
end
function check(status, headers, body) return status == 200 end
"""


def lua_logins(csrf_cookie: str, bodies: list[str]) -> str:
    items = ", ".join(lua_str(b) for b in bodies)
    return f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = {lua_str(FORM)}
wrk.headers["Cookie"] = {lua_str("__Host-dd_csrf=" + csrf_cookie)}
local bodies, i = {{{items}}}, 0
function request()
  i = i + 1
  return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1])
end
function check(status, headers, body)
  local loc = headers["location"] or headers["Location"] or ""
  return status == 303 and string.find(loc, "/login/second-factor", 1, true) ~= nil
end
"""


def lua_userinfo(token: str) -> str:
    return f"""
wrk.headers["Authorization"] = {lua_str("Bearer " + token)}
function check(status, headers, body) return status == 200 end
"""


def bench(args: argparse.Namespace, database_url: str | None) -> list[dict[str, Any]]:
    work = Path(tempfile.mkdtemp(prefix="dinhdanh-bench-oidc-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINHDANH_")}
    env |= {"DINHDANH_DATA_DIR": str(work / "data"), "DINHDANH_AUTH_CODE_SECONDS": "600"}
    if database_url:
        env["DINHDANH_DATABASE_URL"] = database_url
    try:
        return _bench(args, env, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bench(args: argparse.Namespace, env: dict[str, str], work: Path) -> list[dict[str, Any]]:
    t = time.perf_counter()
    cli(env, "init", "--json")
    demo = cli(env, "demo", "--json", "--count", str(args.population))
    clients: dict[str, Any] = {}
    for key, alg in (("cc_eddsa", "EdDSA"), ("cc_mldsa65", "ML-DSA-65")):
        clients[key] = cli(
            env,
            *("clients", "add", "--name", f"bench {alg}", "--grant", "client_credentials"),
            *("--id-token-alg", alg, "--json"),
        )
    print(f"set up data dir, demo population and clients in {time.perf_counter() - t:.1f} s")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    platform_client = demo["client"]
    people = demo["citizens"]
    platform_auth = basic(platform_client["client_id"], platform_client["client_secret"])
    run = {
        "seconds": args.seconds,
        "connections": args.connections,
        "threads": args.threads,
    }
    results: list[dict[str, Any]] = []

    def record(key: str, res: WrkResult) -> None:
        row = {
            "scenario": key,
            "requests_per_second": round(res.rate, 1),
            "p50_ms": round(res.p50_ms, 2),
            "p99_ms": round(res.p99_ms, 2),
            "errors": res.errors,
            "requests": res.requests,
            "statuses": res.statuses,
            "server_cpu_cores": round(res.server_cpu_cores, 2),
            "per_server_core": round(res.rate / res.server_cpu_cores)
            if res.server_cpu_cores
            else 0,
            "target": TARGETS.get(key),
            "keycloak_2vcpu_published": KEYCLOAK_2VCPU.get(key),
        }
        if res.exhausted:
            row["ran_out_of_codes"] = res.exhausted
        results.append(row)
        flag = "" if res.errors == 0 else f"   <-- {res.errors} ERRORS {res.statuses}"
        print(
            f"  {LABELS[key]:30} {res.rate:8,.0f}/s  p50 {res.p50_ms:7.2f} ms  "
            f"p99 {res.p99_ms:7.2f} ms  server CPU {res.server_cpu_cores:4.2f} cores{flag}",
            flush=True,
        )

    with server(env, port, work / "server.log") as proc:
        pid = proc.pid

        def load(path: str, lua: str, seconds: float | None = None) -> WrkResult:
            return run_wrk(
                base + path,
                lua,
                seconds=seconds or args.seconds,
                connections=args.connections,
                threads=args.threads,
                server_pid=pid,
            )

        # Sanity: each client's access token carries the algorithm it was registered with.
        for key, alg in (("cc_eddsa", "EdDSA"), ("cc_mldsa65", "ML-DSA-65")):
            c = clients[key]
            r = httpx.post(
                base + "/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": basic(c["client_id"], c["client_secret"])},
            )
            got = jwt_alg(expect(r, 200, f"token for {key}").json()["access_token"])
            if got != alg:
                raise SystemExit(f"{key}: access token signed with {got}, expected {alg}")
        warm = lua_client_credentials(
            basic(clients["cc_eddsa"]["client_id"], clients["cc_eddsa"]["client_secret"])
        )
        load("/token", warm, 3)  # warm-up: imports, pools, caches in both workers

        for key in ("cc_eddsa", "cc_mldsa65"):
            c = clients[key]
            auth = basic(c["client_id"], c["client_secret"])
            record(key, load("/token", lua_client_credentials(auth)))

        # Codes: one full login, then GET /authorize replayed under wrk, each 303 a new code.
        browser = Browser(base)
        query = authorize_query(platform_client)
        log_in(browser, people[0], query)
        codes_dir = work / "codes"
        codes_dir.mkdir()
        session_cookie = browser.cookies["__Host-dd_session"]
        mint_seconds = args.seconds * 1.5 + 2  # issuing is cheaper than exchanging
        record(
            "authorize_mint",
            load("/authorize?" + query, lua_mint(session_cookie, codes_dir), mint_seconds),
        )
        minted = [
            line for f in sorted(codes_dir.glob("minted-*.txt")) for line in f.read_text().split()
        ]
        for n in range(args.threads):
            part = minted[n :: args.threads]
            (codes_dir / f"exchange-{n + 1}.txt").write_text("\n".join(part) + "\n")
        print(f"  ({len(minted):,} codes minted for the exchange run)")
        record(
            "code_exchange",
            load("/token", lua_exchange(platform_auth, platform_client["redirect_uri"], codes_dir)),
        )

        page = expect(browser.send("GET", "/login"), 200, "GET /login").text
        bodies = [
            urlencode(
                {
                    "id_number": p["id_number"],
                    "password": p["password"],
                    "csrf": browser.csrf(page),
                    "next": "/account",
                }
            )
            for p in people
        ]
        record(
            "password_login", load("/login", lua_logins(browser.cookies["__Host-dd_csrf"], bodies))
        )

        code = code_of(expect(browser.send("GET", "/authorize?" + query), 303, "authorize"))
        form = {"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER}
        form["redirect_uri"] = platform_client["redirect_uri"]
        r = httpx.post(base + "/token", data=form, headers={"Authorization": platform_auth})
        access = expect(r, 200, "code exchange").json()["access_token"]
        record("userinfo", load("/userinfo", lua_userinfo(access)))
    return [row | run for row in results]


def table(results: list[dict[str, Any]]) -> str:
    head = (
        f"{'scenario':30} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'cores**':>7} {'/s/core':>7} {'target':>7} {'Keycloak*':>9}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        target = r["target"]
        mark = "" if target is None else (" ok" if r["requests_per_second"] >= target else " MISS")
        lines.append(
            f"{LABELS[r['scenario']]:30} {r['requests_per_second']:8,.0f} {r['p50_ms']:8.2f} "
            f"{r['p99_ms']:8.2f} {r['errors']:7d} {r['server_cpu_cores']:7.2f} "
            f"{r['per_server_core']:7,.0f} {'' if target is None else f'≥{target:,}':>7} "
            f"{r['keycloak_2vcpu_published'] or '':>9}{mark}"
        )
    lines.append(
        "* Keycloak's published sizing guide: 120 client-credential grants/s and 15 password "
        "logins/s per vCPU, shown for 2 vCPU; quoted, not measured here.\n"
        "** CPU seconds the server (all workers) used per wall second, and req/s per such core: "
        "when other processes share the machine, the server gets less than its 2 cores."
    )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10, help="length of each wrk run")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads")
    ap.add_argument("--population", type=int, default=2000, help="demo citizens in the registry")
    ap.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = ap.parse_args()
    require_wrk()
    print(machine_line())
    started = time.perf_counter()
    if not args.postgres:
        label, results = "sqlite", bench(args, None)
    else:
        with scratch_postgres() as url:
            label, results = "postgresql", bench(args, url)
    print(
        f"\ndatabase {label}, {WORKERS} granian workers, wrk -t{args.threads} "
        f"-c{args.connections} -d{args.seconds:g}s; wrk shares the machine with the server"
    )
    print(table(results))
    errors = sum(r["errors"] for r in results)
    if errors:
        print(f"\n!!! {errors} requests did not get the expected answer (see statuses) !!!")
    print(f"total {time.perf_counter() - started:.0f} s")
    for r in results:
        r["database"] = label
    print(json.dumps(results))


if __name__ == "__main__":
    main()
