"""Push receiver throughput and latency: 50-item pushes acknowledged only once durable, beside a bare endpoint.

One uvicorn server (a subprocess) serves the real receiver (`/pushgps`: parse, check, then the group commit:
journal append + fdatasync and rename with syncfs, or fsync each file and its folder), a bare ASGI endpoint (`/bare`: read the body, answer success) and, to split the gap, a
`/validate` endpoint (everything the receiver does except landing) in the same run. A small keep-alive
HTTP/1.1 client with pre-encoded requests drives them, so the client costs the same for all and little
enough that the server is what is measured. Reported: requests/s at fixed concurrency (best of alternating
rounds) with the server's CPU per request, p50/p99 latency at a fixed request rate, and the ratio
durable/bare (target >= 0.5).

    python bench/push_receiver.py [--requests 3000] [--concurrency 32] [--rate 200] [--seconds 10] [--flush fsync]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestration.launch.processes import free_port, stop, wait_until_up

TOKEN = "bench-push-token"
SERVER = """
import sys, uvicorn
from pathlib import Path
from starlette.datastructures import Headers
from sources.jimi_push import receiver as r
receiver = r.create_app(Path(sys.argv[1]), sys.argv[2], use_syncfs=sys.argv[4] == "syncfs")
REPLY = b'{"code":0,"msg":"success"}'
async def bare(scope, receive, send):
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await r.respond(send, 200, REPLY)
async def validate(scope, receive, send):
    # Everything the receiver does before landing: read, decode the form, check token and data_list.
    headers = Headers(raw=scope["headers"])
    body = await r.read_body(receive, None, receiver.max_body_bytes)
    pairs = await r.parse_form(headers, body)
    r.check_token(r.single(pairs, "token"), receiver._token)
    r.check_items("pushgps", r.single(pairs, "data_list"))
    await r.respond(send, 200, REPLY)
async def app(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == "/bare":
        return await bare(scope, receive, send)
    if scope["type"] == "http" and scope["path"] == "/validate":
        return await validate(scope, receive, send)
    return await receiver(scope, receive, send)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning", access_log=False)
"""


def request_bytes(path: str, number: int) -> bytes:
    items = [
        {
            "deviceImei": f"86924706{number % 25:07d}",
            "gpsTime": f"2025-03-04 06:{index // 60:02d}:{index % 60:02d}",
            "gateTime": "2025-03-04 06:59:59",
            "satelliteNum": 10,
            "lng": 36.822310,
            "lat": -1.291870,
            "gpsMode": 0,
            "gpsSpeed": 23,
            "direction": 184,
            "acc": 1,
            "postType": 1,
            "altitude": 1661,
            "distance": 18234612,
        }
        for index in range(50)
    ]
    body = urlencode({"token": TOKEN, "data_list": json.dumps(items)}).encode()
    head = (
        f"POST /{path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def roundtrip(self, request: bytes) -> int:
        self.writer.write(request)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            # The server closed an idle keep-alive connection before reading this request: send it again.
            self.reader, self.writer = await asyncio.open_connection(
                *self.writer.get_extra_info("peername")[:2]
            )
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        body = await self.reader.readexactly(length)
        if status != 200 or body != b'{"code":0,"msg":"success"}':
            raise RuntimeError(f"unexpected answer {status} {body[:80]!r}")
        return status


async def connect(port: int) -> Connection:
    return Connection(*await asyncio.open_connection("127.0.0.1", port))


async def throughput(port: int, path: str, requests: list[bytes], concurrency: int) -> float:
    connections = [await connect(port) for _ in range(concurrency)]
    queue = list(reversed(requests))

    async def worker(connection: Connection) -> None:
        while queue:
            await connection.roundtrip(queue.pop())

    started = time.perf_counter()
    await asyncio.gather(*(worker(connection) for connection in connections))
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.writer.close()
    return len(requests) / elapsed


async def latencies(port: int, requests: list[bytes], rate: float, seconds: float) -> list[float]:
    """Open loop: request i leaves at i / rate, on a free connection (opened on demand)."""
    idle: list[Connection] = [await connect(port) for _ in range(16)]
    measured: list[float] = []

    async def one(request: bytes, due: float) -> None:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        connection = idle.pop() if idle else await connect(port)
        sent = time.perf_counter()
        await connection.roundtrip(request)
        measured.append(time.perf_counter() - sent)
        idle.append(connection)

    start = time.perf_counter() + 0.2
    total = int(rate * seconds)
    await asyncio.gather(*(one(requests[i % len(requests)], start + i / rate) for i in range(total)))
    return measured


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux); 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--flush", choices=["syncfs", "fsync"], default="syncfs")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(
        prefix="push-bench-", dir=ROOT / "data" if (ROOT / "data").is_dir() else None
    ) as tmp:
        landing = Path(tmp) / "landing"
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(landing), TOKEN, str(port), args.flush],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            start_new_session=True,  # `stop` signals the process group
        )
        try:
            wait_until_up(f"http://127.0.0.1:{port}/health", server)
            durable = [request_bytes("pushgps", number) for number in range(args.requests)]
            bare = [request_bytes("bare", number) for number in range(args.requests)]
            validate = [request_bytes("validate", number) for number in range(args.requests)]
            print(
                f"payload: 50 items, {len(durable[0])} bytes per request; concurrency {args.concurrency}; flush {args.flush}"
            )
            rates: dict[str, list[float]] = {"bare": [], "validate": [], "durable": []}
            cpu: dict[str, float] = dict.fromkeys(rates, 0.0)
            for _ in range(args.rounds):
                for name, path, requests in (
                    ("bare", "bare", bare),
                    ("validate", "validate", validate),
                    ("durable", "pushgps", durable),
                ):
                    before = cpu_seconds(server.pid)
                    rates[name].append(asyncio.run(throughput(port, path, requests, args.concurrency)))
                    cpu[name] += cpu_seconds(server.pid) - before
            for name, values in rates.items():
                per_request_us = cpu[name] / (args.rounds * args.requests) * 1e6
                print(
                    f"{name:>8}: {max(values):8.0f} req/s  ({max(values) * 50:9.0f} items/s)  rounds {[round(v) for v in values]}"
                    f"  server CPU {per_request_us:.0f} us/request"
                )
            landed = sum(1 for _ in landing.rglob("*.json"))
            assert landed == args.requests * args.rounds, f"{landed} files landed"
            for name, requests in (("bare", bare), ("durable", durable)):
                measured = asyncio.run(latencies(port, requests, args.rate, args.seconds))
                print(
                    f"{name:>8} at {args.rate:.0f} req/s: p50 {percentile(measured, 50) * 1000:6.2f} ms, p99 {percentile(measured, 99) * 1000:6.2f} ms"
                )
        finally:
            stop(server)
    ratio = max(rates["durable"]) / max(rates["bare"])
    print(f"push_receiver_ratio: {ratio:.2f} (target >= 0.5)")


if __name__ == "__main__":
    main()
