"""WebSocket fan-out and idle capacity through the proxy, with real sockets.

Opens N authenticated sockets (N users, one socket each), pushes one event to each user through the
channel layer from this process, and measures delivery latency; then opens idle sockets up to a cap
and reports daphne's memory per socket. Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")
import django  # noqa: E402

django.setup()

import websockets  # noqa: E402
from asgiref.sync import sync_to_async  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402

from core.models import User  # noqa: E402
from core.realtime.push import stats, user_group  # noqa: E402
from core.testing import issue_access_token  # noqa: E402

FANOUT = int(os.environ.get("WS_FANOUT", "1000"))
IDLE = int(os.environ.get("WS_IDLE", "10000"))


def daphne_rss_mb() -> float:
    import subprocess

    pids = subprocess.run(["pgrep", "-f", "daphne -b 127.0.0.1 -p 8102"], capture_output=True, text=True).stdout.split()
    total = 0
    for pid in pids:
        try:
            total += int(
                next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS")).split()[1]
            )
        except (OSError, StopIteration):
            pass
    return total / 1024


async def main(url: str) -> None:
    users = await sync_to_async(lambda: list(User.objects.filter(email__endswith="@bench.local").order_by("email")[:FANOUT]))()
    tokens = await sync_to_async(lambda: [issue_access_token(u) for u in users])()
    socks = []
    for tok in tokens:
        ws = await websockets.connect(f"{url}?token={tok}", max_size=None, open_timeout=20)
        await ws.recv()  # ready
        socks.append(ws)
    layer = get_channel_layer()
    latencies: list[float] = []

    others: list[str] = []

    async def receive(ws: websockets.WebSocketClientProtocol) -> None:
        while True:  # skip anything else the user is sent meanwhile, and report it
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            if msg.get("type") == "bench":
                latencies.append((time.time() - msg["data"]["sent"]) * 1000)
                return
            others.append(str(msg.get("type")))

    waiters = [asyncio.create_task(receive(ws)) for ws in socks]
    for u in users:
        await layer.group_send(user_group(u.pk), {"type": "push.event", "event": "bench", "data": {"sent": time.time()}})
    done, pending = await asyncio.wait(waiters, timeout=15)
    latencies.sort()
    result = {
        "fanout_sockets": len(socks),
        "delivered": len(latencies),
        "lost": len(socks) - len(latencies),
        "p50_ms": round(latencies[len(latencies) // 2], 1) if latencies else None,
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1) if latencies else None,
        "push_drops_counted": stats.dropped,
        "other_messages": sorted(set(others)),
        "failed_waits": sorted({repr(t.exception())[:80] for t in done if t.exception()}),
    }
    for ws in socks:
        await ws.close()
    # Idle capacity: many sockets of one user, memory per socket on daphne.
    before = daphne_rss_mb()
    token = tokens[0]
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
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
