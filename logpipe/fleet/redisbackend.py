"""The fleet's shared state on Redis (redis-py): window buckets, incident names, claims and counts, silences,
members. Every key starts with the deployment's prefix.

    {prefix}w:{rule}:{group}     hash  "{bucket}|{instance}" -> this instance's values for the bucket (absolute,
                                       so a re-sent or re-counted bucket after a restart is never added twice)
    {prefix}g:{rule}             hash  group key -> the group (so an instance evaluates groups only others see)
    {prefix}o:{rule}:{group}     str   the id of the open incident of (rule, group): SET NX, expires unless renewed
    {prefix}c:{claim}            str   "{instance}|{number}": who sends a notification, as the incident's n-th
                                       (SET NX PX, in a Lua script; the owner re-claiming after a restart gets
                                       the same number, so the same notification id, which its outbox keeps once);
                                       a lease the owner renews until delivered, then "|done" for claim_ttl
    {prefix}n:{incident}         hash  instance -> its matches in the incident; "~reported" -> matches notified;
                                       "~number" -> notifications sent
    {prefix}silences             hash  silence id -> the silence
    {prefix}members              hash  instance -> its heartbeat (host, containers, last seen)

Redis unreachable: each call raises BackendUnreachable at once for RETRY_EVERY seconds (a stopped server must not
slow the follower down), then one real attempt (those seconds read from an injected monotonic `clock`, which a
test steps instead of waiting). Each call has `state.timeout` for any one read and twice that for
the whole of it (a watchdog cuts the connection past it); a call that timed out raises BackendUncertain, since
Redis may have done what was asked (the sync asks a claim again rather than paging alone). What comes back is
checked (records.py): a record logpipe did not write (an older format, another tool on the prefix) is skipped and
counted (`skipped`), and an answer of the wrong shape (a server answering `+OK` to everything) makes Redis
unusable, as unreachable does.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from logpipe.fleet import records
from logpipe.fleet.backend import (
    LEASE_MS,
    BackendUncertain,
    BackendUnreachable,
    BucketValues,
    ClaimAnswer,
    ClaimRequest,
    Exchange,
    Group,
    Shared,
)
from logpipe.fleet.watchdog import Watchdog
from logpipe.incidents.silences import Silence
from logpipe.redact import Redactor

RETRY_EVERY = 1.0  # seconds between attempts while Redis is unreachable
TIMEOUT = 1.0  # seconds (state.timeout): a connect or a read slower than this; a whole call gets twice as long
OPEN_TTL_MS = 15 * 60_000  # an open incident's name lives this long past its last renewal (sync renews it)
_ANOTHER_TYPE = (
    "state backend unusable: a key under the prefix is not what logpipe keeps there (another tool, or an older "
    "logpipe, on the same prefix? give this deployment its own `state.prefix`)"
)
REPORTED = "~reported"  # not an instance name: those never start with "~"

_CLAIM = """
local total, reported = 0, 0
local fields = redis.call('HGETALL', KEYS[2])
for i = 1, #fields, 2 do
  local name = fields[i]
  local value = tonumber(fields[i + 1]) or 0
  if name == '~reported' then reported = value
  elseif string.sub(name, 1, 1) ~= '~' then total = total + value end
end
local held = redis.call('GET', KEYS[1])
local owner, number = nil, nil
if held then owner, number = string.match(held, '^([^|]+)|(%d+)') end
if owner then
  if owner ~= ARGV[1] then return {0, owner, total, 0, 0} end
  return {1, owner, total, 0, tonumber(number)}
end
local number = redis.call('HINCRBY', KEYS[2], '~number', 1)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. number, 'PX', ARGV[2])
local count = 0
if ARGV[3] == '1' then
  count = total - reported
  redis.call('HSET', KEYS[2], '~reported', total)
end
return {1, ARGV[1], total, count, number}
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def group_key(group: Group) -> str:
    return hashlib.blake2b(orjson.dumps(group), digest_size=8).hexdigest()


