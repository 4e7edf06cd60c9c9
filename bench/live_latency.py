"""Live delivery latency: an entry posted to the API reaches every open event stream.

    .venv/bin/python bench/live_latency.py [--streams 100] [--entries 50] [--wait 10]
        [--database-url postgres://user@127.0.0.1:5432/postgres] [--per-entry] [--logs DIR]

What it does, all on 127.0.0.1:

1. Prepares a new SITROOM_HOME in a temporary directory and runs `sitroom demo` there
   (migrations, demo scenario, user `demo` whose password lands in
   $SITROOM_HOME/demo_password), then `sitroom token create --user demo` for an API token.
   With --database-url a throwaway database `sitroom_bench_<random>` is created on that
   server (the role needs CREATEDB) and dropped at the end; the URL's own database is only
   used to connect.
2. Starts the real server, `sitroom serve --port <free port>`, as a subprocess (with
   PostgreSQL: two of them, on two ports, sharing the database).
3. Signs in through the login form (GET /login/ for the CSRF cookie, POST the form) and
   opens --streams event streams to /live/journal with that session cookie, each on its
   own connection; waits until every stream has said it is connected (subscribed).
4. Posts --entries entries one at a time with POST /api/v1/journal (Bearer token), each
   summary carrying its send time ("bench <phase> <i> <t_sent>", wall clock of this
   process, which also stamps the receipts). After each POST it waits until
   every stream has the entry (at most --wait seconds) before posting the next one.
   Latency of a delivery = time the stream received the event - send time.
   Baseline, same run: the round-trip time of the POST itself (successful ones). It is the
   reference, not a strict floor: the hub is woken on commit, so a delivery can arrive
   before the POST's own response does.
5. With PostgreSQL it repeats step 4 posting to the second server while the streams stay
   on the first, so the entries cross processes through LISTEN/NOTIFY.

Target: p95 delivery latency < 1 s, and deliveries = streams x entries (each phase).
With PostgreSQL the number of database connections the servers hold while the streams are
open is printed too. --per-entry prints each entry's POST RTT and first/median/last
delivery; --logs keeps the servers' logs. Exit status 0 only when every phase passes.
The servers are stopped at the end (SIGTERM, then SIGKILL, to their own process groups),
also on error or Ctrl-C; the temporary directory and throwaway database are removed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import free_port, machine, redact, throwaway_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SITROOM = ROOT / ".venv" / "bin" / "sitroom"
TARGET_P95 = 1.0
HOST = "127.0.0.1"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--streams", type=int, default=100, help="open event streams (100)")
    p.add_argument("--entries", type=int, default=50, help="entries posted per phase (50)")
    p.add_argument("--wait", type=float, default=10.0,
                   help="longest wait for one entry to reach every stream, seconds (10)")
    p.add_argument("--per-entry", action="store_true",
                   help="also print, per entry, the POST RTT and first/median/last delivery")
    p.add_argument("--logs", type=Path, help="copy the servers' logs into this directory")
    p.add_argument("--database-url", help="postgres://... (a throwaway database is created "
                                          "on that server); SQLite in a temp dir if omitted")
    args = p.parse_args(argv)
    if not (1 <= args.streams <= 1000 and 1 <= args.entries <= 10_000 and args.wait > 0):
        p.error("--streams 1..1000, --entries 1..10000, --wait > 0")
    return args


# --- servers ---------------------------------------------------------------------------

@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def run_cli(env, *args: str, timeout: float = 300) -> str:
    done = subprocess.run([str(SITROOM), *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"sitroom {' '.join(args)} failed ({done.returncode}):\n"
                           f"{done.stdout}\n{done.stderr}")
    return done.stdout


def start_server(env, name: str, home: Path) -> Server:
    port = free_port()
    log = home / f"server-{name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(SITROOM), "serve", "--host", HOST, "--port", str(port)],
                                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    return Server(name, port, proc, log)


def wait_ready(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"server {server.name} exited ({server.proc.returncode}):\n"
                               + tail(server.log))
        try:
            if httpx.get(server.url + "/login/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server {server.name} not ready after {timeout:.0f} s:\n"
                       + tail(server.log))


def stop_server(server: Server) -> None:
    """SIGTERM to the server's own process group (it was started in a new session), then KILL."""
    if server.proc.poll() is not None:
        return
    try:
        os.killpg(server.proc.pid, signal.SIGTERM)
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- streams -----------------------------------------------------------------------------

