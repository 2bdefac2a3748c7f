"""The benchmark harness: one command builds (or reuses) the data, starts the production stack on
loopback, drives each scenario with wrk, and writes results/<date>.json, a Markdown table and a PNG.

    python platform/bench/run.py            # full data (10k tutors, 1M bookings, ...)
    python platform/bench/run.py --small    # a tenth
    python platform/bench/run.py --servers  # also compare gunicorn sync/gthread, daphne, uvicorn on floor + search

Stack: PostgreSQL (DATABASE_URL base, database bench_<scale>), Redis (cache, channel layer, broker),
gunicorn (WSGI, sync workers) for HTTP and daphne for /ws/, behind nginx, DEBUG off, production settings.
CPU split (the same for every scenario): the server processes (nginx, gunicorn, daphne) on CPUs 0-1,
wrk held to CPU 0; PostgreSQL and Redis are system services and not pinned. --server-cpus and
--client-cpus change it. Needs: wrk, nginx (apt-get install wrk nginx-light).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "platform" / "bench"
PY = str(ROOT / ".venv" / "bin" / "python")
BIN = ROOT / ".venv" / "bin"
PORT_PROXY, PORT_WSGI, PORT_ASGI = 8100, 8101, 8102  # daphne n of --ws-workers listens on PORT_ASGI + n
WS_WORKERS = 2  # daphne processes for /ws/ (--ws-workers)
# The two cores: the server stack (nginx, gunicorn, daphne) may use both; wrk is held to CPU 0, so it
# never takes more than one core from the server. --server-cpus/--client-cpus change it (e.g. 1 and 0
# for a strict split). PostgreSQL and Redis are system services and never pinned.
CPUS = {"server": "0,1", "client": "0"}
# What production runs (platform/entrypoint.sh `web`): gunicorn sync, 2 workers per core. Against
# gthread 4x4 on the same host and data (2026-12-02, one round each): the same or more req/s on every
# read and a p95 half as long (floor at 64 connections 42 vs 72 ms; message send 303 vs 694 ms).
DEFAULT_SERVER = "sync:4"

PUBLIC = {"tutor_search", "tutor_profile", "tutor_slots_14d", "subjects", "course_list"}
WRITES = {"booking_create", "booking_confirm", "message_send", "coach_message_offline", "lesson_complete", "course_enrol_free"}
ONCE = {"booking_create", "booking_confirm", "lesson_complete", "course_enrol_free"}


def sh(args: list[str], env: dict[str, str] | None = None, **kw: Any) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, cwd=ROOT, env=env, text=True, capture_output=True, **kw)
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return proc


def bench_env(db_url: str, redis_url: str, workdir: Path) -> dict[str, str]:
    key = workdir / "jwt.pem"
    if not key.exists():  # a key of its own: a fresh clone has no var/jwt-dev-private.pem yet
        sys.path.insert(0, str(ROOT))
        from settings.keys import write_rsa_key

        write_rsa_key(key)
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "PRODUCTION": "1",
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "k" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "JWT_PRIVATE_KEY_FILE": str(key),
        "JWT_ACCESS_TOKEN_EXPIRES_IN": "21600",
        "LOG_LEVEL": "WARNING",
        "API_THROTTLE_ANON": "100000000/m",
        "API_THROTTLE_USER": "100000000/m",
        "QUERY_COUNT_HEADER": "1",
        "DB_CONN_MAX_AGE": "600",
        "VAR_DIR": str(workdir / "var"),
        "COACH_DAILY_MESSAGES": "100000",
        "RATE_LIMIT_LOGIN_IP": "100000/m",
        # The abuse limits have their own tests; here they would turn load into 429s.
        "RATE_LIMIT_MESSAGES": "10000000/m",
        "RATE_LIMIT_COACH": "10000000/m",
        "RATE_LIMIT_UPLOADS": "10000000/m",
    }


def ensure_database(base_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return re.sub(r"/[^/]*$", f"/{name}", base_url)


class Stack:
    """nginx -> gunicorn (HTTP) and daphne (/ws/); all pinned to the server CPU."""

    def __init__(self, env: dict[str, str], workdir: Path, server: str = "", ws_workers: int = WS_WORKERS) -> None:
        self.env, self.workdir, self.server, self.ws_workers = env, workdir, server or DEFAULT_SERVER, ws_workers
        self.procs: list[subprocess.Popen[bytes]] = []
        self.ws: list[subprocess.Popen[bytes]] = []

    def _spawn(self, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{Path(args[0]).name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            ["taskset", "-c", CPUS["server"], *args], cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
        )
        self.procs.append(proc)
        return proc

    def start(self) -> None:
        kind, _, shape = self.server.partition(":")
        if kind == "gthread":
            workers, threads = (shape or "2x4").split("x")
            self.http = self._spawn(
                [
                    str(BIN / "gunicorn"),
                    "settings.wsgi:application",
                    "-b",
                    f"127.0.0.1:{PORT_WSGI}",
                    "-k",
                    "gthread",
                    "-w",
                    workers,
                    "--threads",
                    threads,
                    "--log-level",
                    "warning",
                ]
            )
        elif kind == "sync":
            self.http = self._spawn(
                [
                    str(BIN / "gunicorn"),
                    "settings.wsgi:application",
                    "-b",
                    f"127.0.0.1:{PORT_WSGI}",
                    "-w",
                    shape or "2",
                    "--log-level",
                    "warning",
                ]
            )
        elif kind == "uvicorn":
            self.http = self._spawn(
                [
                    str(BIN / "uvicorn"),
                    "settings.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(PORT_WSGI),
                    "--workers",
                    shape or "2",
                    "--log-level",
                    "warning",
                ]
            )
        elif kind == "daphne":
            self.http = self._spawn([str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(PORT_WSGI), "settings.asgi:application"])
        # /ws/: ws_workers daphne processes, each on its own port (PORT_ASGI, PORT_ASGI + 1, ...), behind
        # one nginx upstream that sends each new socket to the process holding the fewest.
        ws_ports = [PORT_ASGI + i for i in range(self.ws_workers)]
        self.ws = [
            self._spawn([str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "settings.asgi:application"])
            for port in ws_ports
        ]
        ws_servers = " ".join(f"server 127.0.0.1:{port};" for port in ws_ports)
        conf = self.workdir / "nginx.conf"
        conf.write_text(f"""
