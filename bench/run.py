#!/usr/bin/env python3
"""courier's benchmark harness (python3 standard library only).

Runs courier-recv, courier-send and courier-flush the way an operator
would (their real flags, a fresh store made with courier-ctl), drives them
with wrk and a local nginx on 127.0.0.1, reads the outcome from the store
(sqlite3 read-only on a SQLite file, psql on a PostgreSQL database), prints
one table of figures against the targets, and writes the same as JSON to
bench/results/. Rows receive, send, mixed and flush run once per engine
(--engines), PostgreSQL's on a private cluster the harness makes and stops.
See bench/README.md.

    python3 bench/run.py --bin-dir build/release/tools --bench-bin-dir build/release/bench
    python3 bench/run.py --quick --rows receive,flush --engines postgresql

Exit status: 0 every row ran and every correctness check held (a missed
performance target does not change it); 1 a row failed or a check did not
hold (msgs lost, a count wrong); 64 usage; 69 a program is missing.
"""

import argparse
import ctypes
import json
import os
import platform
import pwd
import re
import resource
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE_DIR = os.path.join(REPO, "bench", ".cache")
# Bump when the scale-store generator changes: cached stores are keyed by
# schema version, this and the msg count.
GENERATOR_VERSION = 2
ROWS = ["receive", "send", "mixed", "flush", "scale", "memory", "hook", "api"]
ENGINES = ["sqlite", "postgresql"]
# The rows that run once per engine; the others measure SQLite only.
ENGINE_ROWS = ("receive", "send", "mixed", "flush")
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Targets per engine; None: the figure is shown without one. SQLite's are
# issue 22's (performance, round 2); PostgreSQL's are for this 2-core
# machine with the server on it, sharing the cores with courier, wrk and
# nginx.
TARGETS = {
    "sqlite": {"receive_rps": 20000, "receive_p99_ms": 10, "nginx_ratio": 1 / 3, "send_rate": 12000,
               "flush_rate": 25000, "mixed_p99_ms": 20, "mixed_share": 0.70},
    "postgresql": {"receive_rps": 5000, "receive_p99_ms": 50, "nginx_ratio": None, "send_rate": 3000,
                   "flush_rate": None, "mixed_p99_ms": None, "mixed_share": None},
}
# Issue 22's bound on the three daemons' idle Pss together (row memory).
MEMORY_PSS_SUM_MIB = 20
PORT_LISTEN_STATE = "0A"


class BenchError(Exception):
    """A row cannot go on; the message says why."""


# --- processes -----------------------------------------------------------------


def _die_with_parent():
    # Children get SIGTERM if the harness itself dies (kill -9 included),
    # so no daemon outlives a run. Linux PR_SET_PDEATHSIG = 1.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


class Procs:
    """Every process the harness starts in the background, to stop them all."""

    def __init__(self):
        self.live = []  # [(name, Popen, log file)]

    def start(self, name, argv, log_path):
        log = open(log_path, "ab")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True, preexec_fn=_die_with_parent)
        self.live.append((name, p, log))
        return p

    def stop(self, p, timeout=40):
        """SIGTERM, then SIGKILL after `timeout` s; returns the exit status."""
        for i, (_, q, log) in enumerate(self.live):
            if q is p:
                del self.live[i]
                break
        else:
            log = None
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if log:
            log.close()
        return p.returncode

    def stop_all(self, keep=()):
        for name, p, _ in list(reversed(self.live)):
            if name not in keep:
                self.stop(p, timeout=10)

    def pids(self):
        return {p.pid for _, p, _ in self.live}


def proc_status(pid):
    """VmRSS, VmHWM (kB) of a live process from /proc/PID/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                out[key] = int(value.split()[0])
    # Pss: shared pages (the ~50 shared libraries) divided among the
    # processes that map them; private: the pages only this one maps.
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("Pss", "Private_Clean", "Private_Dirty"):
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def proc_cpu_s(pid):
    """CPU seconds (user + system, all threads) a live process has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_written(pid):
    """Bytes a live process has passed to write(2) and pwrite(2) so far
    (/proc/PID/io wchar): the store's WAL frames, its checkpoints' pages,
    spool files and log lines. The store's writes are most of it; per msg,
    they say how many pages a msg costs (4 KiB each)."""
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith("wchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def other_load(mine=()):
    """What else runs on the machine: the load average and the processes
    that compete with a benchmark, other than `mine` and their children."""
    names = {"courier-recv", "courier-send", "courier-flush", "courier-ctl", "wrk", "nginx", "cc1plus", "postgres"}
    mine = set(mine) | {os.getpid()}
    seen = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) in mine:
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid in mine:
            continue
        if comm in names:
            seen[comm] = seen.get(comm, 0) + 1
    return {"loadavg": [round(x, 2) for x in os.getloadavg()], "processes": seen}


def listeners(port):
    """How many sockets listen on 127.0.0.1:port (or any address)."""
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, state = fields[1], fields[3]
                    if state == PORT_LISTEN_STATE and int(local.rsplit(":", 1)[1], 16) == port:
                        n += 1
        except OSError:
            pass
    return n


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=1.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, urllib.error.URLError):
        return None


def percentile(values, q):
    """Nearest-rank q-quantile (0..1) of values; None when empty."""
    if not values:
        return None
    v = sorted(values)
    rank = max(1, min(len(v), int(-(-q * len(v) // 1))))
    return v[rank - 1]


def is_postgresql(db):
    return db.startswith(("postgresql://", "postgres://"))


def ro(db):
    """A read-only connection to a store: sqlite3 on a file (WAL readers see
    every commit), psql on a postgresql:// URL (PsqlConnection)."""
    if is_postgresql(db):
        return PsqlConnection(db)
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)


def psql_argv(url):
    """psql on the database of a postgresql:// URL: no psqlrc, unaligned
    tuples only, stopping at the first error."""
    u = urllib.parse.urlsplit(url)
    return ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", u.hostname or "127.0.0.1", "-p",
            str(u.port or 5432), "-U", u.username or "courier", "-d", u.path.lstrip("/") or "postgres"]


class PsqlRows(list):
    """A query's rows as tuples, read the way a sqlite3 cursor is."""

    def fetchone(self):
        return self[0] if self else None

    def fetchall(self):
        return list(self)


class PsqlConnection:
    """What the harness uses of a sqlite3 connection (execute, its rows by
    fetchone, fetchall or iteration, close) on a PostgreSQL store, through
    psql. Values come back as SQLite gives them: integers as int, NULL as
    None, the rest as str. `?` placeholders become SQL literals (the
    harness's own ids, uuids and times; no `?` in its SQL text otherwise).

    One psql session a database, kept open until the row ends
    (close_sessions): a psql run a query would start a backend each time,
    about 30 ms of the server's CPU on this machine, which the send row's
    polls would add to courier's PostgreSQL CPU by the second."""

    SEP = "\x1f"  # unit separator: in no value the harness reads
    NULL = "\\N"
    END = "--courier-bench-end--"
    sessions = {}  # url -> Popen of `psql -f -`

    def __init__(self, url):
        self.url = url

    @staticmethod
    def literal(v):
        if v is None:
            return "NULL"
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, (int, float)):
            return repr(v)
        return "'" + str(v).replace("'", "''") + "'"

    @staticmethod
    def value(text):
        if text == PsqlConnection.NULL:
            return None
        if re.fullmatch(r"-?[0-9]+", text):
            return int(text)
        return text

    def session(self):
        p = self.sessions.get(self.url)
        if p is None or p.poll() is not None:
            # stderr to a file: a pipe nobody reads could fill.
            err = tempfile.TemporaryFile()
            argv = psql_argv(self.url)[:1] + ["-q", "-F", self.SEP, "-P", f"null={self.NULL}", "-f", "-"] + \
                psql_argv(self.url)[1:]
            p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True,
                                 bufsize=1, preexec_fn=_die_with_parent)
            p.err = err
            self.sessions[self.url] = p
        return p

    def execute(self, sql, args=()):
        parts = sql.split("?")
        if len(parts) - 1 != len(args):
            raise BenchError(f"{len(args)} values for {len(parts) - 1} placeholders in {sql}")
        text = parts[0] + "".join(self.literal(v) + rest for v, rest in zip(args, parts[1:]))
        p = self.session()
        rows = PsqlRows()
        try:
            p.stdin.write(f"{text.rstrip().rstrip(';')};\n\\echo {self.END}\n")
            p.stdin.flush()
            for line in p.stdout:
                line = line.rstrip("\n")
                if line == self.END:
                    return rows
                rows.append(tuple(self.value(f) for f in line.split(self.SEP)))
        except BrokenPipeError:
            pass
        # ON_ERROR_STOP: psql has quit at the error.
        p.wait(10)
        p.err.seek(0)
        why = p.err.read().decode(errors="replace").strip()[-1000:]
        del self.sessions[self.url]
        raise BenchError(f"psql on {self.url}: {text!r} failed (exit {p.returncode}): {why}")

    def close(self):
        pass

    @classmethod
    def close_sessions(cls):
        for p in cls.sessions.values():
            try:
                p.stdin.close()
                p.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                p.kill()
                p.wait()
            p.err.close()
        cls.sessions.clear()


# --- PostgreSQL ----------------------------------------------------------------


def find_pg_bin():
    """Debian's server programs of the newest PostgreSQL present
    (/usr/lib/postgresql/<major>/bin), as tests/support/postgres_server.cpp
    finds them; None when there are none."""
    best = None
    try:
        versions = os.listdir("/usr/lib/postgresql")
    except OSError:
        return None
    for v in versions:
        b = os.path.join("/usr/lib/postgresql", v, "bin")
        if v.isdigit() and all(os.access(os.path.join(b, t), os.X_OK) for t in ("initdb", "pg_ctl", "postgres")):
            if best is None or int(v) > best[0]:
                best = (int(v), b)
    return best[1] if best else None


def pg_unavailable():
    """Why the PostgreSQL rows cannot run here, or "" when they can."""
    if not find_pg_bin():
        return ("no initdb/pg_ctl/postgres in /usr/lib/postgresql/<version>/bin (Debian package postgresql; "
                "scripts/install-deps.sh installs it)")
    if not shutil.which("psql"):
        return "no psql (Debian package postgresql-client; scripts/install-deps.sh installs it)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return ("running as root and there is no `postgres` user to run initdb and pg_ctl as "
                    "(Debian's postgresql package creates it)")
        if not shutil.which("runuser", path="/usr/sbin:/sbin:/usr/bin:/bin"):
            return "running as root and there is no runuser to run initdb and pg_ctl as `postgres`"
    return ""


