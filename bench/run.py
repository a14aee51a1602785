#!/usr/bin/env python3
"""paydesk's benchmark suite: the same reads served by paydesk, by PostGraphile over the same PostgreSQL database,
and run as plain SQL by pgbench (the ceiling), then approvals and webhook ingest against pgbench running the same
transaction; then the same reads and writes on a SQLite copy of the data set against the same SQL run in process.
Prints requests per second and p50/p99 latency for each at 1, 8 and 32 connections, and the ratios the goals are
stated in. Each figure is the median of ROUNDS runs, the sides taking turns, so that a few seconds in which the
shared host is slow land on one run of one side and not on the verdict. See bench/README.md for what is
measured and how to read it.

    bench/run.py                       # everything (about 25 minutes on the 2-core project machine)
    DURATION=3 ROUNDS=1 CONNS="1 8" bench/run.py
    ONLY=webhooks bench/run.py         # just webhook ingest on PostgreSQL (also: reads, sockets, approvals,
                                       # reconcile; several: ONLY="webhooks reconcile")
    DATABASES=sqlite bench/run.py      # just SQLite (default: "postgres sqlite")
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/paydesk_bench?sslmode=disable  (dropped and re-created!)
    BENCH_STRICT=1 BENCH_SCALE=100 BENCH_PROFILE=debug DURATION=1 ROUNDS=1 CONNS="1 2" SOCKETS=20 bench/run.py
                                       # the smoke run .ci/run makes: every part on a data set a hundredth the
                                       # size, on the test build; it checks the suite still runs, not speed

Needs: cargo, psql, pgbench, wrk (apt-get install wrk), node and npm (PostGraphile 4.14.1 is installed into
~/.cache/paydesk-bench on first use); Python's websockets (for the memory per WebSocket) and, for SQLite,
pysqlite3-binary (the ceiling runs the SQLite version paydesk links) are installed with pip when missing. The data set comes from
bench/generate-postgres.sql.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Without TLS, as PostGraphile's driver connects by default: all three clients talk to PostgreSQL alike.
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/paydesk_bench?sslmode=disable")
# Divides the data set's every count (`generate-postgres.sql`): 100 is the smoke run's (a few thousand rows).
SCALE = int(os.environ.get("BENCH_SCALE", "1"))
# Any answer that is an error stops the run (the smoke run's check that every shape still works).
STRICT = os.environ.get("BENCH_STRICT") == "1"
DURATION = int(os.environ.get("DURATION", "5"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
CONNS = [int(c) for c in os.environ.get("CONNS", "1 8 32").split()]


def free_port():
    """A port nothing listens on now: several runs, or anything else on the machine, never collide."""
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Each side's port: given (`PAYDESK_PORT`, `POSTGRAPHILE_PORT`, `SQLITE_PORT`), or a free one.
PAYDESK_PORT = int(os.environ.get("PAYDESK_PORT") or free_port())
POSTGRAPHILE_PORT = int(os.environ.get("POSTGRAPHILE_PORT") or free_port())
WEBHOOK_SECRET = "bench-webhook-secret"
# The history's signing key (a seed made for the suite, nothing else's): the server signs checkpoints with it and
# `paydesk verify --since` checks them.
HISTORY_KEY = "6a1f3c5e7b9d2f4a6c8e0b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a"
CACHE = Path.home() / ".cache" / "paydesk-bench"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "paydesk-target"))
# `dist`, the fully optimised build production runs, unless told otherwise: `release` (the quick build `cargo run
# --release` makes) to see what it gives, `debug` for the test build (a smoke run checks the suite still works; its
# figures mean nothing).
PROFILE = os.environ.get("BENCH_PROFILE", "dist")
BINARY = TARGET / PROFILE / "paydesk"
WORK = Path(tempfile.mkdtemp(prefix="paydesk-bench-"))


def sh(*args, **kw):
    """Runs a tool; when it fails, stops the run with the tool's own words (pgbench's "too many clients already", say),
    not a bare exit status."""
    done = subprocess.run(args, text=True, capture_output=True, **kw)
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip())[-2000:]
        sys.exit(f"{Path(args[0]).name} {' '.join(map(str, args[1:4]))} ... failed (exit {done.returncode}):\n{said}")
    return done.stdout


def admin_url():
    base, _ = URL.rsplit("/", 1)
    return base + "/postgres"


def fresh_database():
    name = URL.rsplit("/", 1)[1].split("?")[0]
    sh("psql", admin_url(), "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    sh("psql", admin_url(), "-qc", f"CREATE DATABASE {name}")
    paydesk = str(BINARY)
    # The data set is written as books were kept before the journal: migrating again carries them over into the
    # journal, as it does an existing deployment's, and reconcile checks the result.
    sh(paydesk, "migrate", "--database-url", URL)
    status = sh(paydesk, "migrate", "--database-url", URL, "status").split()
    names = [word for word in status if re.fullmatch(r"m\d{8}_\d{6}_\w+", word)]
    since = len(names) - names.index("m20261206_000001_journal")
    sh(paydesk, "migrate", "--database-url", URL, "down", str(since))
    started = time.time()
    sh("psql", URL, "-q", "-v", "ON_ERROR_STOP=1", "-v", f"scale={SCALE}", "-f",
       str(ROOT / "bench" / "generate-postgres.sql"))
    print(f"data set generated in {time.time() - started:.0f} s", flush=True)
    started = time.time()
    sh(paydesk, "migrate", "--database-url", URL)
    # The journal the migration wrote gets its statistics as autovacuum would give them: without them PostgreSQL
    # guesses thousands of lines an entry and compiles each journal read with its JIT (50 ms instead of 1).
    sh("psql", URL, "-qc", "VACUUM (ANALYZE)")
    print(f"journal carried over in {time.time() - started:.0f} s", flush=True)


def wait_for(url, body=None, headers=None):
    for _ in range(300):
        try:
            req = urllib.request.Request(url, data=body, headers=headers or {})
            urllib.request.urlopen(req, timeout=2).read()
            return
        except Exception:
            time.sleep(0.2)
    sys.exit(f"{url} never answered")


def paydesk_env(database_url, port):
    """The environment a benchmarked paydesk runs in."""
    return dict(os.environ, JWT_SECRET="bench", PAYDESK_ADDR=f"127.0.0.1:{port}", RUST_LOG="warn",
                DATABASE_URL=database_url, PAYDESK_MAX_SOCKETS_PER_IP="100000", CASHFREE_CLIENT_SECRET=WEBHOOK_SECRET,
                # One client sends thousands of requests a second: budgets no run can spend, still checked each time.
                PAYDESK_RATE_LIMIT_PER_ADDRESS="1000000000", PAYDESK_RATE_LIMIT_PER_CALLER="1000000000",
                PAYDESK_RATE_LIMIT_MONEY="1000000000",
                # Signed checkpoints every few seconds, so that `verify --since` has one of the heads it is shown.
                PAYDESK_HISTORY_SIGNING_KEY=HISTORY_KEY, PAYDESK_HISTORY_CHECKPOINT="5s")


def serve_paydesk(database_url, port):
    """A release paydesk on `database_url`, answering at `port` once this returns."""
    proc = subprocess.Popen([str(BINARY), "serve"], env=paydesk_env(database_url, port),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(f"http://127.0.0.1:{port}/healthz")
    return proc


def admin_token(binary=None):
    """An admin's token for a benchmarked paydesk (signed with its `JWT_SECRET`), made by `binary`'s `token`."""
    binary = binary or str(BINARY)
    return sh(binary, "token", "--role", "admin", "--sub", "0193a000-0000-7000-8000-0000000000aa", "--ttl", "2h",
              env=dict(os.environ, JWT_SECRET="bench")).strip()


def start_paydesk():
    proc, token = serve_paydesk(URL, PAYDESK_PORT), admin_token()
    linked(PAYDESK_PORT, token, "PostgreSQL")
    return proc, token


def linked(port, token, label):
    """Waits until paydesk has linked every row of the data set into its history chains (a new deployment links
    its existing history once, in the background), so that no run measures that backlog."""
    started = time.time()
    query = {"query": "{ historyCheckpoint { chains { seq unlinked } } }"}
    before = None
    while True:
        try:
            chains = graphql(port, query, token)["data"]["historyCheckpoint"]["chains"]
        except RuntimeError as e:
            # While a SQLite copy's whole history is linked, the single writer may keep a read waiting past the
            # request timeout: ask again.
            if "TIMEOUT" not in str(e):
                raise
            time.sleep(1)
            continue
        before = sum(c["seq"] for c in chains) if before is None else before
        if all(c["unlinked"] == 0 for c in chains):
            break
        time.sleep(1)
    links = sum(c["seq"] for c in chains)
    took = time.time() - started
    rate = f", {1e6 * took / (links - before):.0f} µs a row" if links > before else ""
    print(f"history ({label}): {links - before:,} rows linked in {took:.0f} s ({links:,} in all){rate}", flush=True)


def start_postgraphile():
    binary = CACHE / "node_modules" / ".bin" / "postgraphile"
    if not binary.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        sh("npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), "postgraphile@4.14.1")
    proc = subprocess.Popen([str(binary), "-c", URL, "--schema", "public", "--host", "127.0.0.1", "--port",
                             str(POSTGRAPHILE_PORT), "--disable-query-log", "--max-pool-size", "32"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(f"http://127.0.0.1:{POSTGRAPHILE_PORT}/graphql", b'{"query":"{__typename}"}',
             {"content-type": "application/json"})
    return proc


def one(sql):
    return sh("psql", URL, "-Atc", sql).strip()


def graphql(port, body, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps(body).encode(), headers=headers)
    try:
        return json.loads(urllib.request.urlopen(req).read())
    except urllib.error.HTTPError as e:
        # Say what paydesk said, not only its status.
        raise RuntimeError(f"paydesk at port {port} answered {e.code}: {e.read().decode(errors='replace')[:500]}")


def wrk(port, body, token, conns, lua_extra="", duration=None):
    script = WORK / "wrk.lua"
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"\n' if token else ""
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n' + auth
        + f"wrk.body = {json.dumps(json.dumps(body))}\n" + lua_extra
        + 'function response(status, headers, body)\n  if status ~= 200 or body:find("\\"errors\\"") then\n'
        + '    io.stderr:write(body:sub(1, 300) .. "\\n")\n  end\nend\n')
    threads = min(conns, 2)
    done = subprocess.run(["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{duration or DURATION}s", "--latency", "-s",
                           str(script), f"http://127.0.0.1:{port}/graphql"], text=True, capture_output=True)
    if done.returncode != 0:
        sys.exit(f"wrk against port {port} failed (exit {done.returncode}):\n{(done.stderr or done.stdout)[-2000:]}")
    out = done.stdout
    if done.stderr.strip():
        failed = len(done.stderr.strip().split("\n"))
        said = f"{failed} answers were errors, e.g. {done.stderr.strip().splitlines()[0][:200]}"
        if STRICT:
            sys.exit(f"paydesk at port {port}: {said}")
        print(f"  !! {said}", flush=True)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    return rps, ms(pct["50"]), ms(pct["99"])


def median_run(runs):
    """Of several runs' (per second, p50, p99), the one with the median rate (the upper one of an even count)."""
    return sorted(runs)[len(runs) // 2]


def rounds(*sides):
    """Each side (a function running one measurement) run ROUNDS times, taking turns; each side's median run."""
    runs = [[] for _ in sides]
    for _ in range(ROUNDS):
        for side, got in zip(sides, runs):
            got.append(side())
    return [median_run(r) for r in runs]


def ms(text):
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def pgbench(sql, conns, duration=None):
    script = WORK / "q.sql"
    script.write_text(sql)
    logs = WORK / "pgbench_log"
    for old in WORK.glob("pgbench_log*"):
        old.unlink()
    out = sh("pgbench", "-n", "-f", str(script), "-c", str(conns), "-j", str(min(conns, 2)), "-T",
             str(duration or DURATION), "--log", f"--log-prefix={logs}", URL, cwd=WORK)
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    latencies = sorted(int(line.split()[2]) for f in WORK.glob("pgbench_log*") for line in f.read_text().split("\n")
                       if line.strip())
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] / 1000.0
    return tps, pick(0.50), pick(0.99)


