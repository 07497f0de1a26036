"""The provider adapters' HTTP clients: CPU a request when many jobs poll at once, the
adapter's clients taken in turn (providers/hosted.py) against one shared client.

httpcore 1.0.9 walks all of a pool's connections twice for every request, asking each idle
one whether its socket is readable (encode/httpcore#1035); with one client for every job
that walk grows with the jobs polling at once. Each job here is a coroutine polling a local
server (its own process, answering after 20 ms as a provider would, keep-alive) 12 times,
250 ms apart, all jobs starting together; the figure is this process's CPU over the requests
sent. Same clients, limits and TLS setup as the studio's (providers.http.make_client).
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx

from bench.figures import BenchResult, Figure, fmt_list, median
from bench.harness import free_port, log
from providers.hosted import CLIENT_POOLS, HostedProvider
from providers.http import make_client

POLLS = 12
POLL_GAP = 0.25
ROUNDS = 3

# A provider's status endpoint: 20 ms, then a small JSON answer, on kept-alive connections.
SERVER = """
import asyncio, sys
async def answer(reader, writer):
    try:
        while True:
            await reader.readuntil(b"\\r\\n\\r\\n")
            await asyncio.sleep(0.02)
            body = b'{"status": "running"}'
            writer.write(b"HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncontent-length: %d\\r\\n\\r\\n%s" % (len(body), body))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(answer, "127.0.0.1", int(sys.argv[1]), backlog=1024)
    print("up", flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


@contextlib.contextmanager
def status_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "up"
        yield f"http://127.0.0.1:{port}/status"
    finally:
        process.kill()
        process.wait()


async def cpu_per_request(url: str, jobs: int, client_for: Callable[[], httpx.AsyncClient]) -> float:
    """This process's CPU ms a request while `jobs` poll `url` at once."""

    async def job() -> None:
        for _ in range(POLLS):
            (await client_for().get(url)).raise_for_status()
            await asyncio.sleep(POLL_GAP)

    started = time.process_time()
    await asyncio.gather(*(job() for _ in range(jobs)))
    return (time.process_time() - started) * 1000 / (jobs * POLLS)


async def measure(url: str, jobs: int) -> dict[str, list[float]]:
    spent: dict[str, list[float]] = {"one client": [], "adapter": []}
    for turn in range(ROUNDS):
        for name in ("one client", "adapter") if turn % 2 == 0 else ("adapter", "one client"):
            if name == "adapter":
                adapter = HostedProvider(url, None)
                spent[name].append(await cpu_per_request(url, jobs, lambda: adapter._client))
                await adapter.aclose()
            else:
                async with make_client() as client:
                    spent[name].append(await cpu_per_request(url, jobs, lambda: client))
    return spent


def run(quick: bool = False) -> BenchResult:
    figures: list[Figure] = []
    notes: list[str] = []
    with status_server() as url:
        for jobs in (16, 64):
            spent = asyncio.run(measure(url, jobs))
            one, ours = median(spent["one client"]), median(spent["adapter"])
            log(f"pool_spread: {jobs} jobs: one client {one:.2f} ms, the adapter's {CLIENT_POOLS} in turn {ours:.2f} ms")
            figures.append(
                Figure(
                    "pool_spread",
                    f"{jobs} jobs polling at once: client CPU a provider request, the adapter's "
                    f"{CLIENT_POOLS} clients in turn / one shared client",
                    round(ours / one, 3),
                    "x",
                    "reported",
                    True,
                    f"adapter ms {fmt_list(spent['adapter'])}; one client ms {fmt_list(spent['one client'])}; "
                    f"{POLLS} polls a job, {POLL_GAP} s apart, {ROUNDS} rounds each, alternating",
                )
            )
    how = (
        "A local status server in its own process (20 ms an answer, keep-alive) and, in this "
        f"process, 16 then 64 jobs polling it at once, {POLLS} polls each, {POLL_GAP} s apart: "
        "through one client made by providers.http.make_client (what each adapter had), then "
        f"through a HostedProvider's {CLIENT_POOLS} clients taken in turn (what it has now), "
        f"alternating, {ROUNDS} rounds each. CPU of this process (time.process_time) a request."
    )
    return BenchResult(figures, how, notes)