def tree_cpu_s(root):
    """CPU seconds (user + system) of process `root` and its children, with
    those of the children it has reaped: for a postmaster, the whole
    cluster's (backends, those of connections already closed included, WAL
    writer, checkpointer, autovacuum), as bench/pg_driver_bench.cpp counts it."""
    ticks = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(pid) == root:
            ticks += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        elif int(fields[1]) == root:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class PgCluster:
    """One private PostgreSQL cluster for the whole run, in $TMP/pg, made and
    run the way tests/support/postgres_server.cpp makes its servers: initdb
    -U courier --auth=trust (UTF8, no locale, --no-sync: the new catalog
    need not reach the disk before the first start), pg_ctl on a free
    127.0.0.1 port with its Unix socket in $TMP/pg, as the `postgres` user
    when the harness runs as root (initdb and pg_ctl refuse root), with
    fsync, synchronous_commit and full_page_writes at their defaults (on):
    every commit waits for its WAL fsync, as on SQLite. A database a row."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.bin = find_pg_bin()
        self.dir = os.path.join(ctx.tmp, "pg")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        self.port = None
        self.user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        self.databases = []
        self.settings = {}
        self.watchdog = None

    def tool(self, name, *args, check=True, record=True, note=""):
        argv = [os.path.join(self.bin, name)] + list(args)
        if self.user:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        return self.ctx.run(argv, check=check, record=record, note=note, cwd=self.dir, timeout=180)

    def start(self):
        os.makedirs(self.dir)
        with open(self.log, "a"):
            pass
        if self.user:
            # postgres must reach $TMP/pg through $TMP (0700, root's).
            os.chmod(self.ctx.tmp, 0o711)
            for path in (self.dir, self.log):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        self.start_watchdog()
        self.tool("initdb", "-D", self.data, "-U", "courier", "--auth=trust", "-E", "UTF8", "--no-locale",
                  "--no-sync", note="as the postgres user when root; --no-sync: only the catalog's first write")
        # A port taken by another process between free_port() and the
        # postmaster's bind: another one.
        for attempt in range(5):
            self.port = free_port()
            r = self.tool("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "-o",
                          f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1" +
                          (" -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on"
                           if self.ctx.args.pg_statements else ""),
                          "start", check=False,
                          note="fsync, synchronous_commit, full_page_writes: the defaults (on)")
            if r.returncode == 0:
                break
            with open(self.log, errors="replace") as f:
                log = f.read()
            if "could not bind" not in log or attempt == 4:
                raise BenchError(f"pg_ctl start exited {r.returncode}: {r.stderr.strip()[-500:]}\n{log[-2000:]}")
        c = ro(self.url("postgres"))
        row = c.execute("SELECT current_setting('fsync'), current_setting('synchronous_commit'), "
                        "current_setting('full_page_writes'), current_setting('wal_sync_method'), "
                        "current_setting('shared_buffers'), current_setting('max_connections'), "
                        "current_setting('server_version')").fetchone()
        self.settings = dict(zip(("fsync", "synchronous_commit", "full_page_writes", "wal_sync_method",
                                  "shared_buffers", "max_connections", "server_version"), row))
        PsqlConnection.close_sessions()
        if self.settings["fsync"] != "on" or self.settings["synchronous_commit"] != "on" or \
                self.settings["full_page_writes"] != "on":
            raise BenchError(f"the cluster is not durable: {self.settings}")

    def start_watchdog(self):
        # pg_ctl's postmaster is no child of the harness: a shell that wakes
        # when the harness is gone however it went (the pipe's EOF) stops
        # it, as postgres_server.cpp's watchdog does (SIGQUIT: immediate).
        script = ('read -r _\n'
                  'pidfile="$1/postmaster.pid"\n'
                  'if [ -f "$pidfile" ]; then\n'
                  '  kill -QUIT "$(head -n 1 "$pidfile")" 2>/dev/null\n'
                  'fi\n')
        self.watchdog = subprocess.Popen(["/bin/sh", "-c", script, "courier-bench-pg-watchdog", self.data],
                                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, start_new_session=True)

    def url(self, db):
        return f"postgresql://courier@127.0.0.1:{self.port}/{db}"

    def create_db(self, name):
        """A new database (its name made of `name`), by URL."""
        base = re.sub(r"[^a-z0-9_]", "_", name.lower())[:50] or "db"
        db, n = base, 1
        while db in self.databases:
            n += 1
            db = f"{base}_{n}"
        argv = psql_argv(self.url("postgres")) + ["-c", f"CREATE DATABASE {db}"]
        self.ctx.run(argv)
        self.databases.append(db)
        return self.url(db)

    def postmaster(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def pids(self):
        pm = self.postmaster()
        return {pm} if pm else set()

    def cpu_s(self):
        pm = self.postmaster()
        return tree_cpu_s(pm) if pm else 0.0

    def stop(self):
        PsqlConnection.close_sessions()
        if self.port and self.postmaster():
            self.tool("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop", check=False, record=False)
        if self.watchdog:
            self.watchdog.stdin.close()
            self.watchdog.wait()
            self.watchdog = None

    def describe(self):
        s = self.settings
        return (f"PostgreSQL {s.get('server_version', '?')} ({self.bin}), a cluster of the run's own on "
                f"127.0.0.1:{self.port}, a database a row; fsync {s.get('fsync')}, synchronous_commit "
                f"{s.get('synchronous_commit')}, full_page_writes {s.get('full_page_writes')} (the defaults: "
                f"every commit waits for its WAL {s.get('wal_sync_method')}; durability is what is measured), "
                f"shared_buffers {s.get('shared_buffers')}")


# --- the run -------------------------------------------------------------------


class Store:
    """A store, spool and run dir in the temp dir, made by courier-ctl: on
    the row's engine, a SQLite file in the dir or a new database of the
    run's PostgreSQL cluster."""

    def __init__(self, ctx, name, db=None):
        self.ctx = ctx
        if ctx.engine == "postgresql":
            name = ctx.tag(name)
        self.dir = os.path.join(ctx.tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        if not db and ctx.engine == "postgresql":
            db = ctx.pg.create_db(name)
        self.db = db or os.path.join(self.dir, "courier.db")
        self.spool = os.path.join(self.dir, "spool")
        self.run = os.path.join(self.dir, "run")

    def shared(self):
        return ["--db", self.db, "--spool-dir", self.spool, "--run-dir", self.run]

    def ctl(self, *args, record=True, check=True):
        return self.ctx.run([self.ctx.bin("courier-ctl")] + self.shared() + list(args), record=record, check=check)

    def init(self):
        self.ctl("init")
        return self

    def channel_add(self, type_, address, config=(), record=True):
        args = ["channel", "add", "--type", type_, "--address", address, "--country", "RW"]
        for c in config:
            args += ["--config", c]
        return self.ctl(*args, record=record).stdout.strip()

    def channel_id(self, uuid):
        return self.count("SELECT id FROM channels WHERE uuid = ?", (uuid,))

    def count(self, sql, args=()):
        c = ro(self.db)
        try:
            return c.execute(sql, args).fetchone()[0]
        finally:
            c.close()


class Ctx:
    def __init__(self, args):
        self.args = args
        self.procs = Procs()
        self.tmp = None
        self.commands = {}  # row -> [command lines]
        self.row = None
        self.shared = {}  # figures one row leaves for another (memory)
        self.nginx_port = None
        self.failed_checks = []
        self.engine = "sqlite"  # the row's
        self.pg = None  # PgCluster, when a row runs on PostgreSQL

    def tag(self, name):
        """Names of files and dirs a row makes: SQLite's as they always were,
        PostgreSQL's with -pg."""
        return name if self.engine == "sqlite" else f"{name}-pg"

    def label(self, row):
        """A row as the table shows it: "send", "send (PostgreSQL)"."""
        return row if self.engine == "sqlite" else f"{row} ({ENGINE_NAMES[self.engine]})"

    def target(self, key):
        return TARGETS[self.engine][key]

    def pg_cpu_s(self):
        """CPU seconds the run's PostgreSQL cluster has used (0 on SQLite)."""
        return self.pg.cpu_s() if self.engine == "postgresql" else 0.0

    # Paths shown in command lines are shortened to these names.
    def display(self, argv):
        text = shlex.join(str(a) for a in argv)
        for path, name in ((self.tmp, "$TMP"), (self.args.bench_bin_dir, "$BENCH_BIN"),
                           (self.args.bin_dir, "$BIN"), (CACHE_DIR, "$CACHE")):
            if path:
                text = text.replace(path, name)
        return text

    def record(self, argv, note=""):
        line = self.display(argv) + (f"   # {note}" if note else "")
        self.commands.setdefault(self.row or "setup", []).append(line)

    def bin(self, name):
        return os.path.join(self.args.bin_dir, name)

    def run(self, argv, record=True, check=True, note="", timeout=3600, **kw):
        if record:
            self.record(argv, note)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, preexec_fn=_die_with_parent, **kw)
        if check and r.returncode != 0:
            raise BenchError(f"{self.display(argv)} exited {r.returncode}: {r.stderr.strip()[-2000:]}")
        return r

    def start(self, name, argv, log_name, note=""):
        self.record(argv, note)
        return self.procs.start(name, argv, os.path.join(self.tmp, log_name))

    def log_tail(self, log_name, n=15):
        try:
            with open(os.path.join(self.tmp, log_name), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # --- daemons ---------------------------------------------------------------

    def start_recv(self, store, label):
        port = free_port()
        log = f"{label}-recv.log"
        p = self.start("courier-recv", [self.bin("courier-recv")] + store.shared() + ["--port", str(port)], log)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while http_get(url + "/") != 200:
            if p.poll() is not None:
                raise BenchError(f"courier-recv exited {p.returncode}:\n{self.log_tail(log)}")
            if time.monotonic() > deadline:
                raise BenchError(f"courier-recv not answering GET / after 30 s:\n{self.log_tail(log)}")
            time.sleep(0.02)
        self.check_single_listener(port, "courier-recv")
        return p, url

    def check_single_listener(self, port, who):
        # courier-recv's socket allows SO_REUSEPORT: a second process on the
        # same port would silently take half the requests.
        n = listeners(port)
        if n != 1:
            raise BenchError(f"{n} sockets listen on 127.0.0.1:{port}, expected only {who}'s")

    def wait_daemon(self, store, program, p, log):
        """Polls courier-ctl status until `program` answers on its control socket."""
        deadline = time.monotonic() + 30
        while True:
            if p.poll() is not None:
                raise BenchError(f"{program} exited {p.returncode}:\n{self.log_tail(log)}")
            r = store.ctl("status", "--json", record=False, check=False)
            try:
                if json.loads(r.stdout)["daemons"].get(program):
                    return
            except (ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"{program} not answering courier-ctl status after 30 s:\n{self.log_tail(log)}")
            time.sleep(0.05)

    def start_send(self, store, label, wait=False, index=0):
        log = f"{label}-send.log" if index == 0 else f"{label}-send{index + 1}.log"
        shared = store.shared()
        if index > 0:
            # Senders sharing a store each bind their sockets in a run dir of their own.
            run = f"{store.run}-{index + 1}"
            os.makedirs(run, exist_ok=True)
            shared[shared.index("--run-dir") + 1] = run
        # The sink is nginx on loopback, which courier-send refuses unless allowed.
        argv = [self.bin("courier-send")] + shared + ["--max-workers", str(self.args.send_workers),
                                                      "--outbound-allow", "127.0.0.1/32"]
        p = self.start("courier-send", argv, log,
                       note=f"--max-workers {self.args.send_workers}: the sink answers in well under 1 ms")
        if wait:
            self.wait_daemon(store, "courier-send", p, log)
        return p

    def nginx(self):
        """One nginx for the whole run: the reference server and the send sink."""
        if self.nginx_port:
            return self.nginx_port
        d = os.path.join(self.tmp, "nginx")
        os.makedirs(os.path.join(d, "temp"), exist_ok=True)
        port = free_port()
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""# courier bench: a reference server that does nothing but answer.
worker_processes 1;
pid {d}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    # courier-recv keeps connections open forever; so does this nginx.
    keepalive_requests 1000000;
    client_body_temp_path {d}/temp/body;
    proxy_temp_path {d}/temp/proxy;
    fastcgi_temp_path {d}/temp/fastcgi;
    uwsgi_temp_path {d}/temp/uwsgi;
    scgi_temp_path {d}/temp/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "ok"; }}
    }}
}}
""")
        nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
        if not nginx:
            raise BenchError("nginx not found (scripts/install-deps.sh bench installs it)")
        p = self.start("nginx", [nginx, "-c", conf, "-p", d, "-e", os.path.join(d, "error.log"),
                                 "-g", "daemon off;"], "nginx.log")
        deadline = time.monotonic() + 15
        while http_get(f"http://127.0.0.1:{port}/") != 200:
            if p.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"nginx did not start:\n{self.log_tail('nginx.log')}")
            time.sleep(0.02)
        self.nginx_port = port
        return port

    # --- wrk -------------------------------------------------------------------

    def wrk_script(self, kind, path, counting):
        name = os.path.join(self.tmp, f"wrk-{kind}-{'count' if counting else 'plain'}-{abs(hash(path)) % 10**8}.lua")
        body = wrk_lua("every request a distinct sender and text", WRK_RECEIVE_REQUEST, counting,
                       path=path, kind=kind)
        with open(name, "w") as f:
            f.write(body)
        return name

    def wrk_cmd(self, url, kind, path, duration, counting=False):
        self.args.salt += 1
        script = self.wrk_script(kind, path, counting)
        return ["wrk", "-t2", "-c32", f"-d{duration}s", "--latency", "-s", script, url + path,
                "--", str(self.args.salt)]

    def wrk_parse(self, argv, out, err):
        for line in out.splitlines():
            if line.startswith("BENCH_JSON "):
                r = json.loads(line[len("BENCH_JSON "):])
                secs = r["duration_us"] / 1e6
                r["rps"] = r["requests"] / secs if secs else 0
                r["socket_errors"] = r["connect"] + r["read"] + r["write"] + r["timeout"]
                # Without a response() hook wrk still counts status >= 400:
                # every other answer here is a 2xx.
                if r["n2xx"] < 0:
                    r["n2xx"] = r["requests"] - r["status"]
                    r["nother"] = r["status"]
                r["errors"] = r["socket_errors"] + r["nother"]
                r["p50_ms"], r["p99_ms"] = r["p50_us"] / 1000, r["p99_us"] / 1000
                return r
        raise BenchError(f"no result from {self.display(argv)}: {err.strip()[-1000:]} {out.strip()[-1000:]}")

    def wrk(self, url, kind, path, duration, counting=False, note=""):
        argv = self.wrk_cmd(url, kind, path, duration, counting)
        r = self.run(argv, note=note, timeout=duration + 120)
        return self.wrk_parse(argv, r.stdout, r.stderr)


def wrk_lua(comment, request, counting, **values):
    """A wrk script: the shared setup/init/done around `request` (the body
    of its request() function), each @NAME@ replaced by values[NAME]; with
    `counting`, a response() hook that counts 2xx and other answers."""
    body = WRK_LUA_FRAME.replace("@COMMENT@", comment).replace("@REQUEST@", request.rstrip("\n"))
    for name, value in values.items():
        body = body.replace(f"@{name.upper()}@", str(value))
    return body + (WRK_LUA_RESPONSE if counting else "")


WRK_LUA_FRAME = r"""-- generated by bench/run.py: @COMMENT@
path = "@PATH@"
threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  salt = args[1] or "1"
  counter = 0
  n2xx = 0
  nother = 0
