"""WebSocket fan-out and idle capacity through the proxy, with real sockets.

Fan-out: N authenticated sockets (N users, one socket each) held by WS_RECEIVERS receiver processes
(N / WS_RECEIVERS sockets each, so the client's own event loop is not what is measured); a separate
sender process pushes one event to each user the way the app does (core.realtime.push.push_to_user,
from WS_SEND_THREADS threads, like request threads of the web workers). Latency is from the moment
push_to_user is called to the moment a receiver reads the message. Then one process opens idle sockets
up to a cap and reports daphne's memory per socket (summed over every daphne process: WS_DAPHNE_PIDS,
else every `daphne -b 127.0.0.1 -p ...`). Prints one JSON line.

    python platform/bench/ws_bench.py ws://127.0.0.1:8100/ws/
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FANOUT = int(os.environ.get("WS_FANOUT", "1000"))
IDLE = int(os.environ.get("WS_IDLE", "10000"))
RECEIVERS = int(os.environ.get("WS_RECEIVERS", "4"))
SEND_THREADS = int(os.environ.get("WS_SEND_THREADS", "8"))
WAIT_S = 15.0  # how long receivers wait for their pushes once the sender starts


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")
    import django

    django.setup()


def daphne_pids() -> list[int]:
    if os.environ.get("WS_DAPHNE_PIDS"):
        return [int(p) for p in os.environ["WS_DAPHNE_PIDS"].split(",")]
    out = subprocess.run(["pgrep", "-f", "daphne -b 127.0.0.1 -p "], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def daphne_rss_mb() -> float:
    total = 0
    for pid in daphne_pids():
        try:
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
            total += int(next(line for line in status if line.startswith("VmRSS")).split()[1])
        except (OSError, StopIteration):
            pass
    return total / 1024


def percentile(values: list[float], p: float) -> float | None:
    """Nearest rank on sorted values."""
    if not values:
        return None
    return round(values[max(0, math.ceil(p * len(values)) - 1)], 1)


def _readline() -> str:
    return sys.stdin.readline().strip()


# --- receiver process: holds its share of the sockets, reports latencies -----------------------------
async def receiver(url: str) -> None:
    import websockets

    tokens: list[str] = json.loads(_readline())
    socks = []
    connect_errors: list[str] = []
    for tok in tokens:
        try:
            ws = await websockets.connect(f"{url}?token={tok}", max_size=None, open_timeout=20)
            await ws.recv()  # ready
            socks.append(ws)
        except Exception as exc:  # noqa: BLE001 - reported, counted as not connected
            connect_errors.append(repr(exc)[:80])
    print(json.dumps({"ready": len(socks)}), flush=True)
    loop = asyncio.get_running_loop()
    if await loop.run_in_executor(None, _readline) != "GO":
        return
    latencies: list[float] = []
    others: list[str] = []

    async def receive(ws: Any) -> None:
        while True:  # skip anything else the user is sent meanwhile, and report it
            raw = await ws.recv()
            now = time.time()
            msg = json.loads(raw)
            if msg.get("type") == "bench":
                latencies.append((now - msg["data"]["sent"]) * 1000)
                return
            others.append(str(msg.get("type")))

    waiters = [asyncio.create_task(receive(ws)) for ws in socks]
    done, pending = await asyncio.wait(waiters, timeout=WAIT_S)
    for task in pending:
        task.cancel()
    print(
        json.dumps(
            {
                "sockets": len(socks),
                "latencies": latencies,
                "others": others,
                "failed_waits": sorted({repr(t.exception())[:80] for t in done if t.exception()}),
                "connect_errors": sorted(set(connect_errors)),
            }
        ),
        flush=True,
    )
    await asyncio.gather(*(ws.close() for ws in socks), return_exceptions=True)


# --- sender process: push_to_user to each user, from several threads ---------------------------------
def sender() -> None:
    user_ids: list[str] = json.loads(_readline())
    _django()
    from core.realtime import push

    push.push_to_user(uuid.uuid4(), "warmup", {})  # the push loop and its Redis connection (a group with no sockets)
    print(json.dumps({"ready": True}), flush=True)
    if _readline() != "GO":
        return

    def one(uid: str) -> bool:
        return push.push_to_user(uid, "bench", {"sent": time.time()})

    started = time.perf_counter()
    with ThreadPoolExecutor(SEND_THREADS) as pool:
        ok = sum(pool.map(one, user_ids))
    seconds = time.perf_counter() - started
    print(json.dumps({"sent": ok, "dropped": push.stats.dropped, "send_seconds": round(seconds, 3)}), flush=True)


def _spawn(mode: str, url: str, payload: Any) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, mode, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(payload) + "\n")
    proc.stdin.flush()
    return proc


def _reply(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"a bench process exited early ({proc.args[2]}, code {proc.wait()})")
    return json.loads(line)


def _tell(proc: subprocess.Popen[str], line: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(line + "\n")
    proc.stdin.flush()


def fanout(url: str, users: list[Any], tokens: list[str]) -> dict[str, Any]:
    n = max(1, min(RECEIVERS, len(tokens)))
    receivers = [_spawn("--receiver", url, tokens[i::n]) for i in range(n)]
    # Users i, i+n, ... are one receiver's; the sender goes down the list in order, so every receiver
    # gets its pushes spread over the whole send, as a server's sockets would.
    snd = _spawn("--sender", url, [str(u.pk) for u in users])
    connected = sum(_reply(r)["ready"] for r in receivers)
    _reply(snd)
    for r in receivers:
        _tell(r, "GO")
    _tell(snd, "GO")
    sent = _reply(snd)
    reports = [_reply(r) for r in receivers]
    for proc in [*receivers, snd]:
        proc.wait(timeout=60)
    latencies = sorted(x for rep in reports for x in rep["latencies"])
    return {
        "fanout_sockets": connected,
        "delivered": len(latencies),
        "lost": connected - len(latencies),
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "push_drops_counted": sent["dropped"],
        "pushes_sent": sent["sent"],
        "send_seconds": sent["send_seconds"],
        "send_threads": SEND_THREADS,
        "receiver_processes": n,
        "daphne_processes": len(daphne_pids()),
        "other_messages": sorted({m for rep in reports for m in rep["others"]}),
        "failed_waits": sorted({m for rep in reports for m in rep["failed_waits"]}),
        "connect_errors": sorted({m for rep in reports for m in rep["connect_errors"]}),
    }


async def idle_capacity(url: str, token: str) -> dict[str, Any]:
    """Many sockets of one user, memory per socket on daphne (all processes)."""
    import websockets

    result: dict[str, Any] = {}
    before = daphne_rss_mb()
    idle = []
    try:
        for _ in range(IDLE):
            ws = await websockets.connect(f"{url}?token={token}", open_timeout=20)
            await ws.recv()
            idle.append(ws)
    except Exception as exc:  # noqa: BLE001 - report how far it got
        result["idle_error"] = repr(exc)[:200]
    after = daphne_rss_mb()
    result.update(
        {
            "idle_sockets": len(idle),
            "daphne_rss_before_mb": round(before, 1),
            "daphne_rss_after_mb": round(after, 1),
            "kb_per_socket": round((after - before) * 1024 / max(1, len(idle)), 1),
        }
    )
    await asyncio.gather(*(ws.close() for ws in idle), return_exceptions=True)
    return result


def main(url: str) -> None:
    _django()
    from core.models import User
    from core.testing import issue_access_token

    users = list(User.objects.filter(email__endswith="@bench.local").order_by("email")[:FANOUT])
    tokens = [issue_access_token(u) for u in users]
    result = fanout(url, users, tokens)
    if IDLE:
        result.update(asyncio.run(idle_capacity(url, tokens[0])))
    print(json.dumps(result))


if __name__ == "__main__":
    if sys.argv[1] == "--receiver":
        asyncio.run(receiver(sys.argv[2]))
    elif sys.argv[1] == "--sender":
        sender()
    else:
        main(sys.argv[1])
