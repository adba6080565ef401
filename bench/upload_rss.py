#!/usr/bin/env python3
"""Peak RSS of `scholia serve` while one EPUB is uploaded to it (results: BENCHMARKS.md, "Import").

    bench/upload_rss.py SCHOLIA_BIN EPUB [ROUNDS]

Each round: a fresh data directory, a librarian made with `scholia user add`, `scholia serve`
started under /usr/bin/time -v on a free loopback port, a login, a bearer token, one
`curl -F file=@EPUB` to POST /api/books, then SIGTERM to the server. Prints the server's peak
RSS, its CPU time (user + sys) and the upload's wall time for each round.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

PASSWORD = "upload-bench-password-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, body=None, headers=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req) as resp:
        return resp.headers, json.loads(resp.read() or b"null")


def one_round(binary, epub):
    work = tempfile.mkdtemp(prefix="scholia-upload-rss.")
    data = os.path.join(work, "data")
    try:
        subprocess.run([binary, "--data-dir", data, "user", "add", "lib", "--role", "librarian",
                        "--password-stdin"], input=PASSWORD.encode() + b"\n", check=True,
                       stdout=subprocess.DEVNULL)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        time_path = os.path.join(work, "time.txt")
        env = dict(os.environ, TMPDIR=work)
        server = subprocess.Popen(["/usr/bin/time", "-v", "-o", time_path, binary, "--data-dir",
                                   data, "--addr", f"127.0.0.1:{port}", "serve"],
                                  stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "log"), "w"),
                                  env=env)
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        headers, _ = request(f"{base}/api/auth/login", {"username": "lib", "password": PASSWORD})
        cookie = headers["Set-Cookie"].split(";")[0]
        _, me = request(f"{base}/api/me", headers={"Cookie": cookie})
        _, token = request(f"{base}/api/me/tokens", {"name": "bench"},
                           headers={"Cookie": cookie, "X-CSRF-Token": me["csrf_token"],
                                    "Origin": base})
        start = time.monotonic()
        out = subprocess.run(["curl", "-sS", "-o", os.path.join(work, "answer"), "-w",
                              "%{http_code}", "-H", f"Authorization: Bearer {token['token']}",
                              "-F", f"file=@{epub}", f"{base}/api/books"],
                             capture_output=True, check=True)
        wall = time.monotonic() - start
        status = out.stdout.decode()
        answer = open(os.path.join(work, "answer")).read()
        # The server, not /usr/bin/time (which a SIGTERM would end before it reports).
        with open(f"/proc/{server.pid}/task/{server.pid}/children") as children:
            for child in children.read().split():
                os.kill(int(child), signal.SIGTERM)
        server.wait(timeout=60)
        if status != "201":
            sys.exit(f"upload answered {status}: {answer[:500]}")
        fields = {}
        for line in open(time_path):
            key, _, value = line.strip().rpartition(": ")
            fields[key] = value
        cpu = float(fields["User time (seconds)"]) + float(fields["System time (seconds)"])
        rss = int(fields["Maximum resident set size (kbytes)"]) / 1024
        passages = json.loads(answer)["passages"]
        return rss, cpu, wall, passages
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    binary, epub = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    rounds = int(sys.argv[3]) if len(sys.argv) == 4 else 1
    for _ in range(rounds):
        load = os.getloadavg()[0]
        rss, cpu, wall, passages = one_round(binary, epub)
        print(f"{binary} {os.path.basename(epub)}: server peak RSS {rss:.0f} MiB, server CPU "
              f"{cpu:.2f} s, upload wall {wall:.1f} s, {passages} passages, load {load:.1f}->"
              f"{os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