end

function request()
@REQUEST@
end

function done(summary, latency, requests)
  local ok, other = -1, -1
  if response then
    ok, other = 0, 0
    for _, t in ipairs(threads) do
      ok = ok + t:get("n2xx")
      other = other + t:get("nother")
    end
  end
  local e = summary.errors
  io.write(string.format('BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"mean_us":%.1f,"n2xx":%d,"nother":%d}\n', summary.requests, summary.duration, e.connect,
    e.read, e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, ok, other))
end
"""

# courier-recv's webhooks: every request a distinct sender and text (and,
# for KN, a distinct provider id so dedup never kicks in). Each channel
# type its own senders (+2507880... for EX, +2507881... for KN): a URN
# the other row had left on its channel would be moved to this one on
# every webhook (an UPDATE of contact_urns each, 20 us of PostgreSQL's
# time), which real traffic, a contact writing on one channel, seldom does.
WRK_RECEIVE_REQUEST = r"""  local kind = "@KIND@"
  counter = counter + 1
  local range = kind == "kn" and 1 or 0
  local sender = string.format("%%2B250788%d%05d", range, (tid * 49999 + counter) % 100000)
  local text = "bench+" .. salt .. "+" .. tid .. "+" .. counter
  if kind == "kn" then
    local id = salt .. string.format("%02d%09d", tid, counter)
    return wrk.format("POST", path .. "?id=" .. id .. "&ts=" .. os.time() .. "&message=" .. text ..
                      "&sender=" .. sender, {}, "")
  end
  return wrk.format("POST", path, {["Content-Type"] = "application/x-www-form-urlencoded"},
                    "sender=" .. sender .. "&text=" .. text)
"""

# courier-api's POST /api/v1/msgs: `batch` msgs a request (one object, or
# an array), every msg to a distinct URN, with the bench token.
WRK_API_REQUEST = r"""  local msgs = {}
  for i = 1, @BATCH@ do
    counter = counter + 1
    msgs[i] = string.format('{"channel":"%s","urn":"tel:+2507880%05d","text":"bench %s %d %d"}', "@CHANNEL@",
                            (tid * 49999 + counter) % 100000, salt, tid, counter)
  end
  local body = msgs[1]
  if @BATCH@ > 1 then body = "[" .. table.concat(msgs, ",") .. "]" end
  return wrk.format("POST", path, {["Content-Type"] = "application/json",
                                   ["Authorization"] = "Bearer @TOKEN@"}, body)
"""

# Appended for the counting run: costs wrk the parsing of every response.
WRK_LUA_RESPONSE = r"""
function response(status, headers, body)
  if status >= 200 and status < 300 then n2xx = n2xx + 1 else nother = nother + 1 end