@dataclass
class Phase:
    name: str
    entries: int
    streams: int
    sent: dict[int, float] = field(default_factory=dict)      # i -> send time
    rtt: dict[int, float] = field(default_factory=dict)        # i -> POST round trip (201s)
    latencies: list[float] = field(default_factory=list)
    by_entry: dict[int, list[float]] = field(default_factory=dict)
    got: dict[int, set[int]] = field(default_factory=dict)     # i -> streams that got it
    duplicates: int = 0
    waiters: dict[int, asyncio.Event] = field(default_factory=dict)

    def received(self, stream: int, i: int, sent_at: float, now: float) -> None:
        seen = self.got.setdefault(i, set())
        if stream in seen:
            self.duplicates += 1
            return
        seen.add(stream)
        self.latencies.append(now - sent_at)
        self.by_entry.setdefault(i, []).append(now - sent_at)
        if len(seen) == self.streams and i in self.waiters:
            self.waiters[i].set()

    @property
    def deliveries(self) -> int:
        return sum(len(s) for s in self.got.values())


class Streams:
    """N event streams on one session; routes each bench entry to the current phase."""

    def __init__(self, base_url: str, cookies: httpx.Cookies, n: int):
        self.base_url, self.n = base_url, n
        self.client = httpx.AsyncClient(
            base_url=base_url, cookies=cookies,
            limits=httpx.Limits(max_connections=n + 5, max_keepalive_connections=n + 5),
            timeout=httpx.Timeout(10.0, read=120.0))
        self.connected = 0
        self.all_connected = asyncio.Event()
        self.phases: dict[str, Phase] = {}
        self.tasks: list[asyncio.Task] = []
        self.errors: list[str] = []

    async def open(self, timeout: float) -> None:
        self.tasks = [asyncio.create_task(self._stream(k)) for k in range(self.n)]
        try:
            await asyncio.wait_for(self.all_connected.wait(), timeout)
        except TimeoutError:
            raise RuntimeError(f"only {self.connected} of {self.n} streams connected within "
                               f"{timeout:.0f} s; errors: {self.errors[:3]}") from None

    async def _stream(self, k: int) -> None:
        try:
            async with self.client.stream("GET", "/live/journal",
                                          headers={"Accept": "text/event-stream"}) as resp:
                if resp.status_code != 200:
                    self.errors.append(f"stream {k}: HTTP {resp.status_code}")
                    return
                event, data = None, []
                async for line in resp.aiter_lines():
                    if line.startswith(": connected"):
                        self.connected += 1
                        if self.connected == self.n:
                            self.all_connected.set()
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].lstrip())
                    elif line == "":
                        if event == "entry" and data:
                            self._dispatch(k, "\n".join(data), time.time())
                        event, data = None, []
        except (httpx.HTTPError, asyncio.CancelledError) as exc:
            if not isinstance(exc, asyncio.CancelledError):
                self.errors.append(f"stream {k}: {exc!r}")
            raise

    def _dispatch(self, k: int, data: str, now: float) -> None:
        summary = json.loads(data).get("summary", "")
        parts = summary.split()
        if len(parts) != 4 or parts[0] != "bench":
            return  # not one of ours
        phase = self.phases.get(parts[1])
        if phase is not None:
            phase.received(k, int(parts[2]), float(parts[3]), now)

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.aclose()


async def login(base_url: str, password: str) -> httpx.Cookies:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        page = await client.get("/login/")
        page.raise_for_status()
        csrf = client.cookies.get("csrftoken")
        if not csrf:
            raise RuntimeError("GET /login/ set no csrftoken cookie")
        resp = await client.post("/login/", data={
            "username": "demo", "password": password, "csrfmiddlewaretoken": csrf})
        if resp.status_code != 302 or "sessionid" not in client.cookies:
            raise RuntimeError(f"login failed: HTTP {resp.status_code}")
        return client.cookies


