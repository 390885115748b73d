"""A `PendingStore` in Redis, so several receiver processes or machines share their tickets.

Each ticket is a hash; every conditional step (claim, renew, finish, release, the overdue
report) is one Lua script, so it is atomic on the server exactly as the SQLite store's single
UPDATE is. Two sorted sets index the tickets by time (integer microseconds since the epoch,
exact in Redis's doubles): those `delivering`, by lease end, and those unfinished and not yet
reported overdue, by deadline. Times are passed in, never read from a clock here.

Durability is Redis's: run it with AOF (`appendfsync everysec` or `always`) if a claim
acknowledged to a provider must survive the Redis server's own crash.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from ..errors import ConfigurationError
from ._store import KEPT_BODIES, TERMINAL, Ticket, TicketState, _utc

__all__ = ["RedisStore"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _us(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_ADD = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('ticket exists') end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
"""

_SET_OPERATION = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'operation_id', ARGV[2], 'deadline', ARGV[3])
redis.call('ZADD', KEYS[2], 'XX', ARGV[4], ARGV[1])
return 1
"""

# KEYS: ticket, delivering. ARGV: nonce, token, lease_us, lease_iso, body, now_us
_CLAIM = """
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'delivering' then
  local lease = tonumber(redis.call('HGET', KEYS[1], 'lease_us'))
  if not lease or lease > tonumber(ARGV[6]) then return 0 end
elseif state ~= 'requested' then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'delivering', 'token', ARGV[2], 'lease_us', ARGV[3],
  'lease_until', ARGV[4], 'body', ARGV[5])
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
"""

# KEYS: ticket, delivering. ARGV: nonce, token, lease_us, lease_iso
_RENEW = """
if redis.call('HGET', KEYS[1], 'state') ~= 'delivering' then return 0 end
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'lease_us', ARGV[3], 'lease_until', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
"""

# KEYS: ticket, delivering, open. ARGV: nonce, token, new state, whether it is terminal
_END = """
if redis.call('HGET', KEYS[1], 'state') ~= 'delivering' then return 0 end
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[3])
redis.call('HDEL', KEYS[1], 'token', 'lease_us', 'lease_until')
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[4] == '1' then redis.call('ZREM', KEYS[3], ARGV[1]) end
return 1
"""

# KEYS: open. ARGV: prefix, now_us. Reports each overdue ticket once (drops it from `open`).
_OVERDUE = """
local found = {}
local now = tonumber(ARGV[2])
for _, nonce in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])) do
  local key = ARGV[1] .. nonce
  local state = redis.call('HGET', key, 'state')
  local lease = tonumber(redis.call('HGET', key, 'lease_us'))
  if state == 'requested' or (state == 'delivering' and lease and lease <= now) then
    redis.call('ZREM', KEYS[1], nonce)
    table.insert(found, nonce)
  end
