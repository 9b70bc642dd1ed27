#!/usr/bin/env python3
"""Peer for the durable-ingest benchmark: NATS JetStream publishes with acks.

Connects to a running nats-server with JetStream (started by
`jetstream_peer.sh` with file storage), creates a file-backed stream, and runs
CONCURRENCY publishers (each its own connection) that `js.publish` the dev
articles (each made distinct) and wait for every ack, for BENCH_SECONDS per
round. Prints `key=value` lines on stdout:

    jetstream_publishers=<concurrency>
    jetstream_acked_per_s=<median over the rounds>

Usage: jetstream_peer.py NATS_URL [CORPUS_DIR]
(env BENCH_ROUNDS, BENCH_SECONDS, BENCH_PEER_CONCURRENCY)
"""

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import nats
from nats.js.api import StorageType, StreamConfig


async def publisher(url: str, bodies: list[bytes], stop_at: float, tag: int) -> int:
    connection = await nats.connect(url)
    jetstream = connection.jetstream()
    acked = 0
    try:
        while time.perf_counter() < stop_at:
            body = bodies[acked % len(bodies)] + f"\n{tag}-{acked}".encode()
            await jetstream.publish("articles.submit", body)
            acked += 1
    finally:
        await connection.close()
    return acked


async def run_round(url: str, bodies: list[bytes], concurrency: int, seconds: float) -> float:
    started = time.perf_counter()
    stop_at = started + seconds
    counts = await asyncio.gather(
        *(publisher(url, bodies, stop_at, tag) for tag in range(concurrency))
    )
    elapsed = time.perf_counter() - started
    return sum(counts) / elapsed


async def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    url = sys.argv[1]
    default_dir = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "dev"
    corpus_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else default_dir
    bodies = [path.read_bytes() for path in sorted(corpus_dir.glob("*.txt"))]
    if not bodies:
        print(f"no *.txt in {corpus_dir}", file=sys.stderr)
        return 1
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    seconds = float(os.environ.get("BENCH_SECONDS", "3"))
    concurrency = int(os.environ.get("BENCH_PEER_CONCURRENCY", "64"))

    admin = await nats.connect(url)
    jetstream = admin.jetstream()
    await jetstream.add_stream(
        StreamConfig(name="ARTICLES", subjects=["articles.>"], storage=StorageType.FILE)
    )
    await admin.close()

    rates = [await run_round(url, bodies, concurrency, seconds) for _ in range(rounds)]
    print(f"jetstream_publishers={concurrency}")
    print(f"jetstream_acked_per_s={statistics.median(rates):.1f}")
    print(f"# jetstream rounds acked/s: {', '.join(f'{rate:.0f}' for rate in rates)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