async def post_entries(phase: Phase, post_url: str, token: str, wait: float) -> list[str]:
    problems: list[str] = []
    async with httpx.AsyncClient(base_url=post_url, timeout=10,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        await client.get("/api/v1/me")  # open the connection before timing
        for i in range(phase.entries):
            phase.waiters[i] = asyncio.Event()
            t_sent = time.time()
            phase.sent[i] = t_sent
            t0 = time.perf_counter()
            try:
                resp = await client.post("/api/v1/journal", json={
                    "kind": "note", "summary": f"bench {phase.name} {i} {t_sent:.6f}",
                    "area": "KZ-ALA"})
            except httpx.HTTPError as exc:
                problems.append(f"{phase.name} entry {i}: {exc!r}")
                if len(problems) >= 5:
                    break
                continue
            elapsed = time.perf_counter() - t0
            if resp.status_code == 201:
                phase.rtt[i] = elapsed
            else:
                title = re.search(r"<title>(.*?)</title>", resp.text, re.S)
                text = title.group(1) if title else " ".join(resp.text.split())[:160]
                problems.append(f"{phase.name} entry {i}: HTTP {resp.status_code} {text}")
                if len(problems) >= 5:
                    problems.append(f"{phase.name}: stopped after 5 problems")
                    break
                continue
            try:
                await asyncio.wait_for(phase.waiters[i].wait(), wait)
            except TimeoutError:
                got = len(phase.got.get(i, ()))
                problems.append(f"{phase.name} entry {i}: {got} of {phase.streams} streams "
                                f"within {wait:.0f} s")
        # anything still in flight (e.g. after a timeout) gets one last chance
        await asyncio.sleep(0.5)
    return problems


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def report(phase: Phase, label: str, per_entry: bool = False) -> bool:
    expected = phase.streams * phase.entries
    lat, rtt = phase.latencies, list(phase.rtt.values())
    p95 = pct(lat, 95)
    ok = phase.deliveries == expected and phase.duplicates == 0 and p95 < TARGET_P95
    ms = lambda s: f"{s * 1000:8.1f} ms"  # noqa: E731
    print(f"\n  {label}")
    print(f"    deliveries          {phase.deliveries:>8,} of {expected:,} expected "
          f"({phase.streams} streams x {phase.entries} entries), duplicates {phase.duplicates}")
    print(f"    delivery latency    p50 {ms(pct(lat, 50))}   p95 {ms(p95)}   "
          f"max {ms(max(lat) if lat else float('nan'))}")
    print(f"    baseline POST RTT   ({len(rtt)} of {phase.entries} POSTs answered 201)\n"
          f"                        p50 {ms(pct(rtt, 50))}   p95 {ms(pct(rtt, 95))}   "
          f"max {ms(max(rtt) if rtt else float('nan'))}")
    if per_entry:
        for i in range(phase.entries):
            got = sorted(phase.by_entry.get(i, []))
            if got:
                post = ms(phase.rtt.get(i, float("nan")))
                print(f"      entry {i:4d}: POST {post}   first {ms(got[0])}   "
                      f"median {ms(got[len(got) // 2])}   last {ms(got[-1])}   n={len(got)}")
    ratio = p95 / pct(rtt, 95) if rtt else float("nan")
    print(f"    ratio p95 delivery / p95 POST RTT   {ratio:6.1f} x")
    print(f"    target p95 < {TARGET_P95 * 1000:.0f} ms and all delivered: "
          f"{'PASS' if ok else 'FAIL'}")
    return ok


def journal_size(home: Path, url: str | None) -> int:
    """Entries in the journal before the benchmark posts anything (the demo's and the token's)."""
    query = "SELECT count(*) FROM core_journalentry"
    if url:
        import psycopg

        with psycopg.connect(url) as conn:
            return conn.execute(query).fetchone()[0]
    import sqlite3

    with sqlite3.connect(home / "sitroom.sqlite3") as conn:
        return conn.execute(query).fetchone()[0]


def pg_connections(url: str) -> str:
    """How many connections the servers hold on the database, and the server's limit."""
    import psycopg

    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        return "cannot even connect to count them: " + " ".join(str(exc).split())[-60:]
    with conn:
        held = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                            "current_database() AND pid <> pg_backend_pid()").fetchone()[0]
        limit = conn.execute("SHOW max_connections").fetchone()[0]
    return f"{held} held on the database (server max_connections = {limit})"


