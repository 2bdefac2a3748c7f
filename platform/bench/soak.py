"""A soak: mixed traffic for --minutes (10) at --connections (32) on PostgreSQL and Redis with a
qcluster running, on the same stack as run.py (nginx -> gunicorn, daphne; Stack and wrk
imported from run.py). Not run in CI.

    python platform/bench/soak.py --minutes 10          # needs the data run.py builds (bench_full)
    python platform/bench/soak.py --minutes 2 --small

Passes when: zero 5xx; worker (gunicorn + qcluster) RSS grew under 10% from the first sample after
warm-up to the last; the number of database connections stayed within a band (max - min <= 25% of
the first sample, at least 4); no task left behind (django-q2's queue empty and no failed task after a
drain period); every e-mail sent exactly once (no notification key with two EmailLog rows "sent",
no delivery left SENDING). Prints one JSON line and exits 1 on a failed check.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run

SOAK_SCENARIOS = (
    "floor",
    "tutor_search",
    "tutor_profile",
    "my_bookings",
    "thread_list",
    "message_send",
    "notification_list",
    "coach_message_offline",
)


def mixed_file(reqdir: Path, out: Path) -> Path:
    """One request file interleaving the scenarios run.py prepared (reads and writes)."""
    lines: list[list[str]] = []
    for name in SOAK_SCENARIOS:
        path = reqdir / f"{name}.tsv"
        if path.exists():
            lines.append(path.read_text().splitlines())
    if not lines:
        raise SystemExit(f"no request files in {reqdir}; run platform/bench/run.py once first")
    mixed = [row for group in zip(*[ls[: min(map(len, lines))] for ls in lines], strict=True) for row in group]
    out.write_text("\n".join(mixed) + "\n")
    return out


def db_connections(env: dict[str, str]) -> int:
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()").fetchone()
        return int(row[0]) if row else 0


def django_figures(env: dict[str, str]) -> dict[str, Any]:
    """Queue, failures and e-mail figures, read through Django in a child process."""
    code = """