end
"""


# --- figures -------------------------------------------------------------------


class Figures:
    def __init__(self):
        self.items = []

    def add(self, row, name, value, unit="", target=None, ok=None, note=""):
        """target: text shown; ok: True pass, False miss, None no target."""
        self.items.append({"row": row, "figure": name, "value": value, "unit": unit,
                           "target": target or "", "pass": ok, "note": note})


def fmt(value, unit=""):
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if abs(value) >= 100:
            text = f"{value:,.0f}"
        elif abs(value) >= 10:
            text = f"{value:.1f}"
        else:
            text = f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return f"{text} {unit}".strip()


def wait_stable(count, settle=0.3, limit=15.0):
    """Polls count() until two readings `settle` s apart agree."""
    last = count()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        time.sleep(settle)
        now = count()
        if now == last:
            return now
        last = now
    return last


# --- rows ----------------------------------------------------------------------


def analyze(st):
    """ANALYZE of a PostgreSQL store's tables that hold rows: fresh
    statistics, and the plans prepared on empty tables invalidated
    (row_receive says why). Empty tables are left as autovacuum leaves
    them, never analyzed: analyzed empty, the planner takes them for empty
    until the next ANALYZE and prepares seq scans on them (the send row's
    attempts did so, 485 us a msg, before the schema's version 8)."""
    c = ro(st.db)
    try:
        tables = [r[0] for r in c.execute("SELECT relname FROM pg_stat_user_tables ORDER BY relname")]
        full = [t for t in tables if c.execute(f"SELECT EXISTS (SELECT 1 FROM {t})").fetchone()[0] in (True, "t")]
        st.ctx.record(["psql", st.db, "-c", "ANALYZE " + ", ".join(full)],
                      note="statistics of the tables with rows, as autovacuum would gather them")
        if full:
            c.execute("ANALYZE " + ", ".join(full))
    finally:
        c.close()


def pg_statements_reset(st):
    """With --pg-statements: pg_stat_statements from zero for this store's
    database, so pg_statements() shows what the measured run cost."""
    if not st.ctx.args.pg_statements or st.ctx.engine != "postgresql":
        return
    c = ro(st.db)
    try:
        c.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        c.execute("SELECT pg_stat_statements_reset()")
    finally:
        c.close()


def pg_statements(st, what, units, details):
    """With --pg-statements: the statements that took the server's time
    since pg_statements_reset(), most first, per `what` (webhook, msg),
    printed and kept in the row's details."""
    if not st.ctx.args.pg_statements or st.ctx.engine != "postgresql" or not units:
        return
    c = ro(st.db)
    try:
        rows = c.execute("SELECT round((total_plan_time + total_exec_time)::numeric, 1), "
                         "round(total_plan_time::numeric, 1), calls, "
                         "regexp_replace(left(query, 150), '\\s+', ' ', 'g') FROM pg_stat_statements "
                         "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                         "ORDER BY total_plan_time + total_exec_time DESC LIMIT 15")
        rows = list(rows)
    finally:
        c.close()
    top = []
    print(f"  PostgreSQL statements by server time (planning and execution), per {what} ({units:,} {what}s):",
          file=sys.stderr)
    for total_ms, plan_ms, calls, *query in rows:
        query = "|".join(str(q) for q in query)  # a query with | in it came back split
        per_unit_us = float(total_ms) * 1000 / units
        plan_us = float(plan_ms) * 1000 / units
        top.append({"us_per_" + what: round(per_unit_us, 1), "plan_us_per_" + what: round(plan_us, 1),
                    "calls_per_" + what: round(int(calls) / units, 3), "query": query})
        print(f"    {per_unit_us:8.1f} us ({plan_us:6.1f} planning)  {int(calls) / units:6.3f} calls  {query}",
              file=sys.stderr)
    details.setdefault("pg_statements", {})[what] = top


def row_receive(ctx, fig, details):
    a = ctx.args
    st = Store(ctx, "receive").init()
    ex = st.channel_add("EX", "1234", ["send_url=http://127.0.0.1:9/send"])
    kn = st.channel_add("KN", "1235", ["send_url=http://127.0.0.1:9/cgi-bin/sendsms", "username=bench",
                                       "password=bench"])
    nginx = f"http://127.0.0.1:{ctx.nginx()}"
    recv, url = ctx.start_recv(st, ctx.tag("receive"))
    port = int(url.rsplit(":", 1)[1])
    if ctx.engine == "postgresql":
        # courier-recv prepares its statements while the new database's
        # tables are empty, and PostgreSQL keeps those plans (scans of
        # empty tables) until an ANALYZE invalidates them, which autovacuum
        # does a minute or so into steady traffic: a 20 s row on a new
        # database would measure that first minute (KN 450 req/s against
        # 3,500 on an analyzed store). A warm-up of each kind, then ANALYZE:
        # the rows measure the steady state an operator's store is in.
        for kind, uuid in (("ex", ex), ("kn", kn)):
            ctx.wrk(url, kind, f"/c/{kind}/{uuid}/receive", max(3, a.duration // 4),
                    note="warm-up, not measured: the store gets rows, then ANALYZE")
        analyze(st)
    for code, kind, uuid in (("EX", "ex", ex), ("KN", "kn", kn)):
        path = f"/c/{kind}/{uuid}/receive"
        cid = st.channel_id(uuid)

        def stored():
            return st.count("SELECT count(*) FROM msgs WHERE direction = 'I' AND channel_id = ?", (cid,))

        before = stored()
        cpu0, pg0, written0 = proc_cpu_s(recv.pid), ctx.pg_cpu_s(), proc_written(recv.pid)
        pg_statements_reset(st)
        r = ctx.wrk(url, kind, path, a.duration, note=f"{code} receive, no response() hook")
        pg_statements(st, f"{code} webhook", r["requests"], details)
        r["recv_cpu_s"] = proc_cpu_s(recv.pid) - cpu0
        written1 = proc_written(recv.pid)
        r["recv_written"] = written1 - written0 if written0 is not None and written1 is not None else None
        r["pg_cpu_s"] = ctx.pg_cpu_s() - pg0
        ctx.check_single_listener(port, "courier-recv")
        got = wait_stable(stored) - before
        n = ctx.wrk(nginx, kind, path, a.duration, note="the same load against nginx")
        # The exact 2xx count, from a response() hook (which slows wrk).
        before_c = stored()
        cdur = max(3, a.duration // 4)
        c = ctx.wrk(url, kind, path, cdur, counting=True, note=f"{code} receive, response() counts 2xx")
        got_c = wait_stable(stored) - before_c
        ratio = r["rps"] / n["rps"] if n["rps"] else None
        row = ctx.label(f"receive {code}")
        t_rps, t_p99, t_ratio = ctx.target("receive_rps"), ctx.target("receive_p99_ms"), ctx.target("nginx_ratio")
        fig.add(row, "courier-recv req/s (c32)", r["rps"], "req/s", f">= {t_rps:,}", r["rps"] >= t_rps)
        fig.add(row, "p50 latency", r["p50_ms"], "ms")
        fig.add(row, "p99 latency", r["p99_ms"], "ms", f"<= {t_p99} ms", r["p99_ms"] <= t_p99)
        fig.add(row, "errors (socket + non-2xx)", r["errors"], "", "0", r["errors"] == 0)
        secs = r["duration_us"] / 1e6
        if r["requests"]:
            fig.add(row, "courier-recv CPU per request", r["recv_cpu_s"] / r["requests"] * 1e6, "us",
                    note=f"{r['recv_cpu_s'] / secs:.2f} cores busy")
            if r["recv_written"] is not None:
                fig.add(row, "courier-recv bytes written per request", r["recv_written"] / r["requests"] / 1024,
                        "KiB", note="write(2) and pwrite(2): WAL frames, checkpoints, log lines")
            if ctx.engine == "postgresql":
                fig.add(row, "PostgreSQL CPU per request", r["pg_cpu_s"] / r["requests"] * 1e6, "us",
                        note=f"{r['pg_cpu_s'] / secs:.2f} cores busy; all the cluster's processes")
        fig.add(row, "nginx req/s (same load)", n["rps"], "req/s")
        fig.add(row, "nginx p99 latency", n["p99_ms"], "ms")
        if t_ratio:
            fig.add(row, "courier/nginx", ratio, "", ">= 0.33", ratio is not None and ratio >= t_ratio)
        else:
            fig.add(row, "courier/nginx", ratio, "")
        for label, res, s in (("", r, got), (" (counted run)", c, got_c)):
            lost = res["n2xx"] - s
            # wrk stops reading at its deadline: requests then in flight
            # are still stored (and not counted), at most one a connection.
            ok = 0 <= s - res["n2xx"] <= 32
            fig.add(row, f"2xx answered / msgs stored{label}", f"{res['n2xx']} / {s}", "",
                    "stored - 2xx in 0..32", ok, note=f"lost {max(lost, 0)}")
            if not ok:
                ctx.failed_checks.append(f"{row}: {res['n2xx']} answered 2xx but {s} msgs stored")
        fig.add(row, "req/s with response() hook", c["rps"], "req/s", note=f"{cdur} s run")
        details[code] = {"courier": r, "nginx": n, "counted": c, "stored": got, "stored_counted": got_c,
                         "ratio": ratio}
    if ctx.engine == "sqlite":  # the memory row's figure
        ctx.shared["recv_hwm_kb"] = proc_status(recv.pid)["VmHWM"]
    details["recv_status_after"] = proc_status(recv.pid)
    ctx.procs.stop(recv)


def make_send_channels(ctx, st, n, sink):
    argv_note = f"x{n}, addresses 2000..{2000 + n - 1}"
    uuids = []
    for i in range(n):
        uuids.append(st.channel_add("EX", str(2000 + i), [f"send_url={sink}"], record=(i == 0)))
    ctx.commands[ctx.row][-1] += f"   # {argv_note}"
    return uuids


def queue_msgs(ctx, st, channels, count, name, contacts=None):
    """One courier-ctl send --jsonl of `count` msgs round-robin over channels;
    returns the seconds it took."""
    path = os.path.join(st.dir, name)
    with open(path, "w") as f:
        for i in range(count):
            k = (contacts[i % len(contacts)] if contacts else i % 100000)
            urn = f"tel:+2507880{k:05d}" if not contacts else f"tel:+25078{k:07d}"
            f.write(json.dumps({"channel": channels[i % len(channels)], "urn": urn,
                                "text": f"bench send {i}, a reply of a realistic length for an SMS"}) + "\n")
    t0 = time.monotonic()
    st.ctl("send", "--jsonl", path)
    return time.monotonic() - t0


def watch_send(ctx, st, total, start_wall, procs, log, limit):
    """Polls the store every 0.25 s until no outgoing msg is queued or in
    flight. Returns the counts by status, the per-channel W counts at the
    first poll where half were W, the number of polls, and whether `limit`
    seconds ran out first."""
    half = None
    polls = 0
    deadline = time.monotonic() + limit
    while True:
        time.sleep(0.25)
        polls += 1
        c = ro(st.db)
        try:
            by_status = dict(c.execute("SELECT status, count(*) FROM msgs WHERE direction = 'O' GROUP BY status"))
            in_flight = c.execute("SELECT count(*) FROM msgs WHERE claimed_by IS NOT NULL").fetchone()[0]
            if half is None and by_status.get("W", 0) >= total / 2:
                per = dict(c.execute("SELECT channel_id, count(*) FROM msgs WHERE direction = 'O' "
                                     "AND status = 'W' GROUP BY channel_id"))
                ids = [r[0] for r in c.execute("SELECT DISTINCT channel_id FROM msgs WHERE direction = 'O'")]
                half = {"elapsed_s": time.time() - start_wall, "w": by_status.get("W", 0),
                        "per_channel": [per.get(i, 0) for i in ids]}
        finally:
            c.close()
        queued = by_status.get("Q", 0)
        if queued == 0 and in_flight == 0:
            return by_status, half, polls, False
        for proc in procs if isinstance(procs, list) else [procs]:
            if proc.poll() is not None:
                raise BenchError(f"courier-send exited {proc.returncode}:\n{ctx.log_tail(log)}")
        if time.monotonic() > deadline:
            return by_status, half, polls, True


def send_figures(ctx, st, start_wall):
    """Rate and W latency from the store's own columns (microseconds)."""
    c = ro(st.db)
    try:
        rows = c.execute("SELECT created_on, sent_on FROM msgs WHERE direction = 'O' AND status = 'W'").fetchall()
    finally:
        c.close()
    if not rows:
        return {"w": 0, "rate": 0, "p50_ms": None, "p99_ms": None, "last_w_s": None}
    last = max(s for _, s in rows) / 1e6
    lat = [(s - cr) / 1000 for cr, s in rows]
    span = last - start_wall
    return {"w": len(rows), "rate": len(rows) / span if span > 0 else None, "last_w_s": span,
            "p50_ms": percentile(lat, 0.5), "p99_ms": percentile(lat, 0.99)}


def row_send(ctx, fig, details):
    a = ctx.args
    total = a.send_msgs
    row = ctx.label("send")
    st = Store(ctx, "send").init()
    sink = f"http://127.0.0.1:{ctx.nginx()}/send"
    channels = make_send_channels(ctx, st, 100, sink)
    queue_s = queue_msgs(ctx, st, channels, total, "send.jsonl")
    fig.add(row, f"courier-ctl send --jsonl ({total:,} msgs)", total / queue_s, "msgs/s",
            note=f"{queue_s:.1f} s")
    if ctx.engine == "postgresql":
        analyze(st)  # the queue's statistics before courier-send plans (see row_receive)
    start = time.time()
    pg0 = ctx.pg_cpu_s()
    pg_statements_reset(st)
    senders = [ctx.start_send(st, ctx.tag("send"), index=k) for k in range(a.senders)]
    p = senders[0]
    by_status, half, polls, timed_out = watch_send(ctx, st, total, start, senders, f"{ctx.tag('send')}-send.log",
                                                   limit=max(180, total / 200))
    pg_cpu = ctx.pg_cpu_s() - pg0
    f = send_figures(ctx, st, start)
    pg_statements(st, "msg", f["w"], details)
    send_cpu = sum(proc_cpu_s(s.pid) for s in senders)
    written = [proc_written(s.pid) for s in senders]
    send_written = sum(written) if None not in written else None
    if ctx.engine == "sqlite":  # the memory row's figure
        ctx.shared["send_hwm_kb"] = proc_status(p.pid)["VmHWM"]
    details["send_status_after"] = proc_status(p.pid)
    for s in senders:
        ctx.procs.stop(s)
    errored, failed = by_status.get("E", 0), by_status.get("F", 0)
    t_rate = ctx.target("send_rate")
    fig.add(row, f"msgs/s (W {f['w']:,} of {total:,}, start to last W)", f["rate"], "msgs/s", f">= {t_rate:,}",
            f["rate"] is not None and f["rate"] >= t_rate, note=f"last W after {fmt(f['last_w_s'], 's')}")
    if f["w"]:
        fig.add(row, "courier-send CPU per msg" + (f" ({a.senders} processes)" if a.senders > 1 else ""),
                send_cpu / f["w"] * 1e6, "us",
                note=f"{send_cpu / f['last_w_s']:.2f} cores busy" if f["last_w_s"] else "")
        if send_written is not None:
            fig.add(row, "courier-send bytes written per msg", send_written / f["w"] / 1024, "KiB",
                    note="write(2) and pwrite(2): WAL frames, checkpoints, log lines")
        if ctx.engine == "postgresql":
            fig.add(row, "PostgreSQL CPU per msg", pg_cpu / f["w"] * 1e6, "us",
                    note=(f"{pg_cpu / f['last_w_s']:.2f} cores busy; " if f["last_w_s"] else "") +
                    f"with the harness's {polls} polls")
            details["pg_cpu_s"] = pg_cpu
    fig.add(row, "created_on -> W p50", f["p50_ms"], "ms")
    fig.add(row, "created_on -> W p99", f["p99_ms"], "ms")
    fig.add(row, "errored E / failed F / left Q", f"{errored} / {failed} / {by_status.get('Q', 0)}", "",
            "0 / 0 / 0", errored == 0 and failed == 0 and not timed_out)
    if half:
        per = half["per_channel"]
        mn, mx = min(per), max(per)
        fig.add(row, "fairness at half W: per-channel W min/max/mean",
                f"{mn} / {mx} / {statistics.mean(per):.1f}", "", note=f"at {half['elapsed_s']:.2f} s")
        fig.add(row, "fairness min/max", mn / mx if mx else None, "")
    details.update({"figures": f, "by_status": by_status, "half": half, "polls": polls, "timed_out": timed_out,
                    "queue_s": queue_s, "workers": a.send_workers, "senders": a.senders})
    if f["w"] + errored + failed != total:
        ctx.failed_checks.append(f"{row}: {total} queued, {f['w']} W + {errored} E + {failed} F")


def row_mixed(ctx, fig, details):
    a = ctx.args
    total = a.mixed_msgs
    row = ctx.label("mixed")
    label = ctx.tag("mixed")
    st = Store(ctx, "mixed").init()
    ex = st.channel_add("EX", "1234", ["send_url=http://127.0.0.1:9/send"])
    sink = f"http://127.0.0.1:{ctx.nginx()}/send"
    channels = make_send_channels(ctx, st, 100, sink)
    queue_msgs(ctx, st, channels, total, "mixed.jsonl")
    recv, url = ctx.start_recv(st, label)
    path = f"/c/ex/{ex}/receive"
    argv = ctx.wrk_cmd(url, "ex", path, a.duration)
    ctx.record(argv, "in the background, courier-send starts 1 s in")
    pg0, t0 = ctx.pg_cpu_s(), time.monotonic()
    w = ctx.procs.start("wrk", argv, os.path.join(ctx.tmp, f"{label}-wrk.out"))
    time.sleep(1)  # let recv reach its steady state first
    start = time.time()
    p = ctx.start_send(st, label)
    by_status, _, _, timed_out = watch_send(ctx, st, total, start, p, f"{label}-send.log",
                                            limit=max(180, total / 200))
    f = send_figures(ctx, st, start)
    try:
        w.wait(a.duration + 120)
    except subprocess.TimeoutExpired:
        raise BenchError("wrk did not finish")
    pg_cpu, pg_wall = ctx.pg_cpu_s() - pg0, time.monotonic() - t0
    ctx.procs.stop(w)
    with open(os.path.join(ctx.tmp, f"{label}-wrk.out")) as out:
        r = ctx.wrk_parse(argv, out.read(), "")
    cid = st.channel_id(ex)
    stored = wait_stable(lambda: st.count("SELECT count(*) FROM msgs WHERE direction='I' AND channel_id=?", (cid,)))
    # courier-recv's rate while courier-send was sending and wrk loading,
    # from the store.
    during = None
    if f["last_w_s"]:
        window = min(f["last_w_s"], a.duration - 1)
        n = st.count("SELECT count(*) FROM msgs WHERE direction='I' AND created_on BETWEEN ? AND ?",
                     (int(start * 1e6), int((start + window) * 1e6)))
        during = n / window if window > 0 else None
    ctx.procs.stop(p)
    ctx.procs.stop(recv)
    fig.add(row, "courier-recv req/s over the wrk run", r["rps"], "req/s", note=f"errors {r['errors']}")
    fig.add(row, "courier-recv p50 / p90 / p99 latency",
            f"{r['p50_ms']:.1f} / {r['p90_us'] / 1000:.1f} / {r['p99_ms']:.1f}", "ms")
    t_p99 = ctx.target("mixed_p99_ms")
    if t_p99:
        fig.add(row, "courier-recv p99 while sending", r["p99_ms"], "ms", f"<= {t_p99} ms", r["p99_ms"] <= t_p99)
    fig.add(row, "courier-recv msgs/s while sending", during, "msgs/s", note="from created_on in the store")
    fig.add(row, f"courier-send msgs/s (W {f['w']:,} of {total:,})", f["rate"], "msgs/s",
            note=f"last W after {fmt(f['last_w_s'], 's')}" + (", send outlasted wrk" if f["last_w_s"] and
                                                              f["last_w_s"] + 1 > a.duration else ""))
    if ctx.engine == "postgresql":
        fig.add(row, "PostgreSQL cores busy (wrk's run and the sends)", pg_cpu / pg_wall if pg_wall else None, "",
                note=f"{pg_cpu:.1f} s CPU in {pg_wall:.1f} s, the harness's polls included")
    for key, solo, mine in (("receive_rps", "receive EX", r["rps"]), ("send_rate", "send", f["rate"])):
        key = f"{key}-{ctx.engine}"
        if ctx.shared.get(key) and mine:
            share, t_share = mine / ctx.shared[key], ctx.target("mixed_share")
            fig.add(row, f"{solo} mixed/alone", share, "", f">= {t_share:.2f}" if t_share else None,
                    share >= t_share if t_share else None)
    ok = 0 <= stored - r["n2xx"] <= 32
    fig.add(row, "2xx answered / msgs stored", f"{r['n2xx']} / {stored}", "", "stored - 2xx in 0..32", ok)
    if not ok:
        ctx.failed_checks.append(f"{row}: {r['n2xx']} answered 2xx but {stored} msgs stored")
    details.update({"wrk": r, "send": f, "by_status": by_status, "recv_during_send": during,
                    "timed_out": timed_out, "pg_cpu_s": pg_cpu if ctx.engine == "postgresql" else None})


def row_flush(ctx, fig, details):
    a = ctx.args
    n = a.flush_files
    row = ctx.label("flush")
    st = Store(ctx, "flush").init()
    ex = st.channel_add("EX", "1234", ["send_url=http://127.0.0.1:9/send"])
    # courier-recv's writer spools a batch at a time: under the 32
    # connections of the receive row a batch is up to 32 requests; at a
    # trickle it is one. The one-at-a-time rate goes to a spool of its own.
    single_n = max(200, n // 10)
    single_spool = os.path.join(st.dir, "spool-single")
    t0 = time.monotonic()
    ctx.run([os.path.join(a.bench_bin_dir, "courier-bench"), "spool-fill", "--spool-dir", single_spool,
             "--channel", ex, "--count", str(single_n), "--batch", "1"])
    single_s = time.monotonic() - t0
    shutil.rmtree(single_spool, ignore_errors=True)
    t0 = time.monotonic()
    ctx.run([os.path.join(a.bench_bin_dir, "courier-bench"), "spool-fill", "--spool-dir", st.spool,
             "--channel", ex, "--count", str(n), "--batch", "32"])
    fill_s = time.monotonic() - t0
    new = os.path.join(st.spool, "new")
    files_n = len(os.listdir(new))
    runs = []
    t0 = time.monotonic()
    # courier-flush's CPU: the harness's waited-for children's, which
    # during this loop are only courier-flush.
    ru0, pg0 = resource.getrusage(resource.RUSAGE_CHILDREN), ctx.pg_cpu_s()
    while os.listdir(new) and len(runs) < 10:
        r = ctx.run([ctx.bin("courier-flush")] + st.shared() + ["--once"], record=not runs, check=False)
        runs.append({"rc": r.returncode, "stderr": r.stderr.strip()[-300:]})
        if r.returncode not in (0, 75):
            raise BenchError(f"courier-flush --once exited {r.returncode}: {r.stderr.strip()}")
    flush_s = time.monotonic() - t0
    ru1, pg_cpu = resource.getrusage(resource.RUSAGE_CHILDREN), ctx.pg_cpu_s() - pg0
    flush_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    stored = st.count("SELECT count(*) FROM msgs WHERE direction = 'I'")
    bad = len([x for x in os.listdir(os.path.join(st.spool, "bad")) if not x.endswith(".reason")])
    left = len(os.listdir(new)) + len(os.listdir(os.path.join(st.spool, "cur")))
    # A spool file holds a writer's batch (one intake at a trickle, 32
    # here); the rates are of intakes, what a file per intake used to be.
    fig.add(row, f"courier-bench spool-fill --batch 1 ({single_n:,} intakes)", single_n / single_s, "intakes/s",
            note="courier-recv's spool writes at a trickle")
    fig.add(row, f"courier-bench spool-fill --batch 32 ({n:,} intakes)", n / fill_s, "intakes/s",
            note="courier-recv's spool writes under 32 connections")
    t_rate = ctx.target("flush_rate")
    fig.add(row, f"courier-flush --once ({len(runs)} run{'s' * (len(runs) > 1)})", n / flush_s, "intakes/s",
            f">= {t_rate:,}" if t_rate else None, n / flush_s >= t_rate if t_rate else None,
            note=f"{flush_s:.2f} s, {files_n:,} files")
    fig.add(row, "courier-flush CPU per intake", flush_cpu / n * 1e6, "us",
            note=f"{flush_cpu / flush_s:.2f} cores busy")
    if ctx.engine == "postgresql":
        fig.add(row, "PostgreSQL CPU per intake", pg_cpu / n * 1e6, "us", note=f"{pg_cpu / flush_s:.2f} cores busy")
    ok = stored == n and bad == 0 and left == 0
    fig.add(row, "msgs stored / bad / left", f"{stored} / {bad} / {left}", "", f"{n} / 0 / 0", ok)
    if not ok:
        ctx.failed_checks.append(f"{row}: {n} intakes, {stored} msgs stored, {bad} bad files, {left} files left")
    details.update({"fill_s": fill_s, "fill_single_s": single_s, "fill_single_files": single_n, "flush_s": flush_s,
                    "runs": runs, "stored": stored, "bad": bad, "flush_cpu_s": flush_cpu,
                    "pg_cpu_s": pg_cpu if ctx.engine == "postgresql" else None})


# --- hook: events to applications ----------------------------------------------


class _HookSink:
    """A local application for the latency figure: records when each event
    (by seq) arrived. Python's threaded server adds well under a
    millisecond; the throughput figures use nginx instead."""

    def __init__(self):
        import http.server
        import threading
        arrived = self.arrived = {}

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                now = time.time()
                for e in json.loads(body):
                    arrived.setdefault(e["seq"], now)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def start_hook(ctx, st, label):
    log = f"{label}-hook.log"
    p = ctx.start("courier-hook", [ctx.bin("courier-hook")] + st.shared(), log)
    return p, log


def wait_cursor(ctx, st, hook_id, target, proc, log, limit):
    deadline = time.monotonic() + limit
    while True:
        if st.count("SELECT cursor FROM hooks WHERE id = ?", (hook_id,)) >= target:
            return time.monotonic()
        if proc.poll() is not None:
            raise BenchError(f"courier-hook exited {proc.returncode}:\n{ctx.log_tail(log)}")
        if time.monotonic() > deadline:
            raise BenchError(f"hook {hook_id} not at seq {target} after {limit} s:\n{ctx.log_tail(log)}")
        time.sleep(0.01)


def row_hook(ctx, fig, details):
    a = ctx.args
    total = a.hook_events
    st = Store(ctx, "hook").init()
    sink = f"http://127.0.0.1:{ctx.nginx()}"
    ch = st.channel_add("EX", "1234", [f"send_url={sink}/send"])
    # One msg.queued event a msg (courier-send is not running).
    queue_msgs(ctx, st, [ch], total, "hook.jsonl")
    first = st.count("SELECT min(seq) FROM events WHERE topic = 'msg.queued'")
    last = st.count("SELECT max(seq) FROM events")
    rates = {}
    for batch in (1, 10, 100):
        added = json.loads(st.ctl("hook", "add", "--url", f"{sink}/hook", "--batch", str(batch),
                                  "--from", str(first), "--json").stdout)
        t0 = time.monotonic()
        p, log = start_hook(ctx, st, f"hook-batch{batch}")
        done = wait_cursor(ctx, st, added["id"], last, p, log, limit=max(120, total / 100))
        cpu = proc_cpu_s(p.pid)
        ctx.procs.stop(p)
        st.ctl("hook", "rm", str(added["id"]), record=False)
        n = last - first + 1
        rates[batch] = n / (done - t0)
        target = ">= 5,000" if batch == 1 else None
        fig.add("hook", f"events/s to a local sink, batch {batch} ({n:,} events)", rates[batch], "events/s",
                target, rates[batch] >= 5000 if batch == 1 else None,
                note=f"from courier-hook's start; {cpu / n * 1e6:.0f} us CPU an event")

    # Latency: webhooks into courier-recv at a steady pace, each event's
    # arrival at the application against its events.created_on (the
    # writer's transaction time, just before its commit and fsync).
    sink_app = _HookSink()
    try:
        rp, url = ctx.start_recv(st, "hook")
        st.ctl("hook", "add", "--url", sink_app.url)
        p, log = start_hook(ctx, st, "hook-latency")
        ctx.wait_daemon(st, "courier-hook", p, log)
        start_seq = st.count("SELECT max(seq) FROM events")
        m = a.hook_latency_events
        for i in range(m):
            req = urllib.request.Request(f"{url}/c/ex/{ch}/receive", data=f"from=0788{i:06d}&text=hook+{i}".encode(),
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()
            time.sleep(0.005)
        deadline = time.monotonic() + 60
        while len([s for s in sink_app.arrived if s > start_seq]) < m and time.monotonic() < deadline:
            time.sleep(0.05)
        c = ro(st.db)
        try:
            created = dict(c.execute("SELECT seq, created_on FROM events WHERE seq > ? AND topic = 'msg.received'",
                                     (start_seq,)))
        finally:
            c.close()
        lat = [(sink_app.arrived[s] - created[s] / 1e6) * 1000 for s in created if s in sink_app.arrived]
        fig.add("hook", f"commit -> delivery p50 ({len(lat)} of {m} webhooks, 200/s)", percentile(lat, 0.5), "ms",
                "<= 20", bool(lat) and percentile(lat, 0.5) <= 20)
        fig.add("hook", "commit -> delivery p99", percentile(lat, 0.99), "ms")
        if len(lat) != m:
            ctx.failed_checks.append(f"hook: {m} webhooks, {len(lat)} events delivered")
        details.update({"rates": rates, "latency_n": len(lat)})
    finally:
        sink_app.close()


# --- scale: generated history ----------------------------------------------------


def schema_version(ctx):
    if "schema_version" not in ctx.shared:
        st = Store(ctx, "schema-probe").init()
        ctx.shared["schema_version"] = st.count("SELECT max(version) FROM schema_version")
    return ctx.shared["schema_version"]




def uuid7_sql(micros):
    """SQL for a v7 uuid (as lib/core/uuid NewUUID makes for msgs and
    contacts) whose time is the SQL expression `micros`."""
    ms = f"printf('%012x', ({micros}) / 1000)"
    return (f"substr({ms}, 1, 8) || '-' || substr({ms}, 9, 4) || '-7' || substr(lower(hex(randomblob(2))), 2) "
            "|| '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' "
            "|| lower(hex(randomblob(6)))")


def generate_store(ctx, path, n):
    """A store holding n msgs of 90 days' history over 100 EX channels:
    schema and channels by courier-ctl, contacts, URNs and msgs by SQL."""
    d = os.path.join(ctx.tmp, f"gen-{n}")
    st = Store(ctx, f"gen-{n}", db=path)
    st.init()
    for i in range(100):
        st.channel_add("EX", str(3000 + i), ["send_url=http://127.0.0.1:9/send"], record=(i == 0))
    ctx.commands[ctx.row][-1] += "   # x100"
    nc = max(100, n // 10)
    t_end = int((time.time() - 3600) * 1e6)
    span = 90 * 86400 * 10**6
    step = span // n
    t_start = t_end - span
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode = OFF")  # leaves WAL; set back below
    c.execute("PRAGMA synchronous = OFF")
    c.execute("PRAGMA cache_size = -1000000")
    c.execute("PRAGMA temp_store = MEMORY")
    c.execute("PRAGMA foreign_keys = OFF")
    ch = [r[0] for r in c.execute("SELECT id FROM channels ORDER BY id")]
    if ch != list(range(ch[0], ch[0] + 100)):
        raise BenchError(f"channel ids not contiguous: {ch[:5]}...")
    ch0 = ch[0]
    # Secondary indexes are dropped and rebuilt (sorting beats 5M random
    # inserts); their exact SQL comes from the schema courier made.
    indexes = c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                        "AND tbl_name IN ('msgs', 'contacts', 'contact_urns')").fetchall()
    c.execute("BEGIN")
    for name, _ in indexes:
        c.execute(f"DROP INDEX {name}")
    c.execute(f"""WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {nc})
        INSERT INTO contacts (id, uuid, name, is_stopped, created_on, modified_on)
        SELECT i, {uuid7_sql(f'{t_start} + i * {span // nc}')}, '', FALSE, {t_start} + i * {span // nc},
               {t_start} + i * {span // nc} FROM k""")
    c.execute(f"""WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {nc})
        INSERT INTO contact_urns (id, urn, scheme, path, contact_id, channel_id)
        SELECT i, 'tel:+25078' || printf('%07d', i), 'tel', '+25078' || printf('%07d', i), i,
               {ch0} + (i % 100) FROM k""")
    # r: a pseudo-random 0..999 per msg, from a hash of its id (random()
    # would be evaluated again at every use). 55% incoming P, 15% W,
    # 29.9% D, 0.1% F, over a contact's channel; ids follow time.
    c.execute(f"""WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {n}),
        m AS (SELECT i, ((i * 2654435761) % 4294967296) % 1000 AS r,
                     ((i * 2246822519) % {nc}) + 1 AS ck,
                     {t_start} + (i - 1) * {step} + ((i * 40503) % 1000000) AS t FROM k)
        INSERT INTO msgs (id, uuid, channel_id, contact_id, contact_urn_id, direction, status, urn, text,
                          attachments, external_id, contact_name, priority, error_count, error_reason,
                          next_attempt_on, claimed_by, claimed_on, created_on, modified_on, received_on,
                          sent_on, quick_replies)
        SELECT i, {uuid7_sql('t')}, {ch0} + (ck % 100), ck, ck,
               CASE WHEN r < 550 THEN 'I' ELSE 'O' END,
               CASE WHEN r < 550 THEN 'P' WHEN r < 700 THEN 'W' WHEN r < 999 THEN 'D' ELSE 'F' END,
               'tel:+25078' || printf('%07d', ck),
               'history msg ' || i || ', some words of an ordinary text message',
               '[]', NULL, '', 1,
               CASE WHEN r = 999 THEN 3 ELSE 0 END,
               CASE WHEN r = 999 THEN 'bench: gave up (gave up after 3 attempts)' ELSE '' END,
               NULL, NULL, NULL, t, t + 2000000,
               CASE WHEN r < 550 THEN t END,
               CASE WHEN r >= 550 AND r < 999 THEN t + 1000000 END, '[]'
        FROM m""")
    for _, sql in indexes:
        c.execute(sql)
    c.execute("COMMIT")
    c.execute("PRAGMA journal_mode = WAL")
    c.close()
    # Re-opened as courier opens it (synchronous FULL, WAL), checked.
    c = sqlite3.connect(path)
    c.execute("PRAGMA synchronous = FULL")
    got = c.execute("SELECT count(*) FROM msgs").fetchone()[0]
    mode = c.execute("PRAGMA journal_mode").fetchone()[0]
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    if got != n or mode != "wal":
        raise BenchError(f"generated store has {got} msgs (wanted {n}), journal_mode {mode}")
    shutil.rmtree(d, ignore_errors=True)


def scale_store(ctx, n):
    """Path of a working copy of an n-msg store, from bench/.cache/ (made
    there first when missing). One copy a run; rows may change it."""
    key = f"copy-{n}"
    if key in ctx.shared:
        return ctx.shared[key]
    name = f"store-v{schema_version(ctx)}-g{GENERATOR_VERSION}-{n}.db"
    cached = os.path.join(CACHE_DIR, name)
    if os.path.exists(cached):
        ctx.shared.setdefault("cache_hits", []).append(name)
    else:
        os.makedirs(CACHE_DIR, exist_ok=True)
        part = cached + ".part"
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(part + suffix):
                os.unlink(part + suffix)
        t0 = time.monotonic()
        print(f"  generating a {n:,}-msg store in {os.path.relpath(cached)} (cached for later runs)...",
              flush=True)
        generate_store(ctx, part, n)
        os.replace(part, cached)
        ctx.shared.setdefault("generated", {})[name] = round(time.monotonic() - t0, 1)
    d = os.path.join(ctx.tmp, f"scale-{n}")
    os.makedirs(d, exist_ok=True)
    copy = os.path.join(d, "courier.db")
    ctx.record(["cp", cached, copy], "the cached history store; bench/run.py generate_store() makes it when missing")
    shutil.copyfile(cached, copy)
    # Written back now, not by courier's first checkpoint fsync (which
    # would otherwise stall on a GiB of the copy's dirty pages).
    fd = os.open(copy, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    ctx.shared[key] = copy
    ctx.shared[f"size-{n}"] = os.path.getsize(cached)
    return copy


def row_scale(ctx, fig, details):
    """Receive and claim on a 10,000-msg store and on the big one, in
    alternating rounds (small, big, then big, small, ...) so that what else
    the machine does during the row lands on both sides alike; the ratios
    are of the medians. CPU per webhook is the figure that least depends
    on the machine's other load (10 s runs differ by up to 25% in req/s)."""
    a = ctx.args
    dur = a.scale_duration
    sizes = [10000] if a.scale_msgs == 10000 else [10000, a.scale_msgs]
    stores = {}
    for n in sizes:
        db = scale_store(ctx, n)
        st = Store(ctx, f"scale-{n}", db=db)
        c = ro(db)
        try:
            chans = [r[0] for r in c.execute("SELECT uuid FROM channels ORDER BY id LIMIT 10")]
        finally:
            c.close()
        stores[n] = (st, chans)
    runs = {n: {"wrk": [], "cpu_us": [], "claim": []} for n in sizes}
    for rnd in range(a.scale_rounds):
        order = sizes if rnd % 2 == 0 else sizes[::-1]
        for n in order:
            st, chans = stores[n]
            # Each run starts with nothing of the rows or runs before it
            # still being written back (which costs the next run CPU and
            # slower fdatasyncs: 10-20% in the first round of a full run).
            os.sync()
            recv, url = ctx.start_recv(st, f"scale-{n}-{rnd}")
            cpu0 = proc_cpu_s(recv.pid)
            r = ctx.wrk(url, "ex", f"/c/ex/{chans[0]}/receive", dur,
                        note=f"{n:,}-msg store, round {rnd + 1} of {a.scale_rounds}")
            cpu = proc_cpu_s(recv.pid) - cpu0
            ctx.procs.stop(recv)
            runs[n]["wrk"].append(r)
            runs[n]["cpu_us"].append(cpu / r["requests"] * 1e6 if r["requests"] else None)
        # The kernel is still writing back what courier-recv's checkpoints
        # wrote (hundreds of MB on the big store): let it finish, or the
        # claims are timed against that (a 5M/10k claim ratio of 1.33 in
        # one run, 0.91 to 0.98 in others).
        for n in order:
            st, chans = stores[n]
            # 6,000 replies to existing contacts, over 10 channels, then the
            # claims a sender would make for them.
            queue_msgs(ctx, st, chans, 6000, f"scale-{rnd}.jsonl", contacts=list(range(1, 6001)))
        os.sync()
        for n in order:
            st, _ = stores[n]
            out = ctx.run([os.path.join(a.bench_bin_dir, "courier-bench"), "claim", "--db", st.db,
                           "--limit", "100", "--rounds", "60"]).stdout
            runs[n]["claim"].append(json.loads(out))

    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    res = {}
    for n in sizes:
        rr = runs[n]
        m = {"rps": med([r["rps"] for r in rr["wrk"]]), "p99_ms": med([r["p99_ms"] for r in rr["wrk"]]),
             "cpu_us": med(rr["cpu_us"]), "claim_p50_ms": med([c["claim_p50_ms"] for c in rr["claim"]]),
             "claim_p99_ms": med([c["claim_p99_ms"] for c in rr["claim"]]),
             "status_p50_ms": med([c["status_p50_ms"] for c in rr["claim"]])}
        res[n] = {"median": m, "wrk": rr["wrk"], "cpu_us": rr["cpu_us"], "claim": rr["claim"],
                  "db_bytes": ctx.shared[f"size-{n}"]}
        label = f"scale {n // 1000:,}k" if n < 10**6 else f"scale {n / 1e6:g}M"
        each = ", ".join(f"{r['rps']:,.0f}" for r in rr["wrk"])
        fig.add(label, f"receive EX req/s (median of {a.scale_rounds})", m["rps"], "req/s",
                note=f"rounds {each}; p99 {m['p99_ms']:.1f} ms; {dur} s each")
        fig.add(label, "courier-recv CPU per request", m["cpu_us"], "us",
                note="rounds " + ", ".join(f"{v:.0f}" if v is not None else "-" for v in rr["cpu_us"]))
        fig.add(label, "claim p50 / p99 (limit 100)", f"{m['claim_p50_ms']:.2f} / {m['claim_p99_ms']:.2f}", "ms",
                note=f"medians of {a.scale_rounds} x 60 claims; W p50 {m['status_p50_ms']:.2f} ms")
        fig.add(label, "store size before the row", res[n]["db_bytes"] / 2**20, "MiB")
    if len(sizes) == 2:
        # Each round's big/small ratio compares two runs minutes apart; the
        # median of those ratios is what is checked (a slow minute of the
        # machine moves one round, not the verdict).
        small, big = runs[10000], runs[a.scale_msgs]
        lbl = f"{a.scale_msgs / 1e6:g}M/10k"

        def ratios(key, pick):
            out = []
            for s_run, b_run in zip(small[key], big[key]):
                s_v, b_v = pick(s_run), pick(b_run)
                if s_v and b_v is not None:
                    out.append(b_v / s_v)
            return out

        for figure, key, pick, target, ok in (
                (f"receive req/s {lbl}", "wrk", lambda r: r["rps"], ">= 0.90", lambda v: v >= 0.9),
                (f"CPU per request {lbl}", "cpu_us", lambda v: v, "<= 1.10", lambda v: v <= 1.1),
                (f"claim p50 {lbl}", "claim", lambda c: c["claim_p50_ms"], "<= 1.10", lambda v: v <= 1.1),
                (f"claim p99 {lbl}", "claim", lambda c: c["claim_p99_ms"], "", None)):
            rs = ratios(key, pick)
            if not rs:
                continue
            v = statistics.median(rs)
            note = "median of rounds " + ", ".join(f"{x:.2f}" for x in rs)
            if ok is None:
                fig.add("scale", figure, v, "", note=note)
            else:
                fig.add("scale", figure, v, "", target, ok(v), note=note)
            details.setdefault("ratios", {})[figure] = rs
    details.update({str(k): v for k, v in res.items()})
    details["rounds"] = a.scale_rounds
    details["cache"] = {"hits": ctx.shared.get("cache_hits", []), "generated_s": ctx.shared.get("generated", {})}


def row_api(ctx, fig, details):
    """courier-api alone (courier-send not running: the msgs stay queued),
    one store: req/s with one msg a request, msgs/s with 100 a request."""
    a = ctx.args
    api = ctx.bin("courier-api")
    if not os.access(api, os.X_OK):
        raise BenchError(f"{api} is not built")
    st = Store(ctx, "api").init()
    ch = st.channel_add("EX", "1234", ["send_url=http://127.0.0.1:9/send"])
    token = st.ctl("token", "add", "--name", "bench").stdout.strip().splitlines()[-1]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    p = ctx.start("courier-api", [api] + st.shared() + ["--api-port", str(port)], "api.log")
    deadline = time.monotonic() + 30
    while http_get(url + "/") != 200:
        if p.poll() is not None or time.monotonic() > deadline:
            raise BenchError(f"courier-api not answering GET /:\n{ctx.log_tail('api.log')}")
        time.sleep(0.02)

    def queued():
        return st.count("SELECT count(*) FROM msgs WHERE direction = 'O'")

    for batch, conns, label in ((1, 32, "1 msg a request"), (100, 8, "100 msgs a request")):
        script = os.path.join(ctx.tmp, f"wrk-api-{batch}.lua")
        with open(script, "w") as f:
            f.write(wrk_lua("POST /api/v1/msgs, each msg to a distinct URN", WRK_API_REQUEST, True,
                            path="/api/v1/msgs", channel=ch, token=token, batch=batch))
        a.salt += 1
        argv = ["wrk", "-t2", f"-c{conns}", f"-d{a.duration}s", "--latency", "-s", script, url + "/api/v1/msgs",
                "--", str(a.salt)]
        before = queued()
        cpu0 = proc_cpu_s(p.pid)
        out = ctx.run(argv, note=f"POST /api/v1/msgs, {label}, c{conns}", timeout=a.duration + 120)
        r = ctx.wrk_parse(argv, out.stdout, out.stderr)
        cpu = proc_cpu_s(p.pid) - cpu0
        stored = wait_stable(queued) - before
        row = f"api {label}"
        if batch == 1:
            fig.add(row, "POST /api/v1/msgs req/s (c32)", r["rps"], "req/s", ">= 10,000", r["rps"] >= 10000)
        else:
            fig.add(row, "msgs/s queued (c8)", r["rps"] * batch, "msgs/s", ">= 50,000", r["rps"] * batch >= 50000,
                    note=f"{r['rps']:.0f} req/s")
        fig.add(row, "p50 latency", r["p50_ms"], "ms")
        fig.add(row, "p99 latency", r["p99_ms"], "ms")
        fig.add(row, "errors (socket + non-2xx)", r["errors"], "", "0", r["errors"] == 0)
        if r["requests"]:
            fig.add(row, "courier-api CPU per request", cpu / r["requests"] * 1e6, "us")
        # Answered 201 means committed: every answered msg is stored; wrk
        # stops reading at its deadline, so up to one request a connection
        # may be stored without being counted.
        ok = 0 <= stored - r["n2xx"] * batch <= conns * batch
        fig.add(row, "msgs answered 201 / stored", f"{r['n2xx'] * batch} / {stored}", "",
                "stored - answered in 0..c*batch", ok)
        if not ok:
            ctx.failed_checks.append(f"{row}: {r['n2xx'] * batch} msgs answered 201 but {stored} stored")
        details[f"batch{batch}"] = {"wrk": r, "stored": stored, "api_cpu_s": cpu}
    ctx.procs.stop(p)


def row_memory(ctx, fig, details):
    a = ctx.args
    st = Store(ctx, "memory").init()
    recv, _ = ctx.start_recv(st, "memory")
    send = ctx.start_send(st, "memory", wait=True)
    flush = ctx.start("courier-flush", [ctx.bin("courier-flush")] + st.shared(), "memory-flush.log")
    ctx.wait_daemon(st, "courier-flush", flush, "memory-flush.log")
    time.sleep(2)
    for name, p in (("courier-recv", recv), ("courier-send", send), ("courier-flush", flush)):
        s = proc_status(p.pid)
        details[name] = s
        fig.add("memory", f"{name} idle VmRSS", s["VmRSS"] / 1024, "MiB", "<= 10 MiB", s["VmRSS"] <= 10240,
                note=f"anon {s['RssAnon'] / 1024:.1f} MiB, file {s['RssFile'] / 1024:.1f} MiB, "
                     f"{s['Threads']} threads")
    if all("Pss" in details[n] for n in ("courier-recv", "courier-send", "courier-flush")):
        pss = [details[n]["Pss"] / 1024 for n in ("courier-recv", "courier-send", "courier-flush")]
        private = [(details[n]["Private_Clean"] + details[n]["Private_Dirty"]) / 1024
                   for n in ("courier-recv", "courier-send", "courier-flush")]
        fig.add("memory", "idle Pss recv / send / flush (all three running)",
                " / ".join(f"{v:.1f}" for v in pss), "MiB",
                note=f"sum {sum(pss):.1f} MiB; private {' / '.join(f'{v:.1f}' for v in private)} MiB")
        fig.add("memory", "idle Pss of the three together", sum(pss), "MiB", f"<= {MEMORY_PSS_SUM_MIB} MiB",
                sum(pss) <= MEMORY_PSS_SUM_MIB)
    for p in (flush, send, recv):
        ctx.procs.stop(p)
    for key, name, after in (("recv_hwm_kb", "courier-recv", "receive"), ("send_hwm_kb", "courier-send", "send")):
        v = ctx.shared.get(key)
        fig.add("memory", f"{name} VmHWM after row {after}", v / 1024 if v else None, "MiB",
                note="" if v else f"row {after} not run")
    db = scale_store(ctx, a.scale_msgs)
    big = Store(ctx, f"scale-{a.scale_msgs}", db=db)
    for args in (["queue"], ["msgs", "list", "--limit", "100"]):
        times = []
        for i in range(5):
            t0 = time.monotonic()
            big.ctl(*args, record=(i == 0))
            times.append(time.monotonic() - t0)
        ctx.commands[ctx.row][-1] += "   # x5"
        fig.add("memory", f"courier-ctl {' '.join(args)} on {a.scale_msgs:,} msgs (median of 5)",
                statistics.median(times) * 1000, "ms")
        details[" ".join(args)] = times


# --- machine -------------------------------------------------------------------


def machine_info(tmp):
    info = {"nproc": os.cpu_count(), "hostname": socket.gethostname(), "kernel": platform.release(),
            "python": platform.python_version()}
    try:
        info["affinity"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                info["ram_mib"] = int(line.split()[1]) // 1024
    real = os.path.realpath(tmp)
    best = ("", "?", "?")
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            mount, mount_options = left.split()[4], left.split()[5]
            fstype, source = right.split()[0], right.split()[1]
            super_options = right.split()[2] if len(right.split()) > 2 else ""
            if (real == mount or real.startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best[0]):
                options = ",".join(dict.fromkeys(mount_options.split(",") + super_options.split(",")))
                best = (mount, fstype, source, options)
    best = best + ("",) * (4 - len(best))
    info["fs"] = {"dir": real, "mount": best[0], "type": best[1], "device": best[2], "options": best[3]}
    # unlink latency there: courier-flush removes every replayed spool file,
    # and on ext4 mounted with `discard` an unlink costs ten times more.
    probe_dir = os.path.join(tmp, "unlink.probe")
    os.makedirs(probe_dir, exist_ok=True)
    body = os.urandom(1536)
    for i in range(2000):
        with open(os.path.join(probe_dir, f"{i:05d}"), "wb") as f:
            f.write(body)
    os.sync()
    t0 = time.perf_counter()
    for i in range(2000):
        os.unlink(os.path.join(probe_dir, f"{i:05d}"))
    info["unlink_us"] = round((time.perf_counter() - t0) / 2000 * 1e6, 1)
    os.rmdir(probe_dir)
    # fdatasync latency where the stores and spools live.
    path = os.path.join(tmp, "fdatasync.probe")
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    block = os.urandom(4096)
    lat = []
    try:
        for i in range(200):
            t0 = time.perf_counter()
            os.pwrite(fd, block, i * 4096)
            os.fdatasync(fd)
            lat.append((time.perf_counter() - t0) * 1000)
    finally:
        os.close(fd)
        os.unlink(path)
    info["fdatasync_ms"] = {"n": 200, "p50": round(percentile(lat, 0.5), 3), "p99": round(percentile(lat, 0.99), 3),
                            "mean": round(statistics.mean(lat), 3)}
    return info


def git_info():
    def git(*args):
        r = subprocess.run(["git", "-C", REPO] + list(args), capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    changed = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(changed),
            "changed": changed.splitlines() if changed else []}


# --- main ----------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(64, f"{self.prog}: error: {message}\n")  # sysexits EX_USAGE, as the tools


def parse_args(argv):
    p = _Parser(description="courier benchmarks; see bench/README.md.")
    p.add_argument("--bin-dir", default=os.path.join(REPO, "build", "release", "tools"),
                   help="where courier-recv, -send, -flush and -ctl are")
    p.add_argument("--bench-bin-dir", default=os.path.join(REPO, "build", "release", "bench"),
                   help="where courier-bench is")
    p.add_argument("--quick", action="store_true", help="short durations and small counts, for development")
    p.add_argument("--rows", default=",".join(ROWS), help="comma-separated, from " + ",".join(ROWS))
    p.add_argument("--engines", default=",".join(ENGINES),
                   help="stores the rows " + ",".join(ENGINE_ROWS) + " run on, comma-separated, from " +
                        ",".join(ENGINES) + " (the other rows: sqlite)")
    p.add_argument("--scale-msgs", type=int, help="msgs in the big scale store (default 5000000; --quick 50000)")
    p.add_argument("--scale-rounds", type=int,
                   help="alternating small/big rounds in row scale (default 3; --quick 1)")
    p.add_argument("--duration", type=int, help="seconds of each wrk run (default 20; --quick 3)")
    p.add_argument("--send-workers", type=int, default=64,
                   help="courier-send --max-workers (default 64: what one sets for a fast sink)")
    p.add_argument("--senders", type=int, default=1,
                   help="courier-send processes in the send row, sharing its store (default 1), as several "
                        "hosts' senders would")
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"), help="where the JSON result goes")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (stores, logs) and say where")
    p.add_argument("--pg-statements", action="store_true",
                   help="load pg_stat_statements in the PostgreSQL cluster and print, for the receive and send "
                        "rows, the statements that took its time (a profile; the extension's own cost skews "
                        "the figures a little)")
    a = p.parse_args(argv)
    a.rows = [r.strip() for r in a.rows.split(",") if r.strip()]
    bad = [r for r in a.rows if r not in ROWS]
    if bad or not a.rows:
        p.error(f"unknown row(s) {','.join(bad)}; rows are {','.join(ROWS)}")
    a.rows = [r for r in ROWS if r in a.rows]
    a.engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    bad = [e for e in a.engines if e not in ENGINES]
    if bad or not a.engines:
        p.error(f"unknown engine(s) {','.join(bad)}; engines are {','.join(ENGINES)}")
    a.engines = [e for e in ENGINES if e in a.engines]
    if a.duration is None:
        a.duration = 3 if a.quick else 20
    if a.scale_msgs is None:
        a.scale_msgs = 50000 if a.quick else 5000000
    if a.duration < 1 or a.scale_msgs < 1000 or a.send_workers < 1 or a.senders < 1:
        p.error("--duration, --send-workers, --senders must be positive and --scale-msgs at least 1000")
    a.send_msgs = 5000 if a.quick else 50000
    a.mixed_msgs = 2000 if a.quick else 20000
    a.flush_files = 2000 if a.quick else 20000
    a.hook_events = 5000 if a.quick else 50000
    a.hook_latency_events = 200 if a.quick else 1000
    a.scale_duration = 3 if a.quick else 10
    if a.scale_rounds is None:
        a.scale_rounds = 1 if a.quick else 3
    if a.scale_rounds < 1:
        p.error("--scale-rounds must be at least 1")
    a.bin_dir = os.path.abspath(a.bin_dir)
    a.bench_bin_dir = os.path.abspath(a.bench_bin_dir)
    a.out = os.path.abspath(a.out)
    a.salt = int(time.time()) % 10000 * 10  # makes KN ids distinct across runs on one store
    return a


def check_programs(a):
    missing = [os.path.join(a.bin_dir, t) for t in ("courier-recv", "courier-send", "courier-flush", "courier-hook",
                                                         "courier-ctl")
               if not os.access(os.path.join(a.bin_dir, t), os.X_OK)]
    if not os.access(os.path.join(a.bench_bin_dir, "courier-bench"), os.X_OK):
        missing.append(os.path.join(a.bench_bin_dir, "courier-bench"))
    if not shutil.which("wrk"):
        missing.append("wrk")
    if not (shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")):
        missing.append("nginx")
    return missing


def engines_side_by_side(fig):
    """The measured figures (numbers; not nginx's, not the checks) a
    PostgreSQL row shares with its SQLite row (same row and figure name),
    and its own PostgreSQL CPU, as (row, figure, SQLite, PostgreSQL)."""
    suffix = f" ({ENGINE_NAMES['postgresql']})"
    sqlite = {(f["row"], f["figure"]): f for f in fig.items}
    out = []
    for f in fig.items:
        if not isinstance(f["value"], (int, float)) or "nginx" in f["figure"]:
            continue
        if f["row"].endswith(suffix):
            base = f["row"][:-len(suffix)]
            s = sqlite.get((base, f["figure"]))
            if s:
                out.append((base, f["figure"], fmt(s["value"], s["unit"]), fmt(f["value"], f["unit"])))
            elif "PostgreSQL" in f["figure"]:
                out.append((base, f["figure"], "", fmt(f["value"], f["unit"])))
    return out


def print_table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(widths[j]) for j, c in enumerate(r)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def print_report(ctx, fig, result):
    rows = [("row", "figure", "value", "target", "")]
    for f in fig.items:
        value = fmt(f["value"], f["unit"]) + (f"  ({f['note']})" if f["note"] else "")
        mark = {True: "pass", False: "MISS", None: ""}[f["pass"]]
        rows.append((f["row"], f["figure"], value, f["target"], mark))
    print()
    print_table(rows)
    both = engines_side_by_side(fig)
    if both:
        print("\nthe engines side by side:\n")
        print_table([("row", "figure", "SQLite", "PostgreSQL")] + both)
    m = result["machine"]
    print(f"\nmachine: {m['nproc']} CPUs ({m.get('cpu_model', '?')}), {m['ram_mib']} MiB, kernel {m['kernel']}, "
          f"{m['fs']['type']} at {m['fs']['mount']}, fdatasync p50 {m['fdatasync_ms']['p50']} ms "
          f"p99 {m['fdatasync_ms']['p99']} ms, unlink {m.get('unlink_us', '?')} us "
          f"(mount options {m['fs'].get('options', '?')}); git {result['git']['commit']}"
          f"{' (dirty)' if result['git']['dirty'] else ''}")
    load = result["load_at_start"]
    others = ", ".join(f"{k} x{v}" for k, v in sorted(load["processes"].items())) or "none"
    print(f"load average at start {' '.join(map(str, load['loadavg']))}; other processes that compete: {others}")
    if result.get("postgresql"):
        print("postgresql: " + result["postgresql"]["description"])
    if result.get("postgresql_skipped"):
        print("postgresql rows SKIPPED: " + result["postgresql_skipped"])
    if ctx.args.quick:
        print("--quick: short runs and small counts; figures are not comparable with the targets.")
    print("\ncommands ($BIN = " + ctx.args.bin_dir + ", $BENCH_BIN = " + ctx.args.bench_bin_dir +
          ", $TMP = the run's temp dir, $CACHE = bench/.cache):")
    for row, lines in ctx.commands.items():
        print(f"  [{row}]")
        for line in lines:
            print(f"    {line}")
    for row, err in result["errors"].items():
        print(f"\nrow {row} FAILED: {err}")
    for c in ctx.failed_checks:
        print(f"check FAILED: {c}")


def main(argv):
    a = parse_args(argv)
    missing = check_programs(a)
    if missing:
        print("bench: missing: " + ", ".join(missing) + " (make build; scripts/install-deps.sh bench)",
              file=sys.stderr)
        return 69

    def terminate(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)

    ctx = Ctx(a)
    fig = Figures()
    started = datetime.now(timezone.utc)
    result = {"started": started.isoformat(timespec="seconds"), "argv": [sys.executable] + sys.argv,
              "quick": a.quick, "rows_run": a.rows, "errors": {}}
    try:
        ctx.tmp = tempfile.mkdtemp(prefix="courier-bench-")
        result["load_at_start"] = other_load()
        result["machine"] = machine_info(ctx.tmp)
        result["git"] = git_info()
        v = subprocess.run([ctx.bin("courier-recv"), "--version"], capture_output=True, text=True)
        result["courier_version"] = v.stdout.strip()
        result["binaries_mtime"] = {t: datetime.fromtimestamp(os.path.getmtime(ctx.bin(t)), timezone.utc)
                                    .isoformat(timespec="seconds") for t in ("courier-recv", "courier-send")}
        result["settings"] = {k: getattr(a, k) for k in ("duration", "scale_msgs", "send_workers", "senders",
                                                         "send_msgs", "mixed_msgs", "flush_files", "scale_duration",
                                                         "scale_rounds", "engines")}
        details = result.setdefault("rows", {})
        funcs = {"receive": row_receive, "send": row_send, "mixed": row_mixed, "flush": row_flush,
                 "scale": row_scale, "memory": row_memory, "hook": row_hook, "api": row_api}
        engines = list(a.engines)
        if "postgresql" in engines and any(r in ENGINE_ROWS for r in a.rows):
            why = pg_unavailable()
            if why:
                engines.remove("postgresql")
                result["postgresql_skipped"] = why
                print(f"bench: PostgreSQL rows skipped: {why}", file=sys.stderr, flush=True)
            else:
                ctx.row = "postgresql"
                print("bench: starting a PostgreSQL cluster ...", flush=True)
                ctx.pg = PgCluster(ctx)
                try:
                    ctx.pg.start()
                    result["postgresql"] = {"description": ctx.pg.describe(), "settings": ctx.pg.settings,
                                            "bin": ctx.pg.bin, "port": ctx.pg.port}
                except BenchError as e:
                    engines.remove("postgresql")
                    result["errors"]["postgresql"] = str(e)
                    print(f"bench: PostgreSQL cluster failed: {e}", file=sys.stderr, flush=True)
        plan = [(row, engine) for row in a.rows
                for engine in (engines if row in ENGINE_ROWS else ["sqlite"])]
        for row, engine in plan:
            ctx.engine = engine
            ctx.row = name = ctx.label(row)
            d = details.setdefault(name, {})
            d["engine"] = engine
            d["load_before"] = other_load(ctx.procs.pids() | (ctx.pg.pids() if ctx.pg else set()))
            t0 = time.monotonic()
            print(f"bench: {name} ...", flush=True)
            try:
                funcs[row](ctx, fig, d)
                if row == "receive" and "EX" in d:
                    ctx.shared[f"receive_rps-{engine}"] = d["EX"]["courier"]["rps"]
                if row == "send":
                    ctx.shared[f"send_rate-{engine}"] = d["figures"]["rate"]
            except BenchError as e:
                result["errors"][name] = str(e)
                print(f"bench: {name} failed: {e}", file=sys.stderr, flush=True)
            finally:
                ctx.procs.stop_all(keep=("nginx",))
                PsqlConnection.close_sessions()
            d["seconds"] = round(time.monotonic() - t0, 1)
        ctx.engine = "sqlite"
        result["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        result["figures"] = fig.items
        result["commands"] = ctx.commands
        result["failed_checks"] = ctx.failed_checks
        os.makedirs(a.out, exist_ok=True)
        stamp = started.strftime("%Y%m%dT%H%M%SZ")
        out = os.path.join(a.out, f"{stamp}-{result['machine']['hostname']}.json")
        with open(out, "w") as f:
            json.dump(result, f, indent=1, default=str)
            f.write("\n")
        print_report(ctx, fig, result)
        print(f"\nwritten: {os.path.relpath(out)}")
        if a.keep:
            print(f"kept: {ctx.tmp}")
        return 1 if result["errors"] or ctx.failed_checks else 0
    finally:
        ctx.procs.stop_all()
        if ctx.pg:
            ctx.pg.stop()
        if ctx.tmp and not a.keep:
            shutil.rmtree(ctx.tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        print("\nbench: interrupted; every process it started is stopped", file=sys.stderr)
        sys.exit(130)