def main():
    for tool in ("wrk", "pgbench", "psql", "npm"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed (wrk: apt-get install wrk)")
    build = ["cargo", "build", "-q", "--bin", "paydesk"] + ([] if PROFILE == "debug" else ["--profile", PROFILE])
    subprocess.run(build, cwd=ROOT, check=True, env=dict(os.environ, CARGO_TARGET_DIR=str(TARGET)))
    if not os.environ.get("SKIP_GENERATE"):
        fresh_database()
    databases = os.environ.get("DATABASES", "postgres sqlite").split()
    if "sqlite" in databases:
        copy_to_sqlite()
    paydesk, token = start_paydesk()
    postgraphile = start_postgraphile()
    try:
        only = set(os.environ.get("ONLY", "").split())

        def wanted(part):
            return not only or part in only

        postgres_writes = "postgres" in databases and (wanted("approvals") or wanted("webhooks"))
        if "postgres" in databases and wanted("reads"):
            reads(token, paydesk.pid)
        if "postgres" in databases and wanted("sockets"):
            sockets(token, paydesk.pid)
        # After PostgreSQL's reads, which see the data set as generated; SQLite copies the work after its own reads.
        if "postgres" in databases and wanted("reconcile"):
            verified_now(token)
        if postgres_writes or "sqlite" in databases:
            more_work()
        if "postgres" in databases:
            if wanted("approvals"):
                approvals(token)
            if wanted("webhooks"):
                webhooks()
            if wanted("reconcile"):
                reconcile()
        if "sqlite" in databases:
            sqlite_suite(token)
    finally:
        for proc in (paydesk, postgraphile):
            proc.terminate()


COLS = "id amount currency status createdAt freelancerId"


SOCKETS = int(os.environ.get("SOCKETS", "1000"))


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def sockets(token, pid):
    """What paydesk's resident memory grows by per WebSocket: SOCKETS sockets opened and initialised
    (graphql-transport-ws, acknowledged), then each given a `payoutRequested` subscription; memory read once every
    socket has been answered and the server had a second to settle."""
    import asyncio
    websockets = installed("websockets", "websockets", "the memory per WebSocket is measured with it")

    async def measure():
        url = f"ws://127.0.0.1:{PAYDESK_PORT}/graphql/ws"
        init = json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        subscribe = json.dumps({"id": "1", "type": "subscribe",
                                "payload": {"query": "subscription { payoutRequested { id } }"}})
        await asyncio.sleep(1)
        before = rss_kib(pid)

        async def open_one():
            ws = await websockets.connect(url, subprotocols=["graphql-transport-ws"], ping_interval=None)
            await ws.send(init)
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            return ws

        held = []
        for start in range(0, SOCKETS, 100):
            held += await asyncio.gather(*(open_one() for _ in range(min(100, SOCKETS - start))))
        await asyncio.sleep(1)
        idle = rss_kib(pid)
        for ws in held:
            await ws.send(subscribe)
        await asyncio.sleep(1)
        subscribed = rss_kib(pid)
        await asyncio.gather(*(ws.close() for ws in held))
        return before, idle, subscribed

    before, idle, subscribed = asyncio.run(measure())
    print(f"\nWebSockets: {SOCKETS} open and initialised added {(idle - before) / 1024:.1f} MiB to paydesk's resident "
          f"memory, {(idle - before) / SOCKETS:.1f} KiB per idle socket; with one subscription each, "
          f"{(subscribed - before) / SOCKETS:.1f} KiB per socket", flush=True)


def reconcile():
    """`paydesk reconcile` over at least a million ledger rows (divided by `SCALE`): the data set's after the writes, plus balanced filler
    (a credit and its reversal on one wallet, dated before the data set, so no balance or read changes), removed
    afterwards."""
    have = int(one("SELECT count(*) FROM wallet_transactions"))
    pairs = max(0, (1_000_000 // SCALE - have + 1) // 2)
    sh("psql", URL, "-q", "-v", "ON_ERROR_STOP=1", "-c", f"""
        INSERT INTO wallet_transactions (id, wallet_id, kind, amount, balance_after, reference, description, created_at)
        SELECT gen_random_uuid(), w.id, 'adjustment', s.sign * (100 + g % 900), 0, 'filler:' || g || ':' || s.sign,
               'bench filler', now() - interval '90 days' + g * interval '1 second'
        FROM generate_series(1, {pairs}) AS g
        CROSS JOIN (VALUES (1), (-1)) AS s(sign)
        JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM freelancer_wallets) AS w
          ON w.n = g % (SELECT count(*) FROM freelancer_wallets)""")
    sh("psql", URL, "-q", "-v", "ON_ERROR_STOP=1", "-c", """
        INSERT INTO journal_entries (id, kind, reference, description, created_at)
        SELECT id, 'adjustment', reference, description, created_at FROM wallet_transactions
        WHERE reference LIKE 'filler:%'""")
    sh("psql", URL, "-q", "-v", "ON_ERROR_STOP=1", "-c", """
        INSERT INTO journal_postings (entry_id, line, account, wallet_id, currency, amount)
        SELECT t.id, 1, 'wallet', t.wallet_id, 'INR', t.amount FROM wallet_transactions t WHERE t.reference LIKE 'filler:%'
        UNION ALL
        SELECT t.id, 2, 'adjustments', NULL, 'INR', -t.amount FROM wallet_transactions t
        WHERE t.reference LIKE 'filler:%'""")
    sh("psql", URL, "-qc", "VACUUM ANALYZE wallet_transactions, journal_entries, journal_postings")
    rows = int(one("SELECT count(*) FROM wallet_transactions"))
    took, verdict = checked("reconcile")
    print(f"\nreconcile: {rows:,} ledger rows checked in {took:.1f} s, {verdict}", flush=True)
    # The filler goes as it came, around paydesk: its journal rows are history, whose triggers refuse deletion to
    # anyone who does not switch them off (a superuser may, for this session only).
    sh("psql", URL, "-qc", "SET session_replication_role = replica; DELETE FROM journal_postings WHERE entry_id IN "
       "(SELECT id FROM journal_entries WHERE reference LIKE 'filler:%')")
    sh("psql", URL, "-qc", "SET session_replication_role = replica; "
       "DELETE FROM journal_entries WHERE reference LIKE 'filler:%'")
    sh("psql", URL, "-qc", "DELETE FROM wallet_transactions WHERE reference LIKE 'filler:%'")
    sh("psql", URL, "-qc", "VACUUM ANALYZE wallet_transactions, journal_entries, journal_postings")
    links = int(one("SELECT count(*) FROM history_links"))
    took, verdict = checked("verify")
    print(f"verify: {links:,} history links (and the books) checked in {took:.1f} s, {verdict}", flush=True)
    took, verdict = checked("verify", "--since", str(VERIFIED))
    print(f"verify --since the checkpoint verified before the writes: {links_walked(verdict)} of {links:,} links "
          f"(and the books) checked in {took:.1f} s, {verdict}", flush=True)


VERIFIED = WORK / "verified.json"


def verified_now(token):
    """A whole `verify --since` of the history as generated, keeping the checkpoint it verified in `VERIFIED`: the
    later run walks only what the suite wrote since, as a daily run walks the day's work."""
    query = {"query": "{ historyCheckpoint { chains { seq } } }"}
    heads = [c["seq"] for c in graphql(PAYDESK_PORT, query, token)["data"]["historyCheckpoint"]["chains"]]
    req = urllib.request.Request(f"http://127.0.0.1:{PAYDESK_PORT}/history/checkpoint",
                                 headers={"authorization": f"Bearer {token}"})
    for _ in range(120):
        try:
            signed = json.loads(urllib.request.urlopen(req).read())
            if [h["seq"] for h in signed["heads"]] == heads:
                break
        except urllib.error.HTTPError:
            pass
        time.sleep(0.5)
    else:
        sys.exit("the server signed no checkpoint of the heads it shows: is PAYDESK_HISTORY_SIGNING_KEY taken?")
    took, verdict = checked("verify", "--since", str(VERIFIED))
    print(f"verify --since (no checkpoint verified yet): {links_walked(verdict)} links (and the books) checked in "
          f"{took:.1f} s, {verdict}", flush=True)


def links_walked(verdict):
    found = re.search(r"history: checked (\d+) links", verdict)
    return f"{int(found.group(1)):,}" if found else "?"


def checked(*command):
    """Runs `paydesk <command>` on the benchmark database: (seconds it took, clean and its first line, or what it
    found)."""
    started = time.time()
    done = subprocess.run([str(BINARY), *command], env=paydesk_env(URL, PAYDESK_PORT),
                          text=True, capture_output=True)
    took = time.time() - started
    if done.returncode == 0:
        said = [line for line in done.stdout.splitlines() if line.startswith(("history: checked", "checked "))]
        return took, "clean (" + "; ".join(said) + ")"
    return took, f"NOT clean (exit {done.returncode}): {done.stdout[-300:]}{done.stderr[-300:]}"


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def paydesk_reads(payout_id):
    """The three read shapes as paydesk is asked for them, by name: the same on PostgreSQL and SQLite."""
    return [
        ("pending list (50)",
         {"query": f"{{ payoutRequests(filter: {{ status: [PENDING] }}, first: 50) {{ nodes {{ {COLS} }} }} }}"}),
        ("nested (20 wallets x 10 ledger)",
         {"query": "{ wallets(first: 20) { nodes { id balance transactions(first: 10) { id amount kind createdAt } } } }"}),
        ("single payout by id", {"query": f"{{ payoutRequest(id: \"{payout_id}\") {{ {COLS} }} }}"}),
    ]


TRIAL_BALANCE = {"query": "{ trialBalance(currency: \"INR\") { total balanced accounts { account debits credits "
                           "balance } } }"}

# The reads users make since the first three: (name, paydesk's query, PostGraphile's or None, pgbench's SQL).
NEWER_READS = [
    ("journal page (20 entries, their lines)",
     {"query": "{ journal(first: 20) { nodes { id kind reference createdAt lines { line account walletId amount "
               "currency } } } }"},
     {"query": "{ allJournalEntries(first: 20, orderBy: [CREATED_AT_DESC, ID_DESC]) { nodes { id kind reference "
               "createdAt journalPostingsByEntryId(orderBy: [PRIMARY_KEY_ASC]) { nodes { line account walletId amount "
               "currency } } } } }"},
     # The lines by each entry's key (a plain join lets the planner hash all 800,000 lines).
     "SELECT e.id, e.kind, e.reference, e.created_at, p.line, p.account, p.wallet_id, p.amount, p.currency FROM "
     "(SELECT id, kind, reference, created_at FROM journal_entries ORDER BY created_at DESC, id DESC LIMIT 21) e "
     "CROSS JOIN LATERAL (SELECT line, account, wallet_id, amount, currency FROM journal_postings "
     "WHERE entry_id = e.id ORDER BY line) p;\n"),
    ("wallets with balances (20)",
     {"query": "{ wallets(first: 20) { nodes { id balance pendingPayouts available pendingBalance availableBalance } } }"},
     None,
     "SELECT w.id, w.balance, (SELECT COALESCE(SUM(amount), 0) FROM payout_requests p WHERE p.wallet_id = w.id "
     "AND p.status = 'pending') FROM (SELECT id, balance FROM freelancer_wallets ORDER BY created_at DESC, id DESC "
     "LIMIT 21) w;\n"),
    ("payout queue page (the console's)",
     {"query": "query Queue($after: String) { payoutRequests(first: 50, after: $after, filter: { status: [PENDING] }, "
               "orderBy: { field: CREATED_AT, direction: ASC }) { totalCount pageInfo { hasNextPage endCursor } nodes { "
               "id freelancerId amount currency note createdAt approvable notApprovableReason approvalsNeeded "
               "firstApprovedBy riskFlags { rule reason } wallet { balance reserve available } } } }"},
     None,
     "SELECT p.id, p.freelancer_id, p.amount, p.currency, p.note, p.created_at, w.balance FROM payout_requests p "
     "JOIN freelancer_wallets w ON w.id = p.wallet_id WHERE p.status = 'pending' ORDER BY p.created_at, p.id LIMIT 51;\n"
     "SELECT count(*) FROM payout_requests WHERE status = 'pending';\n"),
    ("trial balance (INR, now)", TRIAL_BALANCE, None,
     "SELECT account, SUM(amount) FILTER (WHERE amount < 0), SUM(amount) FILTER (WHERE amount > 0) FROM "
     "journal_postings WHERE currency = 'INR' GROUP BY account;\n"),
]


def beside_the_books(token):
    """What the trial balance does to the payout queue's reads: the pending list at the highest concurrency alone,
    then while one client asks for the trial balance without pause."""
    import threading
    pending, books = paydesk_reads(None)[0][1], TRIAL_BALANCE
    c = max(CONNS)
    alone = wrk(PAYDESK_PORT, pending, token, c)
    beside = threading.Thread(target=lambda: wrk(PAYDESK_PORT, books, token, 1, duration=DURATION + 1))
    beside.start()
    time.sleep(0.5)
    during = wrk(PAYDESK_PORT, pending, token, c)
    beside.join()
    print(f"\npending list (50) at {c} connections: {alone[0]:.0f} req/s (p99 {alone[2]:.2f} ms) alone, "
          f"{during[0]:.0f} req/s (p99 {during[2]:.2f} ms) while one client reads the trial balance without pause",
          flush=True)


def reads(token, pid):
    some_payout = one("SELECT id FROM payout_requests WHERE status = 'paid' ORDER BY created_at LIMIT 1")
    # For each shape: PostGraphile's query and pgbench's SQL.
    others = [
        ({"query": "{ allPayoutRequests(condition: { status: \"pending\" }, first: 50, orderBy: [CREATED_AT_DESC, "
                   f"ID_DESC]) {{ nodes {{ {COLS} }} }} }}"},
         "SELECT id, amount, currency, status, created_at, freelancer_id FROM payout_requests "
         "WHERE status = 'pending' ORDER BY created_at DESC, id DESC LIMIT 51;\n"),
        ({"query": "{ allFreelancerWallets(first: 20, orderBy: [CREATED_AT_DESC, ID_DESC]) { nodes { id balance "
                   "walletTransactionsByWalletId(first: 10, orderBy: [CREATED_AT_DESC, ID_DESC]) "
                   "{ nodes { id amount kind createdAt } } } } }"},
         "SELECT w.id, w.balance, t.id, t.amount, t.kind, t.created_at FROM "
         "(SELECT id, balance FROM freelancer_wallets ORDER BY created_at DESC, id DESC LIMIT 21) w "
         "CROSS JOIN LATERAL (SELECT id, amount, kind, created_at FROM wallet_transactions "
         "WHERE wallet_id = w.id ORDER BY created_at DESC, id DESC LIMIT 10) t;\n"),
        ({"query": f"{{ payoutRequestById(id: \"{some_payout}\") {{ {COLS} }} }}"},
         f"SELECT id, amount, currency, status, created_at, freelancer_id FROM payout_requests WHERE id = '{some_payout}';\n"),
    ]
    shapes = [(name, ours, g, sql) for (name, ours), (g, sql) in zip(paydesk_reads(some_payout), others)]
    shapes += NEWER_READS
    for name, ours, theirs, _ in shapes:
        a = graphql(PAYDESK_PORT, ours, token)
        b = graphql(POSTGRAPHILE_PORT, theirs) if theirs else {}
        assert "errors" not in a and "errors" not in b, (name, a, b)
    # Warm both servers (connection pools, statement caches) at the highest concurrency before measuring.
    for name, ours, theirs, _ in shapes:
        wrk(PAYDESK_PORT, ours, token, max(CONNS), duration=3)
        if theirs:
            wrk(POSTGRAPHILE_PORT, theirs, None, max(CONNS), duration=3)
    rows = []
    print(f"\nreads (median of {ROUNDS} runs of {DURATION} s each, the three taking turns; client and servers share "
          "the machine)\n", flush=True)
    header = "| read | conns | paydesk req/s | p50 ms | p99 ms | PostGraphile req/s | p50 ms | p99 ms | pgbench tps | p50 ms | p99 ms | vs PostGraphile | of pgbench |"
    print(header)
    print("|" + " --- |" * 13)
    for name, ours, theirs, sql in shapes:
        for c in CONNS:
            # A shape PostGraphile cannot answer (sums, flags, the books) is measured against pgbench alone.
            none = lambda: (float("nan"),) * 3
            p, g, s = rounds(lambda: wrk(PAYDESK_PORT, ours, token, c),
                             (lambda: wrk(POSTGRAPHILE_PORT, theirs, None, c)) if theirs else none,
                             lambda: pgbench(sql, c))
            versus = f"{p[0] / g[0]:.2f}x" if theirs else "no peer"
            peer = f"{g[0]:.0f} | {g[1]:.2f} | {g[2]:.2f}" if theirs else "— | — | —"
            line = (f"| {name} | {c} | {p[0]:.0f} | {p[1]:.2f} | {p[2]:.2f} | {peer} | "
                    f"{s[0]:.0f} | {s[1]:.2f} | {s[2]:.2f} | {versus} | {100 * p[0] / s[0]:.0f}% |")
            print(line, flush=True)
            rows.append(line)
    beside_the_books(token)
    print(f"\npaydesk's peak RSS so far (all reads, up to {max(CONNS)} connections): {rss_mib(pid):.1f} MiB", flush=True)


# paydesk's event log: every event takes this advisory lock (so events commit in sequence order) and queues a
# NOTIFY carrying its number, in one statement (core/src/events.rs); pgbench's transactions do the same.
EVENT_ORDER_LOCK = 0x0070_6179_6465_736b

APPROVE_SQL = """BEGIN;
UPDATE payout_requests SET status = 'paid', decided_by = '0193a000-0000-7000-8000-0000000000aa', decided_at = now(),
       updated_at = now()
 WHERE id = (SELECT id FROM bench_approve WHERE n = (SELECT nextval('bench_approve_next'))) AND status = 'pending'
 RETURNING id AS pid, wallet_id AS wid, amount AS amt, freelancer_id AS fid \\gset
UPDATE freelancer_wallets SET balance = balance - :amt, updated_at = now() WHERE id = ':wid'::uuid AND balance - :amt >= 10000
 RETURNING balance AS bal \\gset
SELECT gen_random_uuid() AS tid \\gset
INSERT INTO journal_entries (id, kind, reference, payout_request_id, description, created_at)
VALUES (':tid'::uuid, 'payout_paid', 'payout:' || ':pid'::uuid, ':pid'::uuid, 'payout approved', now());
INSERT INTO journal_postings (entry_id, line, account, wallet_id, currency, amount)
VALUES (':tid'::uuid, 1, 'wallet', ':wid'::uuid, 'INR', -:amt), (':tid'::uuid, 2, 'bank', NULL, 'INR', :amt);
INSERT INTO wallet_transactions (id, wallet_id, kind, amount, balance_after, reference, payout_request_id,
       description, created_at)
VALUES (':tid'::uuid, ':wid'::uuid, 'payout_debit', -:amt, :bal, 'payout:' || ':pid'::uuid, ':pid'::uuid, 'payout approved', now());
INSERT INTO notifications (id, recipient_id, kind, severity, title, body, payout_request_id, created_at,
       delivery_status, delivery_attempts, next_attempt_at)
VALUES (gen_random_uuid(), ':fid'::uuid, 'payout_paid', 'info', 'Payout approved', 'Your balance is now ' || :bal,
       ':pid'::uuid, now(), 'pending', 0, now());
INSERT INTO audit_log (id, actor_id, actor_role, action, entity_type, entity_id, before, after, reason, created_at)
VALUES (gen_random_uuid(), '0193a000-0000-7000-8000-0000000000aa', 'admin', 'payout.approved', 'payout_request',
       ':pid'::uuid, '{"status":"pending"}', '{"status":"paid"}', NULL, now());
WITH e AS (INSERT INTO events (kind, payload, severity, created_at)
           SELECT 'payout_status_changed', '{}', NULL, now() FROM (SELECT pg_advisory_xact_lock(%d)) AS ordered
           RETURNING seq)
SELECT pg_notify('paydesk_events', (SELECT seq FROM e)::text);
COMMIT;
""" % EVENT_ORDER_LOCK

# wrk threads take turns through a list: thread k takes items k, k + threads, ... (`n` is the thread's position;
# the script that follows adds the thread count to it before each request).
TURNS_LUA = """
local counter = 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end
local n = 0
function init(args)
  n = offset
end
"""

APPROVE_LUA = """
local ids = {}
for line in io.lines("%s") do ids[#ids + 1] = line end
""" + TURNS_LUA + """
function request()
  n = n + %d
  local id = ids[(n %% #ids) + 1]
  return wrk.format("POST", nil, nil, '{"query":"mutation { approvePayout(input: {payoutRequestId: \\\\"' .. id .. '\\\\"}) { status } }"}')
end
"""


def more_work():
    """Enough pending payouts and payments that neither side of a write run runs out of work: at most 2,500 writes per
    second for each side, for every run."""
    n = 2 * 2500 * max(DURATION // 2, 2) * len(CONNS) * ROUNDS
    sh("psql", URL, "-q", "-v", "ON_ERROR_STOP=1", "-v", f"n={n}", "-f", str(ROOT / "bench" / "generate-write-work.sql"))


def compare_writes(title, unit, sql, paydesk_run):
    """A table of paydesk's writes (`paydesk_run(conns, seconds)` -> wrk's figures) against pgbench running `sql`."""
    seconds = max(DURATION // 2, 2)
    print(f"\n{title} (median of {ROUNDS} runs of {seconds} s each, taking turns)\n", flush=True)
    print(f"| conns | paydesk {unit}/s | p50 ms | p99 ms | pgbench tps | p50 ms | p99 ms | of pgbench |")
    print("|" + " --- |" * 8)
    def vacuumed(run):
        # Each side starts from a vacuumed database (autovacuum may be off here): the other's dead rows cost it nothing.
        sh("psql", URL, "-qc", "VACUUM")
        return run()

    with Waits(postgres_unlinked_age) as waits:
        for c in CONNS:
            p, s = rounds(lambda: vacuumed(lambda: paydesk_run(c, seconds)),
                          lambda: vacuumed(lambda: pgbench(sql, c, seconds)))
            print(f"| {c} | {p[0]:.0f} | {p[1]:.2f} | {p[2]:.2f} | {s[0]:.0f} | {s[1]:.2f} | {s[2]:.2f} | "
                  f"{100 * p[0] / s[0]:.0f}% |", flush=True)
    waits.report()


# The age of the oldest row paydesk wrote (it carries a content hash) that no history link names yet, over the three
# chained tables, looking only at the last ten minutes: (table, when its row was written, chain, what else a row
# the chainer links has).
CHAINED = [("audit_log", "created_at", "audit", ""), ("journal_entries", "created_at", "journal", ""),
           ("payment_webhooks", "received_at", "webhooks", " AND signature_valid")]


def unlinked_age(since, age):
    """The query for that age on one database: `since` is the start of the last ten minutes as that database writes
    it, `age` the seconds from a time `t` to now."""
    return f"SELECT {age} FROM (" + " UNION ALL ".join(
        f"""SELECT min({time}) AS t FROM {table} r WHERE {time} > {since} AND content_hash IS NOT NULL{extra}
        AND NOT EXISTS (SELECT 1 FROM history_links l WHERE l.chain = '{chain}' AND l.row_id = r.id)"""
        for table, time, chain, extra in CHAINED) + ") AS oldest"


UNLINKED_AGE = unlinked_age("now() - interval '10 minutes'", "COALESCE(EXTRACT(EPOCH FROM now() - min(t)), 0)")


def postgres_unlinked_age():
    return subprocess.run(["psql", URL, "-Atc", UNLINKED_AGE], text=True, capture_output=True).stdout


# On SQLite times are RFC 3339 text in UTC (compared as text, so the time index serves; julianday reads them for
# the age).
LITE_UNLINKED_AGE = unlinked_age("strftime('%Y-%m-%dT%H:%M:%f', 'now', '-10 minutes')",
                                 "(julianday('now') - julianday(min(t))) * 86400")


def sqlite_unlinked_age():
    (age,) = lite_one(LITE_UNLINKED_AGE)[0]
    return "0" if age is None else str(age)


class Waits:
    """Samples, twice a second while a write comparison runs, how long the oldest row paydesk wrote has waited for
    its history link (`age` reads it, in seconds): the chainer must keep up under the write load (a few of its 5 s
    periods at most)."""

    def __init__(self, age):
        self.age = age

    def __enter__(self):
        import threading
        self.longest, self.samples, self.stop = 0.0, 0, threading.Event()

        def sample():
            while not self.stop.wait(0.5):
                age = self.age()
                if age.strip():
                    self.longest = max(self.longest, float(age))
                    self.samples += 1

        self.thread = threading.Thread(target=sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        self.thread.join()

    def report(self):
        print(f"\n(the history's chainer kept up: no row paydesk wrote waited more than {self.longest:.1f} s to be "
              f"linked, over {self.samples} samples)", flush=True)


def undo(sql):
    """Takes back what pgbench wrote (its share of the turns), as one transaction with the history's triggers off
    for this session: its rows carry no content hash, written outside paydesk, so the history would rightly name
    them as inserted out of order, and `verify` below would not be clean."""
    sh("psql", URL, "-q", "-v", "ON_ERROR_STOP=1", "-c",
       "BEGIN; SET LOCAL session_replication_role = replica; " + sql + " COMMIT;")


UNDO_APPROVALS = """
CREATE TEMP TABLE pgb ON COMMIT DROP AS
  SELECT p.id, p.wallet_id, p.amount FROM payout_requests p JOIN bench_approve b ON b.id = p.id WHERE p.status = 'paid';
UPDATE freelancer_wallets w SET balance = w.balance + t.total
  FROM (SELECT wallet_id, sum(amount) AS total FROM pgb GROUP BY wallet_id) t WHERE w.id = t.wallet_id;
DELETE FROM journal_postings WHERE entry_id IN (SELECT id FROM journal_entries WHERE payout_request_id IN (SELECT id FROM pgb));
DELETE FROM journal_entries WHERE payout_request_id IN (SELECT id FROM pgb);
DELETE FROM wallet_transactions WHERE payout_request_id IN (SELECT id FROM pgb);
DELETE FROM notifications WHERE payout_request_id IN (SELECT id FROM pgb);
DELETE FROM audit_log WHERE action = 'payout.approved' AND entity_id IN (SELECT id FROM pgb);
UPDATE payout_requests SET status = 'pending', decided_by = NULL, decided_at = NULL WHERE id IN (SELECT id FROM pgb);
"""

UNDO_WEBHOOKS = """
CREATE TEMP TABLE pgb ON COMMIT DROP AS
  SELECT id, freelancer_id, net_amount FROM payments WHERE cf_payment_id LIKE 'pgb%';
UPDATE freelancer_wallets w SET balance = w.balance - t.total
  FROM (SELECT freelancer_id, sum(net_amount) AS total FROM pgb GROUP BY freelancer_id) t
  WHERE w.freelancer_id = t.freelancer_id;
DELETE FROM journal_postings WHERE entry_id IN (SELECT id FROM journal_entries WHERE payment_id IN (SELECT id FROM pgb));
DELETE FROM journal_entries WHERE payment_id IN (SELECT id FROM pgb);
DELETE FROM wallet_transactions WHERE payment_id IN (SELECT id FROM pgb);
DELETE FROM notifications WHERE payment_id IN (SELECT id FROM pgb);
DELETE FROM audit_log WHERE action = 'payment.succeeded' AND entity_id IN (SELECT id FROM pgb);
DELETE FROM payment_webhooks WHERE idempotency_key LIKE 'pgb:%';
UPDATE payments SET status = 'pending', platform_fee = NULL, net_amount = NULL, cf_payment_id = NULL,
       payment_method = NULL, paid_at = NULL WHERE id IN (SELECT id FROM pgb);
"""


def turns(table, key, source):
    """Numbers pgbench's share of `source` (rows with a `key` column) in `table`; each transaction takes the next one
    through a sequence, as paydesk's clients are handed theirs by id: neither side searches for work."""
    sh("psql", URL, "-qc", f"DROP TABLE IF EXISTS {table}; DROP SEQUENCE IF EXISTS {table}_next; "
       f"CREATE SEQUENCE {table}_next; CREATE TABLE {table} AS SELECT row_number() OVER () AS n, {key} FROM ({source}) s; "
       f"ALTER TABLE {table} ADD PRIMARY KEY (n)")


def approvals(token):
    # Pending payouts in request order, numbered once: paydesk approves the odd ones, pgbench the even ones.
    halves = ("SELECT id FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS r FROM payout_requests "
              "WHERE status = 'pending') p WHERE r % 2 = {}")
    turns("bench_approve", "id", halves.format(0))
    turns("bench_approve_paydesk", "id", halves.format(1))

    def approve(conns, seconds):
        ids = WORK / "pending.txt"
        ids.write_text(one("SELECT string_agg(b.id::text, E'\\n' ORDER BY b.n) FROM bench_approve_paydesk b "
                           "JOIN payout_requests p ON p.id = b.id WHERE p.status = 'pending'") + "\n")
        return wrk(PAYDESK_PORT, {}, token, conns, APPROVE_LUA % (ids, min(conns, 2)), seconds)

    compare_writes("approvals: paydesk's approvePayout vs pgbench running the same transaction (debit under the "
                   "reserve, ledger row, notification, audit entry, event)", "approvals", APPROVE_SQL, approve)
    left = one("SELECT count(*) FROM payout_requests WHERE status = 'pending'")
    print(f"\n({left} payouts still pending)")
    undo(UNDO_APPROVALS)

WEBHOOK_SQL = """BEGIN;
UPDATE payments SET status = 'success', platform_fee = amount / 10, net_amount = amount - amount / 10,
       cf_payment_id = 'pgb' || id, payment_method = 'upi', paid_at = now(), updated_at = now()
 WHERE order_id = (SELECT order_id FROM bench_orders WHERE n = (SELECT nextval('bench_orders_next')))
   AND status = 'pending'
 RETURNING id AS pay, order_id AS oid, freelancer_id AS fid, amount - amount / 10 AS net, amount / 10 AS fee,
           amount AS gross \\gset
INSERT INTO payment_webhooks (id, received_at, event_type, idempotency_key, signature_valid, outcome, order_id,
       cf_payment_id, headers, raw_body)
VALUES (gen_random_uuid(), now(), 'PAYMENT_SUCCESS_WEBHOOK', 'pgb:' || ':pay', true, 'failed', ':oid',
       'pgb' || ':pay', '{}', '{"data":{}}')
RETURNING id AS hook \\gset
UPDATE freelancer_wallets SET balance = balance + :net, updated_at = now() WHERE freelancer_id = ':fid'::uuid
 RETURNING id AS wid, balance AS bal \\gset
SELECT gen_random_uuid() AS tid \\gset
INSERT INTO journal_entries (id, kind, reference, payment_id, description, created_at)
VALUES (':tid'::uuid, 'payment_received', 'payment:' || ':pay', ':pay'::uuid, 'payment received, net of platform fee',
       now());
INSERT INTO journal_postings (entry_id, line, account, wallet_id, currency, amount)
VALUES (':tid'::uuid, 1, 'wallet', ':wid'::uuid, 'INR', :net), (':tid'::uuid, 2, 'fee_revenue', NULL, 'INR', :fee),
       (':tid'::uuid, 3, 'gateway_clearing', NULL, 'INR', -:gross);
INSERT INTO wallet_transactions (id, wallet_id, kind, amount, balance_after, reference, payment_id, description,
       created_at)
VALUES (':tid'::uuid, ':wid'::uuid, 'payment_credit', :net, :bal, 'payment:' || ':pay', ':pay'::uuid,
       'payment received, net of platform fee', now());
INSERT INTO notifications (id, recipient_id, kind, severity, title, body, payment_id, created_at, delivery_status,
       delivery_attempts, next_attempt_at)
VALUES (gen_random_uuid(), ':fid'::uuid, 'payment_received', 'info', 'Payment received', 'Balance ' || :bal,
       ':pay'::uuid, now(), 'pending', 0, now());
INSERT INTO audit_log (id, actor_id, actor_role, action, entity_type, entity_id, before, after, reason, created_at)
VALUES (gen_random_uuid(), NULL, 'system', 'payment.succeeded', 'payment', ':pay'::uuid, '{"status":"pending"}',
       '{"status":"success"}', NULL, now());
UPDATE payment_webhooks SET outcome = 'processed', payment_id = ':pay'::uuid WHERE id = ':hook'::uuid;
COMMIT;
"""

WEBHOOK_LUA = """
local deliveries = {}
for line in io.lines("%s") do
  local ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
  deliveries[#deliveries + 1] = { ts = ts, sig = sig, body = body }
end
""" + TURNS_LUA + """
function request()
  n = n + %d
  -- Each delivery is sent once: a repeat would only measure the duplicate check.
  if n >= #deliveries then wrk.thread:stop() end
  local d = deliveries[(n %% #deliveries) + 1]
  return wrk.format("POST", "/api/webhooks/cashfree", {
    ["Content-Type"] = "application/json", ["x-webhook-timestamp"] = d.ts, ["x-webhook-signature"] = d.sig,
    ["x-webhook-version"] = "2025-01-01" }, d.body)
end
function response(status, headers, body)
  if status ~= 200 or not body:find('"outcome":"PROCESSED"') then io.stderr:write(body:sub(1, 200) .. "\\n") end
end
"""


def signed_deliveries(path, half):
    """Signed SUCCESS webhooks for one half of the pending orders (paydesk takes the odd ones, pgbench the rest)."""
    rows = one("SELECT string_agg(order_id || ' ' || amount, E'\\n') FROM payments WHERE status = 'pending' "
               f"AND abs(hashtext(order_id)) % 2 = {half}").split("\n")
    write_deliveries(path, [row.split() for row in rows])


def write_deliveries(path, orders):
    """One signed PAYMENT_SUCCESS delivery per (order id, amount in minor units), a line each, for WEBHOOK_LUA."""
    import base64
    import hashlib
    import hmac
    ts = str(int(time.time() * 1000))
    with open(path, "w") as out:
        for order_id, minor in orders:
            amount = f"{int(minor) // 100}.{int(minor) % 100:02d}"
            body = json.dumps({"data": {"order": {"order_id": order_id, "order_amount": float(amount),
                                                  "order_currency": "INR"},
                                        "payment": {"cf_payment_id": f"cf_{order_id}", "payment_status": "SUCCESS",
                                                    "payment_amount": float(amount), "payment_currency": "INR",
                                                    "payment_group": "upi"}},
                               "event_time": "2026-11-28T12:00:00+05:30", "type": "PAYMENT_SUCCESS_WEBHOOK"},
                              separators=(",", ":"))
            mac = hmac.new(WEBHOOK_SECRET.encode(), (ts + body).encode(), hashlib.sha256).digest()
            out.write(f"{ts}\t{base64.b64encode(mac).decode()}\t{body}\n")


def outcomes():
    rows = one("SELECT string_agg(outcome || ' ' || n, ',') FROM (SELECT outcome, count(*) AS n FROM payment_webhooks "
               "WHERE idempotency_key IS NULL OR idempotency_key NOT LIKE 'pgb:%' GROUP BY outcome) t")
    return {k: int(v) for k, v in (pair.split() for pair in rows.split(",") if pair)}


def webhooks():
    turns("bench_orders", "order_id", "SELECT order_id FROM payments WHERE status = 'pending' "
                                      "AND abs(hashtext(order_id)) % 2 = 0")

    def deliver(conns, seconds):
        path = WORK / "webhooks.txt"
        signed_deliveries(path, 1)
        before = outcomes()
        figures = wrk(PAYDESK_PORT, {}, None, conns, WEBHOOK_LUA % (path, min(conns, 2)), seconds)
        after = outcomes()
        bad = sum(after.values()) - sum(before.values()) - (after.get("processed", 0) - before.get("processed", 0))
        if bad:
            print(f"  !! {bad} of paydesk's deliveries were not PROCESSED", flush=True)
        return figures

    compare_writes("webhook ingest: signed PAYMENT_SUCCESS deliveries for pending orders (recorded, verified, payment "
                   "settled, wallet credited, notification, event) vs pgbench running the same transaction",
                   "webhooks", WEBHOOK_SQL, deliver)
    undo(UNDO_WEBHOOKS)



# --- SQLite -----------------------------------------------------------------------------------------------------
# The same data set, copied from PostgreSQL into a SQLite file that `paydesk migrate` made (ids as 16-byte blobs and
# times as RFC 3339 text, as paydesk stores them there), served by a second paydesk. The ceiling is the same SQL run
# through Python's sqlite3 module, one process per connection, with values bound as paydesk binds them (SQLite plans
# `status = 'pending'` and `status = ?` differently): no HTTP, no JSON, no GraphQL.

SQLITE_PORT = int(os.environ.get("SQLITE_PORT") or free_port())
LITE = WORK / "bench.db"


# The rows generate-write-work.sql adds, by table.
WRITE_WORK = {"payments": "order_id LIKE 'bench_more_%'", "payout_requests": "note LIKE 'Withdrawal (write benchmark)%'"}


def copy_to_sqlite(only=None):
    """Copies the data set into a new SQLite file, or adds `only` some rows (a WHERE clause by table) it lacks."""
    sqlite3 = sqlite3_module()
    if only is None:
        sh(str(BINARY), "migrate", "--database-url", f"sqlite://{LITE}?mode=rwc")
    con = sqlite3.connect(LITE)
    started = time.time()
    tables = ("freelancer_wallets", "payments", "payout_requests", "wallet_transactions", "journal_entries",
              "journal_postings")
    for table in only or tables:
        cols = [(name, kind) for _, name, kind, *_ in con.execute(f"PRAGMA table_info({table})")]
        exprs = []
        for name, kind in cols:
            if kind == "uuid_text":
                exprs.append(f"encode(uuid_send({name}), 'hex')")
            elif kind.startswith("timestamp"):
                exprs.append(f"to_char({name} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')")
            else:
                exprs.append(name)
        where = f" WHERE {only[table]}" if only else ""
        out = sh("psql", URL, "-qc", f"COPY (SELECT {', '.join(exprs)} FROM {table}{where}) TO STDOUT")

        def convert(value, kind):
            if value == "\\N":
                return None
            if kind == "uuid_text":
                return bytes.fromhex(value)
            if "int" in kind:
                return int(value)
            return value

        rows = [[convert(v, k) for v, (_, k) in zip(line.split("\t"), cols)] for line in out.splitlines()]
        # Adding rows skips those the file already has (a reused data set holds an earlier run's work).
        verb = "INSERT OR IGNORE" if only else "INSERT"
        con.executemany(f"{verb} INTO {table} VALUES ({', '.join('?' * len(cols))})", rows)
        con.commit()
    con.execute("ANALYZE")
    con.close()
    print(f"SQLite {'rows added' if only else 'copy made'} in {time.time() - started:.0f} s", flush=True)


def linked_sqlite_version():
    """The SQLite version paydesk links: the one bundled with the `libsqlite3-sys` that Cargo.lock names, read from
    cargo's registry (where building paydesk put it); None when it is not there."""
    locked = re.search(r'name = "libsqlite3-sys"\nversion = "([^"]+)"', (ROOT / "Cargo.lock").read_text())
    home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    for header in home.glob(f"registry/src/*/libsqlite3-sys-{locked.group(1)}/sqlite3/sqlite3.h") if locked else []:
        found = re.search(r'#define SQLITE_VERSION\s+"([^"]+)"', header.read_text(errors="replace"))
        if found:
            return found.group(1)
    return None


def installed(module, package, why):
    """Imports `module`, installing PyPI's `package` first if it is missing (`why` says what needs it)."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        print(f"installing {package} ({why})", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "--root-user-action=ignore", package], check=False)
    try:
        return importlib.import_module(module)
    except ImportError:
        sys.exit(f"{package} could not be installed (`pip install {package}`): {why}")


def sqlite3_module():
    """The sqlite3 module of the ceiling: pysqlite3-binary (installed here if missing), whose SQLite is the release
    paydesk links (3.51): Python's own (3.40) plans the same query differently, and a ceiling that does not run the
    same engine is not a ceiling. Refuses to go on with another release."""
    module = installed("pysqlite3", "pysqlite3-binary", "the SQLite ceiling runs the SQLite paydesk links: "
                       "Python's own sqlite3 runs another")
    linked = linked_sqlite_version()
    if linked and linked.split(".")[:2] != module.sqlite_version.split(".")[:2]:
        sys.exit(f"the SQLite ceiling would run SQLite {module.sqlite_version} where paydesk links {linked}: install a "
                 f"pysqlite3-binary of the same release")
    return module


def lite():
    con = sqlite3_module().connect(LITE, isolation_level=None, timeout=30)
    con.execute("PRAGMA busy_timeout = 30000")
    return con


# The ceiling's inserts name their columns: a column paydesk adds later (NULL or with a default) does not break them.
LITE_ENTRY = ("INSERT INTO journal_entries (id, kind, reference, payment_id, payout_request_id, description, "
              "created_at) VALUES ")
LITE_LEDGER = ("INSERT INTO wallet_transactions (id, wallet_id, kind, amount, balance_after, reference, payment_id, "
               "payout_request_id, description, created_at) VALUES ")
LITE_NOTIFICATION = ("INSERT INTO notifications (id, recipient_id, kind, severity, title, body, payment_id, "
                     "payout_request_id, read_at, created_at, delivery_status, delivery_attempts, next_attempt_at, "
                     "last_attempt_at, delivered_at, delivery_error) VALUES ")
LITE_AUDIT = ("INSERT INTO audit_log (id, actor_id, actor_role, action, entity_type, entity_id, before, after, reason, "
              "created_at) VALUES ")


def lite_now():
    from datetime import datetime, timezone
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def lite_approve(con, _):
    """paydesk's approval as one SQLite transaction: the same rows as APPROVE_SQL."""
    import uuid
    now, admin = lite_now(), uuid.UUID("0193a000-0000-7000-8000-0000000000aa").bytes
    con.execute("BEGIN IMMEDIATE")
    pid, wid, amt, fid = con.execute(
        "UPDATE payout_requests SET status = 'paid', decided_by = ?, decided_at = ?, updated_at = ? WHERE id = "
        "(SELECT id FROM payout_requests WHERE status = 'pending' ORDER BY created_at DESC LIMIT 1) "
        "RETURNING id, wallet_id, amount, freelancer_id", (admin, now, now)).fetchone()
    (bal,) = con.execute("UPDATE freelancer_wallets SET balance = balance - ?, updated_at = ? WHERE id = ? AND "
                         "balance - ? >= 10000 RETURNING balance", (amt, now, wid, amt)).fetchone()
    tid, reference = uuid.uuid4().bytes, f"payout:{uuid.UUID(bytes=pid)}"
    con.execute(LITE_ENTRY + "(?, 'payout_paid', ?, NULL, ?, 'payout approved', ?)",
                (tid, reference, pid, now))
    con.execute("INSERT INTO journal_postings VALUES (?, 1, 'wallet', ?, 'INR', ?), (?, 2, 'bank', NULL, 'INR', ?)",
                (tid, wid, -amt, tid, amt))
    con.execute(LITE_LEDGER + "(?, ?, 'payout_debit', ?, ?, ?, NULL, ?, 'payout approved', ?)",
                (tid, wid, -amt, bal, reference, pid, now))
    con.execute(LITE_NOTIFICATION + "(?, ?, 'payout_paid', 'info', 'Payout approved', ?, NULL, ?, NULL, ?, "
                "'pending', 0, ?, NULL, NULL, NULL)", (uuid.uuid4().bytes, fid, f"Balance {bal}", pid, now, now))
    con.execute(LITE_AUDIT + "(?, ?, 'admin', 'payout.approved', 'payout_request', ?, "
                "'{\"status\":\"pending\"}', '{\"status\":\"paid\"}', NULL, ?)", (uuid.uuid4().bytes, admin, pid, now))
    con.execute("INSERT INTO events (kind, payload, created_at) VALUES ('payout_status_changed', '{}', ?)", (now,))
    con.execute("COMMIT")


def lite_webhook(con, order_id):
    """paydesk's webhook ingest as one SQLite transaction: the same rows as WEBHOOK_SQL."""
    import uuid
    now = lite_now()
    con.execute("BEGIN IMMEDIATE")
    hook = uuid.uuid4().bytes
    con.execute("INSERT INTO payment_webhooks (id, received_at, event_type, idempotency_key, signature_valid, outcome, "
                "order_id, cf_payment_id, headers, raw_body) VALUES (?, ?, 'PAYMENT_SUCCESS_WEBHOOK', ?, 1, 'failed', "
                "?, ?, '{}', ?)", (hook, now, f"pgb:{order_id}", order_id, f"pgb_{order_id}", b'{"data":{}}'))
    pay, fid, net, fee, gross = con.execute(
        "UPDATE payments SET status = 'success', platform_fee = amount / 10, net_amount = amount - amount / 10, "
        "cf_payment_id = ?, payment_method = 'upi', paid_at = ?, updated_at = ? WHERE order_id = ? "
        "RETURNING id, freelancer_id, net_amount, platform_fee, amount", (f"pgb_{order_id}", now, now, order_id)).fetchone()
    wid, bal = con.execute("UPDATE freelancer_wallets SET balance = balance + ?, updated_at = ? WHERE freelancer_id = ? "
                           "RETURNING id, balance", (net, now, fid)).fetchone()
    tid, reference = uuid.uuid4().bytes, f"payment:{uuid.UUID(bytes=pay)}"
    con.execute(LITE_ENTRY + "(?, 'payment_received', ?, ?, NULL, "
                "'payment received, net of platform fee', ?)", (tid, reference, pay, now))
    con.execute("INSERT INTO journal_postings VALUES (?, 1, 'wallet', ?, 'INR', ?), (?, 2, 'fee_revenue', NULL, 'INR', ?), "
                "(?, 3, 'gateway_clearing', NULL, 'INR', ?)", (tid, wid, net, tid, fee, tid, -gross))
    con.execute(LITE_LEDGER + "(?, ?, 'payment_credit', ?, ?, ?, ?, NULL, "
                "'payment received, net of platform fee', ?)", (tid, wid, net, bal, reference, pay, now))
    con.execute(LITE_NOTIFICATION + "(?, ?, 'payment_received', 'info', 'Payment received', ?, ?, NULL, "
                "NULL, ?, 'pending', 0, ?, NULL, NULL, NULL)", (uuid.uuid4().bytes, fid, f"Balance {bal}", pay, now, now))
    con.execute(LITE_AUDIT + "(?, NULL, 'system', 'payment.succeeded', 'payment', ?, "
                "'{\"status\":\"pending\"}', '{\"status\":\"success\"}', NULL, ?)", (uuid.uuid4().bytes, pay, now))
    con.execute("UPDATE payment_webhooks SET outcome = 'processed', payment_id = ? WHERE id = ?", (pay, hook))
    con.execute("COMMIT")


def lite_worker(args):
    """One ceiling connection: runs `job` (a query, or a transaction function) until `seconds` pass."""
    job, seconds, items = args
    con = lite()
    latencies, end, i = [], time.perf_counter() + seconds, 0
    while time.perf_counter() < end and (items is None or i < len(items)):
        started = time.perf_counter()
        if isinstance(job, tuple):
            con.execute(*job).fetchall()
        else:
            job(con, items[i] if items else None)
        latencies.append(time.perf_counter() - started)
        i += 1
    return latencies


def lite_ceiling(job, conns, seconds, items=None):
    """Transactions per second and p50/p99 in ms of `job` run on `conns` processes (`items` split between them)."""
    import multiprocessing
    shares = [items[i::conns] for i in range(conns)] if items is not None else [None] * conns
    with multiprocessing.Pool(conns) as pool:
        started = time.perf_counter()
        results = pool.map(lite_worker, [(job, seconds, share) for share in shares])
        wall = time.perf_counter() - started
    latencies = sorted(l for r in results for l in r)
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000.0
    return len(latencies) / min(wall, seconds + 0.05), pick(0.50), pick(0.99)


def lite_one(sql):
    con = lite()
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def sqlite_suite(token):
    import uuid
    proc = serve_paydesk(f"sqlite://{LITE}?mode=rwc", SQLITE_PORT)
    linked(SQLITE_PORT, token, "SQLite")
    try:
        (paid,) = lite_one("SELECT id FROM payout_requests WHERE status = 'paid' ORDER BY created_at LIMIT 1")[0]
        # For each shape: the same SQL, with values bound as paydesk binds them.
        same_sql = [
            ("SELECT id, amount, currency, status, created_at, freelancer_id FROM payout_requests "
              "WHERE status = ? ORDER BY created_at DESC, id DESC LIMIT ?", ("pending", 51)),
            ("SELECT w.id, w.balance, t.id, t.amount, t.kind, t.created_at FROM "
              "(SELECT id, balance FROM freelancer_wallets ORDER BY created_at DESC, id DESC LIMIT ?) w "
              "JOIN wallet_transactions t ON t.id IN (SELECT id FROM wallet_transactions WHERE wallet_id = w.id "
              "ORDER BY created_at DESC, id DESC LIMIT ?)", (21, 10)),
            ("SELECT id, amount, currency, status, created_at, freelancer_id FROM payout_requests WHERE id = ?", (paid,)),
        ]
        shapes = [(name, ours, sql) for (name, ours), sql in zip(paydesk_reads(uuid.UUID(bytes=paid)), same_sql)]
        for name, ours, _ in shapes:
            answer = graphql(SQLITE_PORT, ours, token)
            assert "errors" not in answer, (name, answer)
            wrk(SQLITE_PORT, ours, token, max(CONNS), duration=3)
        print(f"\nSQLite reads (median of {ROUNDS} runs of {DURATION} s each, taking turns; paydesk keeps one connection "
              "to the file; the ceiling runs SQLite "
              f"{sqlite3_module().sqlite_version} in process)\n", flush=True)
        print("| read | conns | paydesk req/s | p50 ms | p99 ms | sqlite3 same SQL per s | p50 ms | p99 ms | of ceiling |")
        print("|" + " --- |" * 9)
        for name, ours, sql in shapes:
            for c in CONNS:
                p, s = rounds(lambda: wrk(SQLITE_PORT, ours, token, c), lambda: lite_ceiling(sql, c, DURATION))
                print(f"| {name} | {c} | {p[0]:.0f} | {p[1]:.2f} | {p[2]:.2f} | {s[0]:.0f} | {s[1]:.2f} | {s[2]:.2f} | "
                      f"{100 * p[0] / s[0]:.0f}% |", flush=True)
        print(f"\npaydesk (SQLite) peak RSS: {rss_mib(proc.pid):.1f} MiB", flush=True)
        copy_to_sqlite(WRITE_WORK)
        seconds = max(DURATION // 2, 2)
        print(f"\nSQLite writes ({seconds} s each) against the same transaction through sqlite3\n", flush=True)
        print("| write | conns | paydesk per s | p50 ms | p99 ms | sqlite3 same transaction per s | p50 ms | p99 ms | of ceiling |")
        print("|" + " --- |" * 9)
        with Waits(sqlite_unlinked_age) as waits:
            for c in CONNS:
                ids = WORK / "pending-lite.txt"
                ids.write_text("\n".join(str(uuid.UUID(bytes=r[0])) for r in lite_one(
                    "SELECT id FROM payout_requests WHERE status = 'pending' ORDER BY created_at")) + "\n")
                p = wrk(SQLITE_PORT, {}, token, c, APPROVE_LUA % (ids, min(c, 2)), seconds)
                s = lite_ceiling(lite_approve, c, seconds)
                print(f"| approvals | {c} | {p[0]:.0f} | {p[1]:.2f} | {p[2]:.2f} | {s[0]:.0f} | {s[1]:.2f} | {s[2]:.2f} | "
                      f"{100 * p[0] / s[0]:.0f}% |", flush=True)
            for c in CONNS:
                # paydesk takes every other pending order, the ceiling the rest.
                pending = lite_one("SELECT order_id, amount FROM payments WHERE status = 'pending' ORDER BY order_id")
                theirs = [order for order, _ in pending[0::2]]
                path = WORK / "webhooks-lite.txt"
                write_deliveries(path, pending[1::2])
                p = wrk(SQLITE_PORT, {}, None, c, WEBHOOK_LUA % (path, min(c, 2)), seconds)
                s = lite_ceiling(lite_webhook, c, seconds, theirs)
                print(f"| webhook ingest | {c} | {p[0]:.0f} | {p[1]:.2f} | {p[2]:.2f} | {s[0]:.0f} | {s[1]:.2f} | "
                      f"{s[2]:.2f} | {100 * p[0] / s[0]:.0f}% |", flush=True)
        waits.report()
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
