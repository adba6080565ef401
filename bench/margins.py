#!/usr/bin/env python3
"""What a margin costs for every reader, over HTTP, on the annotations benchmark's data.

    bench/margins.py URL TOKEN DATABASE [REQUESTS] [WRK_SECONDS]

URL is a running server (`scholia serve`) on DATABASE, the benchmark's seeded database
(`sqlite://PATH` or a `postgres://` URL, read with psql); TOKEN is the API token
`bench/annotations` prints for its reader (BENCH_TOKEN; kept with BENCH_KEEP=1). Picks the
public chapters nearest 300, 3,000, 10,000 and 20,000 notes, and times one request after
another (keep-alive, REQUESTS of each, default 30, after 3 to warm up) for each reader:
the benchmark's reader with margin none, groups, everyone and everyone with "my reading
first", and an anonymous visitor (whose margin is everyone); the listing of 50 newest, the
listing in reading order, and the counts. Beside each, how many notes the margin shows on
the chapter (the counts' sum). With WRK_SECONDS, also loads the newest listing and the counts
with wrk at 32 connections for that long and reports their p50 and p99.

Then search (GET /api/books/{id}/search) on the books of the smallest and the largest of
those chapters and on the public book with the fewest notes (import one without notes to
compare with, e.g. an EPUB from bench/make_big_epub.py): a word in many notes, a quote of
one note (few), and a word in none, for the reader with margin everyone and for an anonymous
visitor, at 1 connection and (with WRK_SECONDS) at 32.

MARGINS_ONLY=margins or MARGINS_ONLY=search runs one of the two parts.

Prints Markdown tables of medians in milliseconds. The reader's stored preferences are put
back afterwards.
"""

import http.client
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse

SIZES = [300, 3_000, 10_000, 20_000]
# The seeder's bodies are words of its list: "irony" is in most of them, "zebrafish" in none.
MANY, NONE = "irony", "zebrafish"
BOOK_NOTES_SQL = (
    "SELECT b.id, COUNT(a.id) FROM books b LEFT JOIN annotations a ON a.book_id = b.id "
    "WHERE b.access = 'public' GROUP BY b.id"
)
CHAPTERS_SQL = (
    "SELECT a.book_id, a.chapter, COUNT(*) FROM annotations a "
    "JOIN books b ON b.id = a.book_id WHERE b.access = 'public' "
    "GROUP BY a.book_id, a.chapter"
)


