#!/usr/bin/env python3
"""Instructions per request: paydesk's CPU cost of each read shape, counted by valgrind's callgrind instead of timed.

On a shared machine the same binary's requests per second vary by 10-15% between runs, more than most changes to a
request's code are worth; an instruction count does not (the same binary, data and request give the same count to a
fraction of a percent, whatever else the machine does). Each binary given (default: the release build) is started
under callgrind on the benchmark database, warmed with 30 requests of a shape, and then counted over N more sent one
after another on one keep-alive connection:

    bench/instructions.py                              # the release build, every read shape
    bench/instructions.py /tmp/before/paydesk target/dist/paydesk        # two builds side by side
    N=50 SHAPES="0 2" bench/instructions.py            # fewer requests; shapes by index (0 list, 1 nested, 2 single)

What it counts: user-space instructions of the whole server process (every thread), so runtime, HTTP, GraphQL,
driver and JSON work all count; the kernel's share (sockets, wake-ups) and time spent waiting do not, and valgrind
counts every byte a large `memcpy` moves (`rep movsb`) as an instruction, which overstates moving big futures. Use it
to compare builds; use bench/run.py for what a client sees. Needs valgrind and the data set that bench/run.py
generates (run that once first).
"""

import glob
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (the suite's database, shapes and environment)

N = int(os.environ.get("N", "100"))
WARM = 30
PORT = 3190


def counted(binary, shapes):
    """{shape name: instructions per request} for one paydesk binary."""
    out = Path(tempfile.mkdtemp(prefix="paydesk-callgrind-")) / "cg"
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}.%p",
                             binary, "serve"], env=run.paydesk_env(run.URL, PORT),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    control = lambda *args: subprocess.run(["callgrind_control", *args, str(proc.pid)], check=True,
                                           capture_output=True)
    try:
        run.wait_for(f"http://127.0.0.1:{PORT}/healthz")
        token = run.admin_token(binary)
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=600)
        headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}

        def ask(body):
            conn.request("POST", "/graphql", json.dumps(body), headers)
            response = conn.getresponse()
            data = response.read()
            if response.status != 200 or b'"errors"' in data:
                sys.exit(f"paydesk answered {response.status}: {data[:300]!r}")

        counts = {}
        for name, body in shapes:
            for _ in range(WARM):
                ask(body)
            control("--zero")
            control("--instr=on")
            for _ in range(N):
                ask(body)
            control("--instr=off")
            before = set(glob.glob(f"{out}.*"))
            control("--dump")
            dumped = []
            for _ in range(50):
                dumped = set(glob.glob(f"{out}.*")) - before
                if dumped:
                    break
                time.sleep(0.2)
            time.sleep(0.5)  # let the dump finish writing
            total = sum(int(re.search(r"^totals:\s+(\d+)", Path(f).read_text(), re.M).group(1)) for f in dumped)
            counts[name] = total / N
        return counts
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main():
    binaries = sys.argv[1:] or [str(run.TARGET / "release" / "paydesk")]
    for tool in ("valgrind", "callgrind_control", "psql"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed")
    some_payout = run.one("SELECT id FROM payout_requests WHERE status = 'paid' ORDER BY created_at LIMIT 1")
    shapes = run.paydesk_reads(some_payout)
    picked = [shapes[int(i)] for i in os.environ.get("SHAPES", "0 1 2").split()]
    results = [counted(b, picked) for b in binaries]
    print(f"\nthousands of instructions per request ({N} requests each, one connection, PostgreSQL)\n")
    print("| read | " + " | ".join(binaries) + " |")
    print("|" + " --- |" * (len(binaries) + 1))
    for name, _ in picked:
        print(f"| {name} | " + " | ".join(f"{r[name] / 1000:.0f}" for r in results) + " |")


if __name__ == "__main__":
    main()