worker_processes 1; daemon off; pid {self.workdir}/nginx.pid; error_log {self.workdir}/nginx-error.log warn;
events {{ worker_connections 40000; }}
worker_rlimit_nofile 100000;
http {{
  access_log off; client_body_temp_path {self.workdir}/nginx-body; proxy_temp_path {self.workdir}/nginx-proxy;
  upstream web {{ server 127.0.0.1:{PORT_WSGI}; keepalive 64; }}
  upstream ws {{ least_conn; {ws_servers} }}
  server {{
    listen 127.0.0.1:{PORT_PROXY};
    location /ws/ {{ proxy_pass http://ws; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade;
                    proxy_set_header Connection "upgrade"; proxy_read_timeout 3600s; proxy_set_header Host $host; }}
    location / {{ proxy_pass http://web; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; }}
  }}
}}
""")
        self._spawn([shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(conf), "-p", str(self.workdir)])
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT_PROXY}/health", timeout=2)
                for port in ws_ports:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                return
            except OSError:
                time.sleep(0.5)
        raise SystemExit(f"the stack did not start; see logs in {self.workdir}")

    def rss_mb(self) -> dict[str, float]:
        out = {}
        for proc in self.procs:
            pids = [proc.pid] + [
                int(p) for p in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
            ]
            for pid in pids:
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    name = Path(f"/proc/{pid}/comm").read_text().strip()
                except OSError:
                    continue
                kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
                out[f"{name}:{pid}"] = round(kb / 1024, 1)
        return out

    def stop(self) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# Where the two cores go: CPU time per process kind, read from /proc around each timed run.
CPU_KINDS = {
    "gunicorn": "web",
    "uvicorn": "web",
    "postgres": "postgres",
    "redis-server": "redis",
    "nginx": "nginx",
    "daphne": "daphne",
}


def cpu_ticks() -> dict[str, int]:
    """utime + stime of every running process, summed by kind (Linux /proc; {} elsewhere)."""
    totals: dict[str, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        kind = CPU_KINDS.get(comm.split(":")[0].split()[0]) or ("wrk" if comm.startswith("wrk") else "other")
        fields = raw[raw.rindex(")") + 2 :].split()
        totals[kind] = totals.get(kind, 0) + int(fields[11]) + int(fields[12])
    return totals


def wrk(file: Path, connections: int, seconds: int, once: bool = False, offset: int = 0, limit: int = 0) -> dict[str, Any]:
    before, children = cpu_ticks(), resource.getrusage(resource.RUSAGE_CHILDREN)
    threads = min(2, connections)
    env = {
        **os.environ,
        "BENCH_FILE": str(file),
        "BENCH_THREADS": str(threads),
        "BENCH_ONCE": "1" if once else "0",
        "BENCH_OFFSET": str(offset),
        "BENCH_LIMIT": str(limit),
        # BENCH_COUNT_STATUS=1 names the non-2xx answers (a response() hook; it costs wrk some CPU).
        "BENCH_COUNT_5XX": "1" if os.environ.get("BENCH_COUNT_STATUS") == "1" else os.environ.get("BENCH_COUNT_5XX", "0"),
    }
    proc = subprocess.run(
        [
            "taskset",
            "-c",
            CPUS["client"],
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(BENCH / "replay.lua"),
            f"http://127.0.0.1:{PORT_PROXY}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    after = cpu_ticks()
    raw = json.loads(proc.stdout.split("BENCH_JSON", 1)[1].strip().splitlines()[0])
    secs = raw["duration_us"] / 1e6
    served = max(1, raw["requests"] - raw.get("filler", 0))
    # wrk has exited, so its own ticks are gone from /proc: taken from this process's children instead.
    cpu_ms = {k: round((after.get(k, 0) - before.get(k, 0)) * 1000 / TICK / served, 2) for k in after if k != "wrk"}
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_ms["wrk"] = round((done.ru_utime + done.ru_stime - children.ru_utime - children.ru_stime) * 1000 / served, 2)
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    filler = raw.get("filler", 0)
    return {
        # Filler (a used-up ONCE slice) is not the scenario's work: it is left out of req/s and flagged.
        "rps": round((raw["requests"] - filler) / secs, 1),
        "filler": filler,
        "p50_ms": raw["p50"] / 1000,
        "p95_ms": raw["p95"] / 1000,
        "p99_ms": raw["p99"] / 1000,
        "mean_ms": round(raw["mean"] / 1000, 2),
        "errors": errors,
        "socket_errors": raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
        "non_2xx": raw["status"],
        "server_errors": raw.get("s5xx", 0),  # counted only with BENCH_COUNT_5XX=1 or BENCH_COUNT_STATUS=1
        **(
            {"non_2xx_by_status": {k[1:]: raw[k] for k in ("s401", "s404", "s409", "s429", "s4xx") if raw.get(k)}}
            if raw["status"]
            else {}
        ),
        "requests": raw["requests"],
        "cpu_ms_per_request": {k: v for k, v in cpu_ms.items() if v > 0},
    }


def sample_queries(file: Path, n: int = 5) -> float | None:
    counts = []
    for raw in file.read_text().splitlines()[:n]:
        method, path, token, body = (raw.split("\t") + ["", "", "", ""])[:4]
        if method != "GET":
            continue
        req = urllib.request.Request(
            f"http://127.0.0.1:{PORT_PROXY}{path}", headers={"Authorization": f"Bearer {token}"} if token else {}
        )
        with urllib.request.urlopen(req, timeout=10) as res:
            counts.append(int(res.headers.get("X-DB-Queries", "0")))
    return round(sum(counts) / len(counts), 1) if counts else None


def run_scenarios(files: dict[str, Path], conns: list[int], seconds: int, warmup: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, file in files.items():
        once = name in ONCE
        entry: dict[str, Any] = {"queries_per_request": sample_queries(file) if not once else None, "by_connections": {}}
        if name in PUBLIC:
            # Production's cache is warm: one pass over every distinct request first (figures kept as
            # the cold pass), then the timed runs. Misses cost what the cold pass shows.
            lines, done, passes = len(file.read_text().splitlines()), 0, []
            while done < lines and len(passes) < 12:  # 10 s chunks until every line was sent once
                chunk = wrk(file, max(conns), 10, once=True, offset=done, limit=lines - done)
                passes.append(chunk)
                if chunk["filler"]:  # the slice ran out: every line was sent
                    done = lines
                    break
                done += int(chunk["requests"])
            entry["cold_pass"] = {**passes[0], "lines": lines, "sent": done, "chunks": len(passes)}
        elif not once:
            wrk(file, max(conns), warmup)
        total = len(file.read_text().splitlines()) if once else 0
        for i, c in enumerate(conns):
            # ONCE scenarios: each connection level gets its own slice of never-sent lines.
            share = total // len(conns)
            entry["by_connections"][str(c)] = wrk(file, c, seconds, once=once, offset=i * share, limit=share)
            print(f"  {name:<24} c={c:<3} {entry['by_connections'][str(c)]}", flush=True)
        results[name] = entry
    return results


def chart(results: dict[str, Any], path: Path, conn: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in results if conn in results[n]["by_connections"]]
    p95 = [results[n]["by_connections"][conn]["p95_ms"] for n in names]
    fig, ax = plt.subplots(figsize=(10, 5))
    ax.barh(names, p95, color=["#c0392b" if v > 200 else "#2e86c1" for v in p95])
    ax.axvline(200, color="grey", linestyle="--", label="target 200 ms")
    ax.set_xlabel(f"p95 latency (ms) at {conn} connections")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def cpu_split(r: dict[str, Any]) -> str:
    cpu = r.get("cpu_ms_per_request") or {}
    if not cpu:
        return "-"
    other = sum(v for k, v in cpu.items() if k not in ("web", "postgres"))
    return f"{cpu.get('web', 0):.2f} / {cpu.get('postgres', 0):.2f} / {other:.2f}"


def markdown(results: dict[str, Any], floor_rps: dict[str, float]) -> str:
    rows = [
        "| scenario | conns | req/s | x floor | p50 ms | p95 ms | p99 ms | errors | queries/req | CPU ms/req web / pg / other |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in results.items():
        for c, r in entry["by_connections"].items():
            ratio = r["rps"] / floor_rps[c] if floor_rps.get(c) else 0
            rows.append(
                f"| {name} | {c} | {r['rps']:.0f} | {ratio:.2f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']}{' (slice used up: ' + str(r['filler']) + ' filler)' if r.get('filler') else ''} | {entry['queries_per_request'] if entry['queries_per_request'] is not None else '-'} | {cpu_split(r)} |"
            )
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--connections", default="16,32,64")
    ap.add_argument("--scenarios", default="", help="comma-separated subset")
    ap.add_argument("--servers", action="store_true", help="also compare server choices on floor and search")
    ap.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    ap.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    ap.add_argument("--skip-ws", action="store_true")
    ap.add_argument("--ws-workers", type=int, default=WS_WORKERS, help="daphne processes for /ws/, one port each")
    ap.add_argument("--seed-only", action="store_true", help="build the data and stop")
    ap.add_argument("--tag", default="", help="results/<date>-<tag>.*: a subset run that keeps the day's full run")
    ap.add_argument("--server", default=DEFAULT_SERVER, help="sync:W, gthread:WxT, uvicorn:W or daphne")
    ap.add_argument("--server-cpus", default=CPUS["server"])
    ap.add_argument("--client-cpus", default=CPUS["client"])
    args = ap.parse_args()
    CPUS.update(server=args.server_cpus, client=args.client_cpus)
    # 10,000 idle sockets through nginx need ~3 descriptors each (client, proxy, daphne); root may
    # raise the hard limit, others get what the hard limit allows.
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (200_000, 200_000))
    except (ValueError, OSError):
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    for tool in ("wrk", "nginx", "taskset"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is missing: apt-get install wrk nginx-light util-linux")
    scale = "small" if args.small else "full"
    workdir = BENCH / "data" / scale
    workdir.mkdir(parents=True, exist_ok=True)
    db_url = ensure_database(args.database_url, f"bench_{scale}")
    env = bench_env(db_url, args.redis_url, workdir)
    print(f"== database bench_{scale}: migrate and seed (reused when present)", flush=True)
    sh([PY, "manage.py", "migrate", "--noinput"], env=env)
    t = time.perf_counter()
    seeded = subprocess.run([PY, str(BENCH / "seed.py"), *(["--small"] if args.small else [])], cwd=ROOT, env=env, text=True)
    if seeded.returncode:
        raise SystemExit("seeding failed")
    seed_seconds = round(time.perf_counter() - t, 1)
    if args.seed_only:
        return
    # Flush the cache BEFORE the request lines are made: each token's session is written to the cache
    # as login writes it (cached_db), so requests find it there as they would in production. Flushed
    # after, every token's first request read its session from the database and wrote it back: each
    # booking confirmation (a tutor's token used once) paid that on top of its own work.
    subprocess.run(["redis-cli", "-u", args.redis_url, "FLUSHDB"], capture_output=True)
    print("== preparing request lines", flush=True)
    reqdir = workdir / "requests"
    sh([PY, str(BENCH / "prepare.py"), str(reqdir)], env=env)
    wanted = [s for s in args.scenarios.split(",") if s]
    files = {p.stem: p for p in sorted(reqdir.glob("*.tsv")) if not wanted or p.stem in wanted}
    order = ["floor", "health"] + [n for n in files if n not in ("floor", "health")]
    files = {n: files[n] for n in order if n in files}
    conns = [int(c) for c in args.connections.split(",")]
    stack = Stack(env, workdir, args.server, args.ws_workers)
    stack.start()
    out: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale": scale,
        "seed_seconds": seed_seconds,
        "cpu_split": f"server processes on CPUs {CPUS['server']}, wrk on CPU {CPUS['client']}; PostgreSQL and Redis unpinned",
        "server": f"nginx -> {args.server} (HTTP), {args.ws_workers} daphne (/ws/)",
        "duration_s": args.duration,
    }
    try:
        out["rss_before_mb"] = stack.rss_mb()
        out["scenarios"] = run_scenarios(files, conns, args.duration, args.warmup)
        out["rss_after_mb"] = stack.rss_mb()
        if not args.skip_ws:
            ws = subprocess.run(
                [PY, str(BENCH / "ws_bench.py"), f"ws://127.0.0.1:{PORT_PROXY}/ws/"],
                cwd=ROOT,
                env={**env, "WS_DAPHNE_PIDS": ",".join(str(p.pid) for p in stack.ws)},
                capture_output=True,
                text=True,
            )
            out["websocket"] = (
                json.loads(ws.stdout.strip().splitlines()[-1]) if ws.returncode == 0 else {"error": ws.stderr[-2000:]}
            )
            print(f"  websocket {out['websocket']}", flush=True)
    finally:
        stack.stop()
    if args.servers:
        out["servers"] = {}
        for server in ("gthread:2x4", "gthread:3x4", "gthread:4x4", "sync:4", "uvicorn:2", "daphne"):
            if server.startswith("uvicorn") and not (BIN / "uvicorn").exists():
                continue
            s = Stack(env, workdir, server)
            s.start()
            try:
                picked = {k: v for k, v in files.items() if k in ("floor", "tutor_search")}
                out["servers"][server] = {
                    k: v["by_connections"] for k, v in run_scenarios(picked, [32], args.duration, args.warmup).items()
                }
            finally:
                s.stop()
    floor = {c: r["rps"] for c, r in out["scenarios"].get("floor", {}).get("by_connections", {}).items()}
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    stamp = dt.date.today().isoformat() + ("-small" if args.small else "") + (f"-{args.tag}" if args.tag else "")
    (results / f"{stamp}.json").write_text(json.dumps(out, indent=2))
    table = markdown(out["scenarios"], floor)
    (results / f"{stamp}.md").write_text(
        f"# Benchmark {out['date']} ({scale} data)\n\n{out['cpu_split']}; {out['server']}.\n\n{table}\n"
    )
    chart(out["scenarios"], results / f"{stamp}-p95.png", str(max(conns)))
    print(table)
    print(f"wrote {results}/{stamp}.json, .md and -p95.png")


if __name__ == "__main__":
    sys.exit(main())
