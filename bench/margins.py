#!/usr/bin/env python3
"""What a margin costs for every reader, over HTTP, on the annotations benchmark's data.

    bench/margins.py URL TOKEN DATABASE [REQUESTS]

URL is a running server (`scholia serve`) on DATABASE, the benchmark's seeded database
(`sqlite://PATH` or a `postgres://` URL, read with psql); TOKEN is the API token
`bench/annotations` prints for its reader (BENCH_TOKEN; kept with BENCH_KEEP=1). Picks the
public chapters nearest 300, 3,000, 10,000 and 20,000 notes, and times one request after
another (keep-alive, REQUESTS of each, default 30, after 3 to warm up) for each reader:
the benchmark's reader with margin none, groups, everyone and everyone with "my reading
first", and an anonymous visitor (whose margin is everyone); the listing of 50 newest, the
listing in reading order, and the counts. Beside each, how many notes the margin shows on
the chapter (the counts' sum). Prints a Markdown table of medians in milliseconds. The
reader's stored preferences are put back afterwards.
"""

import http.client
import json
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse

SIZES = [300, 3_000, 10_000, 20_000]
CHAPTERS_SQL = (
    "SELECT a.book_id, a.chapter, COUNT(*) FROM annotations a "
    "JOIN books b ON b.id = a.book_id WHERE b.access = 'public' "
    "GROUP BY a.book_id, a.chapter"
)


def chapters(database):
    if database.startswith("sqlite:"):
        path = database.split("://", 1)[1]
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            rows = db.execute(CHAPTERS_SQL).fetchall()
    else:
        out = subprocess.run(["psql", "-At", "-F", "\t", database, "-c", CHAPTERS_SQL],
                             check=True, capture_output=True, text=True).stdout
        rows = [(b, int(c), int(n)) for b, c, n in (line.split("\t") for line in out.splitlines())]
    return [min(rows, key=lambda row: abs(row[2] - size)) for size in SIZES]


class Client:
    def __init__(self, url, token):
        parts = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port)
        self.token = token

    def request(self, method, path, body=None, signed_in=True):
        headers = {"Content-Type": "application/json"}
        if signed_in:
            headers["Authorization"] = f"Bearer {self.token}"
        self.conn.request(method, path, body=None if body is None else json.dumps(body),
                          headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            sys.exit(f"margins: {method} {path} answered {response.status}: {data[:200]!r}")
        return json.loads(data)

    def median_ms(self, path, signed_in, requests):
        for _ in range(3):
            self.request("GET", path, signed_in=signed_in)
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            self.request("GET", path, signed_in=signed_in)
            samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    url, token, database = sys.argv[1:4]
    requests = int(sys.argv[4]) if len(sys.argv) > 4 else 30
    client = Client(url, token)
    saved = client.request("GET", "/api/me/preferences")
    readers = [
        ("none", True, "none", False),
        ("groups", True, "groups", False),
        ("everyone", True, "everyone", False),
        ("everyone, my reading first", True, "everyone", True),
        ("anonymous (everyone)", False, "", False),
    ]
    print("| notes in chapter | reader | notes shown | newest 50 ms | reading order 50 ms | counts ms |")
    print("|---:|---|---:|---:|---:|---:|")
    try:
        for book, chapter, notes in chapters(database):
            for name, signed_in, margin, first in readers:
                if signed_in:
                    client.request("PUT", "/api/me/preferences",
                                   {**saved, "books": {}, "my_reading_first": first})
                asked = f"&margin={margin}" if margin else ""
                base = f"/api/books/{book}/annotations"
                counts_path = f"{base}/counts?chapter={chapter}{asked}"
                shown = sum(item["count"] for item in
                            client.request("GET", counts_path, signed_in=signed_in)["items"])
                newest = client.median_ms(f"{base}?chapter={chapter}&limit=50{asked}",
                                          signed_in, requests)
                reading = client.median_ms(
                    f"{base}?chapter={chapter}&order=reading&limit=50{asked}", signed_in, requests)
                counts = client.median_ms(counts_path, signed_in, requests)
                print(f"| {notes} | {name} | {shown} | {newest:.2f} | {reading:.2f} | {counts:.2f} |",
                      flush=True)
    finally:
        client.request("PUT", "/api/me/preferences", saved)


if __name__ == "__main__":
    main()