class RedisBackend:
    def __init__(
        self,
        url: str,
        prefix: str,
        instance: str,
        claim_ttl_ms: int,
        timeout: float = TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url, self.prefix, self.instance, self.claim_ttl_ms = url, prefix, instance, claim_ttl_ms
        self.timeout, self.clock = timeout, clock
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),  # no retries inside a call: the next tick is the retry
            driver_info=None,  # no CLIENT SETINFO on connect: under latency, each round trip is one more timeout
            decode_responses=True,
        )
        self._claim = self.client.register_script(_CLAIM)
        self._release = self.client.register_script(_RELEASE)
        self._redactor = Redactor()
        self._problem: str | None = None
        self._next_attempt = 0.0
        self.recovered = False  # set when Redis answers again after being unreachable (the sync reconciles)
        self.commands = 0  # sent, for the benchmark's commands per second
        self._groups: dict[str, dict[str, Group]] = {}  # rule -> group key -> group, as the fleet knows them
        self._stale: dict[str, list[str]] = {}  # window key -> fields of buckets past every window
        self._published_silences: set[str] = set()
        self.skipped: dict[str, int] = {}  # records of each kind read back and refused (records.py), not taken yet
        self._uncertain = False  # the last failure was a timeout: Redis slow, what it was asked maybe done
        self._watchdog = Watchdog(f"redis-{instance}")

    # --- reachability ------------------------------------------------------------------------------------------
    def problem(self) -> str | None:
        return self._problem

    def reconnected(self) -> bool:
        recovered, self.recovered = self.recovered, False
        return recovered

    def take_skipped(self) -> dict[str, int]:
        """The records refused since the last call, by kind (group, window, silence, member, incident)."""
        skipped, self.skipped = self.skipped, {}
        return skipped

    def _skip(self, kind: str) -> None:
        self.skipped[kind] = self.skipped.get(kind, 0) + 1

    def _run(self, pipe: Any, read: Any = None) -> Any:
        """Execute the pipeline; `read(answers)` takes what came back (raising records.BadAnswer if it is not what
        was asked). Raises BackendUnreachable for a Redis error or an answer of the wrong shape."""
        if self._problem is not None and self.clock() < self._next_attempt:
            raise (BackendUncertain if self._uncertain else BackendUnreachable)(self._problem)
        self.commands += len(pipe.command_stack)
        self._uncertain = False
        try:
            with self._watchdog.limit(2 * self.timeout, self.client.connection_pool.disconnect) as watch:
                answers: list[Any] = pipe.execute()
            result = answers if read is None else read(answers)
        except (redis.TimeoutError, redis.ConnectionError) as error:
            timed_out = isinstance(error, redis.TimeoutError) or watch.fired
            self._down("state backend too slow" if timed_out else "state backend unreachable", error)
            self._uncertain = timed_out
            raise (BackendUncertain if timed_out else BackendUnreachable)(self._problem) from None
        except redis.ResponseError as error:
            self._down(_ANOTHER_TYPE if "WRONGTYPE" in str(error) else "state backend unreachable", error)
            raise BackendUnreachable(self._problem) from None
        except redis.RedisError as error:
            self._down("state backend unreachable", error)
            raise BackendUnreachable(self._problem) from None
        except Exception as error:  # the boundary with whatever answers on Redis's port: the client library
            # itself fails in many ways on an answer that is not Redis's (an AttributeError on `+OK`)
            self._down("state backend answered something other than Redis (another service on its port?)", error)
            raise BackendUnreachable(self._problem) from None
        if self._problem is not None:
            self._problem, self.recovered = None, True
        return result

    def _down(self, what: str, error: Exception) -> None:
        # the URL may carry a password; redis-py's messages name the host only, but say nothing unredacted
        self._problem = f"{what}: " + self._redactor.text(f"{type(error).__name__}: {error}")
        self._next_attempt = self.clock() + RETRY_EVERY

    # --- incidents and claims ---------------------------------------------------------------------------------
    def incident_id(self, rule: str, group: Group, own_id: str) -> str:
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self._open_key(rule, group), own_id, nx=True, px=OPEN_TTL_MS, get=True)
        try:
            (existing,) = self._run(pipe)
        except BackendUnreachable:
            return own_id
        if existing is None:
            return own_id
        fleet_id = records.incident_id(existing)
        if fleet_id is None:  # not an id logpipe made: this instance's own, which the next SET NX may publish
            self._skip("incident")
            return own_id
        return fleet_id

    def claim(
        self, requests: Sequence[ClaimRequest], totals: dict[str, int], reported: dict[str, int] | None = None
    ) -> list[ClaimAnswer]:
        pipe = self.client.pipeline(transaction=False)
        self._store_totals(pipe, totals)
        for incident, count in (reported or {}).items():
            pipe.hincrby(f"{self.prefix}n:{incident}", REPORTED, count)
        before = len(pipe.command_stack)
        for request in requests:
            self._claim(
                keys=[f"{self.prefix}c:{request.key}", f"{self.prefix}n:{request.incident}"],
                args=[self.instance, request.ttl_ms, "1" if request.counted else "0", self.claim_ttl_ms],
                client=pipe,
            )
        return list(self._run(pipe, lambda answers: [records.claim_answer(a) for a in answers[before:]]))

    def settle_claims(self, renew: Sequence[str], done: Sequence[str], check: Sequence[str]) -> dict[str, str | None]:
        """Leases: renew this instance's claims still in its outbox, mark delivered ones done (kept claim_ttl),
        and read the claims others hold (key -> value; None once expired: its owner died before delivering)."""
        pipe = self.client.pipeline(transaction=False)
        for key in renew:
            pipe.pexpire(f"{self.prefix}c:{key}", LEASE_MS)
        for key in done:
            pipe.append(f"{self.prefix}c:{key}", "|done")
            pipe.pexpire(f"{self.prefix}c:{key}", self.claim_ttl_ms)
        first = len(pipe.command_stack)
        for key in check:
            pipe.get(f"{self.prefix}c:{key}")
        answers = self._run(pipe, lambda answers: [records.text_or_none(a) for a in answers[first:]])
        return dict(zip(check, answers, strict=True))

    def release(self, rule: str, group: Group, incident: str) -> None:
        pipe = self.client.pipeline(transaction=False)
        self._release(keys=[self._open_key(rule, group)], args=[incident], client=pipe)
        with contextlib.suppress(BackendUnreachable):  # unreachable: the name expires by itself (OPEN_TTL_MS)
            self._run(pipe)

    def _store_totals(self, pipe: Any, totals: dict[str, int]) -> None:
        for incident, total in totals.items():
            key = f"{self.prefix}n:{incident}"
            pipe.hset(key, self.instance, total)
            pipe.pexpire(key, self.claim_ttl_ms)

    def _open_key(self, rule: str, group: Group) -> str:
        return f"{self.prefix}o:{rule}:{group_key(group)}"

    # --- the tick's exchange ----------------------------------------------------------------------------------
    def exchange(self, sent: Exchange) -> Shared:
        pipe = self.client.pipeline(transaction=False)
        p, me = self.prefix, self.instance
        for share in sent.windows:
            key, gk = f"{p}w:{share.rule}:{group_key(share.group)}", group_key(share.group)
            if share.buckets:
                pipe.hset(key, mapping={f"{b}|{me}": ",".join(map(repr, v)) for b, v in share.buckets.items()})
            pipe.pexpire(key, share.ttl_ms)
            # Redis may be on another host: the group's values (a capture can hold a secret) go redacted; the
            # key is a hash of the values as seen, so instances that see the group still agree on it
            shown = tuple((name, self._redactor.text(value)) for name, value in share.group)
            pipe.hset(f"{p}g:{share.rule}", gk, orjson.dumps(shown).decode())
            pipe.pexpire(f"{p}g:{share.rule}", share.ttl_ms)
            self._groups.setdefault(share.rule, {})[gk] = share.group
        for key, stale in self._stale.items():
            pipe.hdel(key, *stale)
        self._stale = {}
        self._store_totals(pipe, sent.totals)
        for rule, group in sent.open_incidents:
            pipe.pexpire(self._open_key(rule, group), OPEN_TTL_MS)
        if sent.silences is not None:
            self._publish_silences(pipe, sent.silences)
        if sent.heartbeat is not None:
            pipe.hset(f"{p}members", me, orjson.dumps(sent.heartbeat).decode())
        first_read = len(pipe.command_stack)
        rules = list(sent.oldest_bucket)
        for rule in rules:
            pipe.hgetall(f"{p}g:{rule}")
        reads = [(rule, gk, group) for rule in rules for gk, group in self._groups.get(rule, {}).items()]
        for rule, gk, _ in reads:
            pipe.hgetall(f"{p}w:{rule}:{gk}")
        if sent.silences is not None:
            pipe.hgetall(f"{p}silences")
        answers = self._run(pipe, lambda answers: [records.mapping(a) for a in answers[first_read:]])
        for rule, index in zip(rules, answers[: len(rules)], strict=True):
            known = self._groups.setdefault(rule, {})
            for gk, text in index.items():
                if gk not in known:
                    found = records.group(text)
                    if found is None:
                        self._skip("group")
                        continue
                    known[gk] = found
        windows: dict[tuple[str, Group], dict[int, BucketValues]] = {}
        for (rule, gk, group), fields in zip(reads, answers[len(rules) : len(rules) + len(reads)], strict=True):
            others = self._others(f"{p}w:{rule}:{gk}", fields, sent.oldest_bucket[rule])
            if others or fields:
                windows[(rule, group)] = others
            else:
                self._groups[rule].pop(gk, None)  # expired everywhere
        silences = self._silences(answers[len(rules) + len(reads)]) if sent.silences is not None else None
        return Shared(windows, silences)

    def _others(self, key: str, fields: dict[str, str], oldest: int) -> dict[int, BucketValues]:
        """The other instances' buckets, summed; fields of buckets before every window are deleted next tick."""
        others: dict[int, BucketValues] = {}
        for name, text in fields.items():
            read = records.bucket(name, text)
            if read is None:
                self._skip("window")
                continue
            bucket, owner, values = read
            if bucket < oldest:
                self._stale.setdefault(key, []).append(name)
                continue
            if owner == self.instance:
                continue
            have = others.get(bucket)
            if have is not None and len(have) != len(values):  # a ratio's and an aggregate's buckets in one key
                self._skip("window")
                continue
            others[bucket] = values if have is None else _merge(have, values)
        return others

    def _publish_silences(self, pipe: Any, silences: Sequence[Silence]) -> None:
        key = f"{self.prefix}silences"
        ids = {silence.id for silence in silences}
        gone = self._published_silences - ids  # expired here (`logpipe silence expire`): expired everywhere
        if gone:
            pipe.hdel(key, *gone)
        if silences:
            pipe.hset(key, mapping={s.id: orjson.dumps(_silence_record(s)).decode() for s in silences})
        self._published_silences = ids

    def _silences(self, published: dict[str, str]) -> list[Silence]:
        now = time.time_ns()
        found = []
        for text in published.values():
            silence = records.silence(text)
            if silence is None:
                self._skip("silence")
            elif silence.ends > now:
                found.append(silence)
        return found

    def members(self) -> dict[str, dict[str, Any]]:
        """Each instance's last heartbeat (`logpipe fleet`); a record that is no heartbeat is skipped (counted)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(f"{self.prefix}members")
        (beats,) = self._run(pipe, lambda answers: [records.mapping(a) for a in answers])
        found = {}
        for name, text in sorted(beats.items()):
            beat = records.member(text)
            if beat is None:
                self._skip("member")
            else:
                found[name] = beat
        return found

    def close(self) -> None:
        self._watchdog.stop()
        self.client.close()


def _merge(have: BucketValues, more: BucketValues) -> BucketValues:
    if len(have) == 4:  # aggregate: count, sum, min, max
        return (have[0] + more[0], have[1] + more[1], min(have[2], more[2]), max(have[3], more[3]))
    return tuple(a + b for a, b in zip(have, more, strict=True))


def _silence_record(silence: Silence) -> dict[str, Any]:
    return {
        "id": silence.id,
        "rule": silence.rule,
        "matchers": [list(pair) for pair in silence.matchers],
        "starts": silence.starts,
        "ends": silence.ends,
        "reason": silence.reason,
        "created_by": silence.created_by,
    }