import json, django
django.setup()
from django.db.models import Count
from django_q.models import Failure, OrmQ
from django_q.brokers import get_broker
out = {"queued": get_broker().queue_size(), "orm_queued": OrmQ.objects.count(), "failed_tasks": Failure.objects.count()}
try:
    from django.db import connection
    from modules.notifications.models import Delivery, EmailLog, Notification
    if connection.vendor == "postgresql":
        # Statistics first: autovacuum has not yet seen the run's rows, and with the seed's (every key
        # NULL) the planner chose a nested loop that took over 3 minutes for 4,000 e-mails.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE " + ", ".join(m._meta.db_table for m in (EmailLog, Delivery, Notification)))
    out["emails_sent"] = EmailLog.objects.filter(status="sent").count()
    out["emails_sent_twice"] = (
        EmailLog.objects.filter(status="sent", delivery__notification__key__isnull=False)
        .values("delivery__notification__key", "recipient").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    out["deliveries_stuck_sending"] = Delivery.objects.filter(status="sending").count()
except Exception as exc:  # notifications switched off
    out["emails_error"] = repr(exc)
print("FIGURES", json.dumps(out))
"""
    env = {**env, "DJANGO_SETTINGS_MODULE": "settings.base"}
    proc = subprocess.run([run.PY, "-c", code], cwd=run.ROOT, env=env, capture_output=True, text=True, timeout=120)
    if proc.returncode:
        return {"error": proc.stderr[-1500:]}
    return json.loads(proc.stdout.split("FIGURES", 1)[1])


def worker_rss(stack: run.Stack, qcluster: subprocess.Popen[bytes]) -> float:
    total = sum(mb for name, mb in stack.rss_mb().items() if name.startswith(("gunicorn", "python")))
    for pid in [qcluster.pid] + [
        int(p) for p in subprocess.run(["pgrep", "-P", str(qcluster.pid)], capture_output=True, text=True).stdout.split()
    ]:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmRSS"))) / 1024
    return round(total, 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--sample-seconds", type=int, default=30)
    ap.add_argument("--drain-seconds", type=int, default=60, help="after traffic: time for the qcluster to finish")
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    args = ap.parse_args()

    scale = "small" if args.small else "full"
    workdir = run.BENCH / "data" / scale
    reqdir = workdir / "requests"
    if not reqdir.exists():
        raise SystemExit(f"{reqdir} is missing: run platform/bench/run.py{' --small' if args.small else ''} first")
    db_url = run.ensure_database(args.database_url, f"bench_{scale}")
    env = run.bench_env(db_url, args.redis_url, workdir)
    env["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"  # counted by EmailLog; nothing leaves
    file = mixed_file(reqdir, workdir / "soak.tsv")
    subprocess.run(["redis-cli", "-u", args.redis_url, "FLUSHDB"], capture_output=True)

    stack = run.Stack(env, workdir)
    stack.start()
    qlog = open(workdir / "qcluster.log", "ab")  # noqa: SIM115 - closed below
    qcluster = subprocess.Popen([run.PY, "manage.py", "qcluster"], cwd=run.ROOT, env=env, stdout=qlog, stderr=qlog)
    samples: list[dict[str, Any]] = []
    os.environ["BENCH_COUNT_5XX"] = "1"
    totals = {"requests": 0, "non_2xx": 0, "server_errors": 0, "socket_errors": 0}
    try:
        run.wrk(file, args.connections, 10)  # warm-up (not counted)
        deadline = time.time() + args.minutes * 60
        while time.time() < deadline:
            seconds = max(5, min(args.sample_seconds, int(deadline - time.time())))
            r = run.wrk(file, args.connections, seconds)
            for k in totals:
                totals[k] += r[k]
            samples.append(
                {
                    "t": round(time.time()),
                    "rps": r["rps"],
                    "p95_ms": r["p95_ms"],
                    "non_2xx": r["non_2xx"],
                    "server_errors": r["server_errors"],
                    "worker_rss_mb": worker_rss(stack, qcluster),
                    "db_connections": db_connections(env),
                }
            )
            print(json.dumps(samples[-1]), flush=True)
        time.sleep(args.drain_seconds)
        figures = django_figures(env)
    finally:
        qcluster.terminate()
        try:
            qcluster.wait(30)
        except subprocess.TimeoutExpired:
            qcluster.kill()
        qlog.close()
        stack.stop()

    nginx_5xx = (
        sum(1 for ln in (workdir / "nginx-error.log").read_text(errors="replace").splitlines() if " 50" in ln)
        if (workdir / "nginx-error.log").exists()
        else 0
    )
    rss = [s["worker_rss_mb"] for s in samples]
    conns = [s["db_connections"] for s in samples]
    checks = {
        # 5xx counted by wrk's response callback; other non-2xx (409 on a replayed write) are reported.
        "zero_5xx": totals["server_errors"] == 0 and totals["socket_errors"] == 0,
        "worker_rss_growth_under_10pct": bool(rss) and (rss[-1] - rss[0]) / rss[0] < 0.10,
        "db_connections_stable": bool(conns) and max(conns) - min(conns) <= max(4, conns[0] // 4),
        "no_task_left_behind": figures.get("queued", 1) == 0 and figures.get("failed_tasks", 1) == 0,
        "emails_exactly_once": figures.get("emails_sent_twice", 1) == 0 and figures.get("deliveries_stuck_sending", 1) == 0,
    }
    report = {
        "minutes": args.minutes,
        "connections": args.connections,
        "totals": totals,
        "nginx_error_lines_5xx": nginx_5xx,
        "worker_rss_mb": {"first": rss[0] if rss else None, "last": rss[-1] if rss else None},
        "db_connections": {"min": min(conns, default=None), "max": max(conns, default=None)},
        "figures": figures,
        "checks": checks,
        "passed": all(checks.values()),
    }
    out = run.BENCH / "results" / f"{time.strftime('%Y-%m-%d')}-soak.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({**report, "samples": samples}, indent=2))
    print(json.dumps(report))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