end
return found
"""


class RedisStore:
    """Tickets in Redis at `url` under `prefix` (the `caudal[redis]` extra); safe across
    threads, processes and machines."""

    def __init__(
        self, url: str = "redis://127.0.0.1:6379/0", *, prefix: str = "caudal:webhooks"
    ) -> None:
        try:
            import redis
        except ImportError:
            raise ConfigurationError(
                "RedisStore needs the redis package: pip install 'caudal[redis]'"
            ) from None
        self._redis: Any = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
        self._prefix = f"{prefix}:t:"
        self._bodies = f"{prefix}:b:"
        self._delivering = f"{prefix}:delivering"
        self._open = f"{prefix}:open"
        scripts = (_ADD, _SET_OPERATION, _CLAIM, _RENEW, _END, _OVERDUE)
        self._add, self._set_op, self._claim, self._renew, self._end, self._overdue = (
            self._redis.register_script(s) for s in scripts
        )

    def _key(self, nonce: str) -> str:
        return self._prefix + nonce

    def add(self, ticket: Ticket) -> None:
        fields: list[Any] = [
            "nonce", ticket.nonce, "connector", ticket.connector,
            "capability", ticket.capability, "created_at", _utc(ticket.created_at),
            "deadline", _utc(ticket.deadline), "state", ticket.state.value,
            "attempts", ticket.attempts,
        ]  # fmt: skip
        if ticket.operation_id is not None:
            fields += ["operation_id", ticket.operation_id]
        keys = [self._key(ticket.nonce), self._open]
        self._add(keys=keys, args=[ticket.nonce, _us(ticket.deadline), *fields])

    def get(self, nonce: str) -> Ticket | None:
        raw = self._redis.hgetall(self._key(nonce))
        return self._ticket(raw) if raw else None

    @staticmethod
    def _ticket(raw: dict[bytes, bytes]) -> Ticket:
        row = {k.decode(): v.decode() for k, v in raw.items() if k != b"body"}
        lease = row.get("lease_until")
        return Ticket(
            nonce=row["nonce"],
            connector=row["connector"],
            capability=row["capability"],
            created_at=datetime.fromisoformat(row["created_at"]),
            deadline=datetime.fromisoformat(row["deadline"]),
            operation_id=row.get("operation_id"),
            state=TicketState(row["state"]),
            attempts=int(row.get("attempts", 0)),
            lease_until=datetime.fromisoformat(lease) if lease else None,
        )

    def set_operation(self, nonce: str, operation_id: str, deadline: datetime) -> None:
        keys = [self._key(nonce), self._open]
        self._set_op(keys=keys, args=[nonce, operation_id, _utc(deadline), _us(deadline)])

    def claim(self, nonce: str, body: bytes, now: datetime, lease_until: datetime) -> str | None:
        token = secrets.token_hex(16)
        keys = [self._key(nonce), self._delivering]
        args: list[str | int | bytes] = [
            nonce,
            token,
            _us(lease_until),
            _utc(lease_until),
            body,
            _us(now),
        ]
        return token if self._claim(keys=keys, args=args) == 1 else None

    def renew(self, nonce: str, token: str, lease_until: datetime) -> bool:
        keys = [self._key(nonce), self._delivering]
        args: list[str | int] = [nonce, token, _us(lease_until), _utc(lease_until)]
        return bool(self._renew(keys=keys, args=args))

    def _close_claim(self, nonce: str, token: str, state: TicketState) -> bool:
        keys = [self._key(nonce), self._delivering, self._open]
        terminal = "1" if state in TERMINAL else "0"
        return bool(self._end(keys=keys, args=[nonce, token, state.value, terminal]))

    def finish(self, nonce: str, token: str, state: TicketState) -> bool:
        if state not in TERMINAL:
            raise ValueError(f"a claim finishes as delivered or failed, not {state}")
        return self._close_claim(nonce, token, state)

    def release(self, nonce: str, token: str) -> bool:
        return self._close_claim(nonce, token, TicketState.REQUESTED)

    def accepted_body(self, nonce: str) -> bytes | None:
        body: bytes | None = self._redis.hget(self._key(nonce), "body")
        return body

    def keep_body(self, nonce: str, body: bytes, problem: str | None) -> None:
        # One list entry per body: the problem (empty for none) after a 1-byte flag.
        entry = (b"\x01" + problem.encode() if problem is not None else b"\x00") + b"\n" + body
        pipe = self._redis.pipeline(transaction=True)
        pipe.rpush(self._bodies + nonce, entry)
        pipe.ltrim(self._bodies + nonce, -KEPT_BODIES, -1)
        pipe.execute()

    def bodies(self, nonce: str) -> list[tuple[bytes, str | None]]:
        kept = []
        for entry in self._redis.lrange(self._bodies + nonce, 0, -1):
            head, _, body = entry.partition(b"\n")
            kept.append((body, head[1:].decode() if head[:1] == b"\x01" else None))
        return kept

    def _tickets(self, nonces: list[bytes]) -> list[Ticket]:
        pipe = self._redis.pipeline(transaction=False)
        for nonce in nonces:
            pipe.hgetall(self._key(nonce.decode()))
        return [self._ticket(raw) for raw in pipe.execute() if raw]

    def stranded(self, now: datetime) -> list[Ticket]:
        nonces = self._redis.zrangebyscore(self._delivering, "-inf", _us(now))
        return [t for t in self._tickets(nonces) if t.stranded(now)]

    def overdue(self, now: datetime) -> list[Ticket]:
        return self._tickets(self._overdue(keys=[self._open], args=[self._prefix, _us(now)]))

    def close(self) -> None:
        self._redis.close()