def query(database, sql):
    """Rows of `sql` on the seeded database, read-only; every column but the first an int."""
    if database.startswith("sqlite:"):
        path = database.split("://", 1)[1]
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return db.execute(sql).fetchall()
    out = subprocess.run(["psql", "-At", "-F", "\t", database, "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [(first, *map(int, rest))
            for first, *rest in (line.split("\t") for line in out.splitlines())]


def chapters(database):
    rows = query(database, CHAPTERS_SQL)
    return [min(rows, key=lambda row: abs(row[2] - size)) for size in SIZES]


def wrk(url, token, seconds):
    """p50 and p99 in milliseconds of `url` loaded at 32 connections for `seconds`."""
    headers = ["-H", f"Authorization: Bearer {token}"] if token else []
    out = subprocess.run(["wrk", "-c", "32", "-t", "2", "-d", f"{seconds}s", "--latency",
                          *headers, url], check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in out:
        sys.exit(f"margins: {url} answered errors under load:\n{out}")

    def ms(label):
        value = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        number, unit = float(value.group(1)), value.group(2)
        return number * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    return ms(50), ms(99)


class Client:
    def __init__(self, url, token):
        parts = urllib.parse.urlsplit(url)
        self.address = (parts.hostname, parts.port)
        self.conn = http.client.HTTPConnection(*self.address)
        self.token = token

    def request(self, method, path, body=None, signed_in=True):
        headers = {"Content-Type": "application/json"}
        if signed_in:
            headers["Authorization"] = f"Bearer {self.token}"
        body = None if body is None else json.dumps(body)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.HTTPException):
            # The server closes a connection left idle (while wrk ran): open another.
            self.conn.close()
            self.conn = http.client.HTTPConnection(*self.address)
            self.conn.request(method, path, body=body, headers=headers)
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
    seconds = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    client = Client(url, token)
    only = os.environ.get("MARGINS_ONLY", "")
    measured = chapters(database)
    if only != "search":
        margins(client, url, token, measured, requests, seconds)
    if only != "margins":
        search(client, url, token, database, measured, requests, seconds)


def margins(client, url, token, measured, requests, seconds):
    """The margins table: every reader on chapters of every size."""
    saved = client.request("GET", "/api/me/preferences")
    readers = [
        ("none", True, "none", False),
        ("groups", True, "groups", False),
        ("everyone", True, "everyone", False),
        ("everyone, my reading first", True, "everyone", True),
        ("anonymous (everyone)", False, "", False),
    ]
    loaded = " | c=32 newest p50 / p99 | c=32 counts p50 / p99" if seconds else ""
    print(f"| notes in chapter | reader | notes shown | newest 50 ms | reading order 50 ms "
          f"| counts ms{loaded} |")
    print("|---:|---|---:|---:|---:|---:|" + ("---:|---:|" if seconds else ""))
    try:
        for book, chapter, notes in measured:
            for name, signed_in, margin, first in readers:
                if signed_in:
                    client.request("PUT", "/api/me/preferences",
                                   {**saved, "books": {}, "my_reading_first": first})
                asked = f"&margin={margin}" if margin else ""
                base = f"/api/books/{book}/annotations"
                counts_path = f"{base}/counts?chapter={chapter}{asked}"
                newest_path = f"{base}?chapter={chapter}&limit=50{asked}"
                shown = sum(item["count"] for item in
                            client.request("GET", counts_path, signed_in=signed_in)["items"])
                newest = client.median_ms(newest_path, signed_in, requests)
                reading = client.median_ms(
                    f"{base}?chapter={chapter}&order=reading&limit=50{asked}", signed_in, requests)
                counts = client.median_ms(counts_path, signed_in, requests)
                row = f"| {notes} | {name} | {shown} | {newest:.2f} | {reading:.2f} | {counts:.2f} |"
                if seconds:
                    bearer = token if signed_in else None
                    for path in (newest_path, counts_path):
                        p50, p99 = wrk(url + path, bearer, seconds)
                        row += f" {p50:.2f} / {p99:.2f} |"
                print(row, flush=True)
    finally:
        client.request("PUT", "/api/me/preferences", saved)


def search(client, url, token, database, measured, requests, seconds):
    """The search table: many, few and no matching notes on books of different sizes."""
    counts = dict(query(database, BOOK_NOTES_SQL))
    emptiest = min(counts, key=counts.get)
    books = [measured[0][0], measured[-1][0], emptiest]
    loaded = " | c=32 p50 / p99" if seconds else ""
    print()
    print(f"| notes in book | query | reader | notes found (first page, 20 at most) | ms{loaded} |")
    print("|---:|---|---|---:|---:|" + ("---:|" if seconds else ""))
    for book in dict.fromkeys(books):
        first = client.request("GET", f"/api/books/{book}/annotations?limit=1&margin=everyone")
        quote = " ".join(first["items"][0]["exact"].split()[:3]) if first["items"] else NONE
        for label, words in (("many", MANY), ("few (a quote)", quote), ("none", NONE)):
            for reader, signed_in in (("everyone", True), ("anonymous", False)):
                path = (f"/api/books/{book}/search?q={urllib.parse.quote(words)}"
                        "&margin=everyone&annotations_limit=20")
                found = len(client.request("GET", path, signed_in=signed_in)["annotations"]["items"])
                ms = client.median_ms(path, signed_in, requests)
                row = f"| {counts[book]} | {label} | {reader} | {found} | {ms:.2f} |"
                if seconds:
                    p50, p99 = wrk(url + path, token if signed_in else None, seconds)
                    row += f" {p50:.2f} / {p99:.2f} |"
                print(row, flush=True)


if __name__ == "__main__":
    main()
