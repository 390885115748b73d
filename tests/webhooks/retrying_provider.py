"""An asynchronous provider that delivers at least once: 202 now, then POSTs the result to the
callback URL and retries (connection refused or reset, timeout, 5xx) until a 2xx or 4xx;
asked with scenario `once`, it makes one attempt and gives up if the connection fails.

It answers for the toy async connector (tests/core/toy.py), under the same emulator name, so the
crash tests drive a real receiver process with a provider that does what a careful one does.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from caudal.sandbox import Emulator

from ..core.toy import BODY

answers: dict[str, list[str]] = {}
"""Per operation: how each delivery attempt ended (`200 delivered`, `503 ...`, `ConnectError`)."""
_tasks: set[asyncio.Task[None]] = set()


def finished(operation: str) -> bool:
    """The provider has stopped trying: a definitive answer came back."""
    return any(a[0] in "24" for a in answers.get(operation, []))


async def _deliver(
    url: str, operation: str, delay: float, retry: bool = True, give_up: float = 90.0
) -> None:
    await asyncio.sleep(delay)
    # Spliced as text: the amounts keep every digit the toy body writes (no float round trip).
    body = b'{"operation": "%s", "balances": %s}' % (operation.encode(), BODY)
    end = asyncio.get_running_loop().time() + give_up
    log = answers.setdefault(operation, [])
    async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
        while asyncio.get_running_loop().time() < end:
            try:
                response = await client.post(
                    url, content=body, headers={"content-type": "application/json"}
                )
            except httpx.HTTPError as exc:
                log.append(type(exc).__name__)
                if not retry:
                    log.append("4 gave up")  # as Khipu's emulator does: one attempt only
                    return
            else:
                log.append(f"{response.status_code} {response.json().get('status')}")
                if response.status_code < 500:
                    return
            await asyncio.sleep(0.2)


async def accept(request: Request) -> Response:
    payload = await request.json()
    operation = str(uuid.uuid4())
    task = asyncio.get_running_loop().create_task(
        _deliver(
            payload["callback"], operation, float(payload["delay"]), payload["scenario"] != "once"
        )
    )
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    deadline = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    return JSONResponse({"operation": operation, "deadline": deadline}, status_code=202)


def emulator() -> Emulator:
    return Emulator(
        name="toyasync",
        routes=[Route("/async/balances", accept, methods=["POST"])],
        settings={"toy.async": {}},
    )