async def measure(args, servers: list[Server], password: str, token: str,
                  db_url: str | None = None) -> bool:
    stream_server = servers[0]
    cookies = await login(stream_server.url, password)
    streams = Streams(stream_server.url, cookies, args.streams)
    ok = True
    try:
        t0 = time.perf_counter()
        await streams.open(timeout=60)
        print(f"  {args.streams} streams open and subscribed in "
              f"{time.perf_counter() - t0:.2f} s")
        if db_url:
            await asyncio.sleep(0.5)
            print(f"  PostgreSQL connections with the streams open: {pg_connections(db_url)}")
        plan = [("same", servers[0], "same process: POST and streams on one server "
                 f"(port {servers[0].port})")]
        if len(servers) > 1:
            plan.append(("cross", servers[1], "cross process: POST to server B "
                         f"(port {servers[1].port}), streams on server A "
                         f"(port {servers[0].port}), via LISTEN/NOTIFY"))
        for name, target, label in plan:
            phase = Phase(name, args.entries, args.streams)
            streams.phases[name] = phase
            problems = await post_entries(phase, target.url, token, args.wait)
            ok = report(phase, label, args.per_entry) and ok
            for p in problems[:10]:
                print(f"    problem: {p}")
            if streams.errors:
                print(f"    stream errors: {streams.errors[:5]}")
                ok = False
    finally:
        await streams.close()
    return ok


def main(argv=None) -> int:
    args = parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="sitroom-live-bench-"))
    drop = None
    servers: list[Server] = []

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SITROOM_")}
        env.update(SITROOM_HOME=str(home), SITROOM_LOG_LEVEL="WARNING",
                   DJANGO_SETTINGS_MODULE="sitroom.settings")
        where, url = "SQLite (WAL) in " + str(home), None
        if args.database_url:
            url, drop = throwaway_database(args.database_url)
            env["SITROOM_DATABASE_URL"] = url
            where = "PostgreSQL, throwaway database " + redact(url)
        print(f"live delivery latency benchmark: {args.streams} streams, "
              f"{args.entries} entries per phase")
        print(f"  database: {where}")
        print(f"  machine:  {machine()}")
        t0 = time.perf_counter()
        run_cli(env, "demo")
        password = (home / "demo_password").read_text(encoding="utf-8").strip()
        token = run_cli(env, "token", "create", "--user", "demo", "--name", "bench").strip()
        print(f"  prepared (sitroom demo, token) in {time.perf_counter() - t0:.1f} s; "
              f"journal holds {journal_size(home, url):,} entries")
        servers.append(start_server(env, "A", home))
        if args.database_url:
            servers.append(start_server(env, "B", home))
        for s in servers:
            wait_ready(s)
        print("  servers: " + ", ".join(f"{s.name} pid {s.proc.pid} port {s.port}"
                                        for s in servers))
        ok = asyncio.run(measure(args, servers, password, token, url))
        for s in servers:
            if s.proc.poll() is not None:
                print(f"  server {s.name} died during the run")
                ok = False
            if not ok and tail(s.log):
                print(f"  --- last lines of server {s.name}'s log ---\n{tail(s.log)}")
        print("\n  note: the client (this process) shares the 2 cores with the server(s); "
              "its own parsing of the events is inside the measured latency.")
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        for s in servers:
            stop_server(s)
        if args.logs:
            args.logs.mkdir(parents=True, exist_ok=True)
            for s in servers:
                shutil.copy(s.log, args.logs / s.log.name)
        if drop is not None:
            try:
                drop()
            except Exception as exc:  # noqa: BLE001 - report, still remove the directory
                print(f"could not drop the throwaway database: {exc}", file=sys.stderr)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
