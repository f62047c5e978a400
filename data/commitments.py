"""Commitments: what a freeze publishes before the seed exists, and the check of each draw.

``suiji freeze --seed-source ...`` declares where the seed will come from, a
public dice ceremony (its date, place and witnesses) or a named future public
random event (say a given lottery draw's published numbers), and records a
**commitment**: the snapshot digest, the seed source, the period, the scope,
the log head before the freeze and the time. Its SHA-256 (the commitment
digest) and its text are published before the seed is known.

The rules (enforced here and in :func:`suiji.data.snapshot.freeze`):

* once a scope of a period has a commitment, every later freeze of it must
  declare a seed source again and give a reason; it is recorded, and shown in
  the notices, as superseding the earlier commitment;
* a draw on a committed scope names the commitment it fulfils
  (``--commitment DIGEST``) and is refused, quoting both digests, when that is
  not the period's latest commitment; it must use a given seed (the declared
  public one), not one from the operating system.

Commitments live in the hash-chained log (the ``freeze`` entry's details and
its ``commitment`` digest), so they are covered by ``suiji verify`` and by
every published log head.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from suiji.data.errors import SuijiError, UsageError
from suiji.data.store import LogHead, Store, canonical_json, sha256_hex

FORMAT = "suiji-commitment/1"
KINDS = ("dice", "event")


class CommitmentError(SuijiError):
    """A draw that does not fulfil the period's latest published commitment."""


@dataclass(frozen=True)
class SeedSource:
    """Where the seed will come from, declared at the freeze (before the seed exists).

    ``dice``: a public dice ceremony on ``on`` at ``place`` before ``witnesses``
    (at least two). ``event``: the named future public random event ``event``
    (e.g. 中国福利彩票双色球第2026139期开奖号码) taking place on ``on``.
    """

    kind: str
    on: date
    place: str = ""
    witnesses: tuple[str, ...] = ()
    event: str = ""

    def check(self, today: date) -> None:
        """Refuse a source that is incomplete or already in the past on ``today``."""
        if self.kind not in KINDS:
            raise UsageError(f"--seed-source is {self.kind!r}; use dice (a public dice "
                             f"ceremony) or event (a named future public random event).")
        if self.on < today:
            raise UsageError(
                f"The seed source's date {self.on.isoformat()} is before today "
                f"({today.isoformat()}): the commitment must be published before the seed "
                f"exists, so the ceremony or event must still be to come.")
        if self.kind == "dice":
            if not self.place.strip():
                raise UsageError("A dice ceremony needs its place: --place \"...\".")
            names = [w for w in self.witnesses if w.strip()]
            if len(names) < 2:
                raise UsageError("A dice ceremony needs at least two witnesses: "
                                 "--witness 张三 --witness 李四 (e.g. from 纪检 and a notary).")
        elif not self.event.strip():
            raise UsageError("A public random event needs its name: --event "
                             "\"中国福利彩票双色球第2026139期开奖号码\".")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "on": self.on.isoformat(), "place": self.place.strip(),
                "witnesses": [w.strip() for w in self.witnesses if w.strip()],
                "event": self.event.strip()}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> SeedSource:
        return cls(str(value["kind"]), date.fromisoformat(str(value["on"])),
                   str(value.get("place", "")), tuple(value.get("witnesses", ())),
                   str(value.get("event", "")))

    def describe(self) -> str:
        """One line, as recorded beside the seed and shown in the notices."""
        if self.kind == "dice":
            return (f"public dice ceremony 公开掷骰 {self.on.isoformat()}, {self.place.strip()}, "
                    f"witnesses 见证人 {'、'.join(w.strip() for w in self.witnesses if w.strip())}")
        return f"public random event 公开随机事件 {self.event.strip()} ({self.on.isoformat()})"


@dataclass(frozen=True)
class Commitment:
    """One published commitment (the body of a committed ``freeze`` log entry)."""

    period: str
    scope: str
    snapshot: int
    snapshot_digest: str
    seed_source: SeedSource
    log_head: LogHead  # the log's head just before this freeze
    frozen_at: str
    supersedes: str = ""  # the commitment digest this one replaces
    reason: str = ""

    def body(self) -> dict[str, Any]:
        return {"format": FORMAT, "period": self.period, "scope": self.scope,
                "snapshot": self.snapshot, "snapshot_digest": self.snapshot_digest,
                "seed_source": self.seed_source.as_dict(), "log_head": str(self.log_head),
                "frozen_at": self.frozen_at, "supersedes": self.supersedes,
                "reason": self.reason}

    @property
    def digest(self) -> str:
        return commitment_digest(self.body())

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Commitment:
        return cls(str(body["period"]), str(body["scope"]), int(body["snapshot"]),
                   str(body["snapshot_digest"]), SeedSource.from_dict(body["seed_source"]),
                   LogHead.parse(str(body["log_head"])), str(body["frozen_at"]),
                   str(body.get("supersedes", "")), str(body.get("reason", "")))

    def text(self) -> str:
        """The text to publish (portal, notice board, 纪检) before the seed exists."""
        lines = [
            "suiji 抽取承诺 commitment (publish before the seed exists)",
            f"period 期间        {self.period}",
            f"scope 范围         {self.scope}",
            f"snapshot digest 输入快照摘要 {self.snapshot_digest}",
            f"seed source 种子来源 {self.seed_source.describe()}",
            f"log head 日志链头   {self.log_head}",
            f"frozen at 冻结时间  {self.frozen_at}",
        ]
        if self.supersedes:
            lines.append(f"supersedes 取代承诺 {self.supersedes} (reason 理由: {self.reason})")
        lines.append(f"commitment digest 承诺摘要 {self.digest}")
        lines.append("canonical body 规范正文 (its SHA-256 is the commitment digest):")
        lines.append(canonical_json(self.body()))
        return "\n".join(lines) + "\n"


def commitment_digest(body: dict[str, Any]) -> str:
    return sha256_hex(canonical_json(body))


@dataclass(frozen=True)
class FreezeInfo:
    """One freeze of a period as the log records it, committed or not."""

    seq: int
    at: str
    scope: str
    snapshot: int
    digest: str  # the snapshot digest
    commitment: Commitment | None
    reason: str

    @property
    def commitment_digest(self) -> str:
        return self.commitment.digest if self.commitment is not None else ""


def freezes(store: Store, period: str, scope: str | None = None) -> list[FreezeInfo]:
    """Every freeze of ``period`` (of one ``scope``, or all), oldest first, from the log."""
    sql = ("SELECT seq, at, details, digests FROM log WHERE action = 'freeze' AND period = ?")
    args: tuple[str, ...] = (str(period),)
    if scope is not None:
        sql += " AND json_extract(details, '$.scope') = ?"
        args = (*args, scope)
    out = []
    for seq, at, details_text, digests_text in store.conn.execute(sql + " ORDER BY seq", args):
        details, digests = json.loads(details_text), json.loads(digests_text)
        body = details.get("commitment")
        try:
            commitment = Commitment.from_body(body) if isinstance(body, dict) else None
        except (KeyError, TypeError, ValueError):
            commitment = None  # an altered entry: verify reports it
        out.append(FreezeInfo(int(seq), str(at), str(details.get("scope", "")),
                              int(details.get("snapshot", 0) or 0),
                              str(digests.get("snapshot", "")), commitment,
                              str(details.get("reason", ""))))
    return out


def latest_commitment(store: Store, period: str, scope: str) -> FreezeInfo | None:
    """The latest committed freeze of a scope of the period, if any."""
    committed = [f for f in freezes(store, period, scope) if f.commitment is not None]
    return committed[-1] if committed else None


def check_freeze(store: Store, period: str, scope: str, seed_source: SeedSource | None,
                 reason: str, today: date | None) -> str:
    """Refuse a freeze the commitment rules forbid; returns the digest it supersedes ('')."""
    if seed_source is not None:
        if today is None:
            raise UsageError("A freeze that declares a seed source needs today's date "
                             "(the command line gives it).")
        seed_source.check(today)
    previous = latest_commitment(store, period, scope)
    if previous is None:
        return ""
    label = f"The {scope} inputs of {period}"
    if seed_source is None:
        raise UsageError(
            f"{label} have a published commitment ({previous.commitment_digest}, frozen "
            f"{previous.at[:19]}). A new freeze must declare its seed source again "
            f"(--seed-source dice|event ...) and say why (--reason \"...\"); it is published "
            f"as superseding the earlier commitment.")
    if not reason.strip():
        raise UsageError(
            f"{label} have a published commitment ({previous.commitment_digest}, frozen "
            f"{previous.at[:19]}). Freezing them again needs a reason: --reason \"...\" "
            f"(published in the notices beside both digests).")
    return previous.commitment_digest


def check_draw_commitment(store: Store, period: str, scope: str, snapshot_id: int,
                          given: str | None, seed_given: bool) -> FreezeInfo | None:
    """The commitment a draw fulfils (None for a scope without one), or a refusal.

    ``scope`` is the frozen scope the draw reads (``reviews`` for panels).
    """
    latest = latest_commitment(store, period, scope)
    wanted = (given or "").strip().lower()
    if latest is None:
        if wanted:
            raise CommitmentError(
                f"--commitment {wanted} does not match: {period} has no published commitment "
                f"for its {scope} inputs. Freeze them with --seed-source to publish one, or "
                f"draw without --commitment.")
        return None
    assert latest.commitment is not None
    ours = latest.commitment_digest
    if not wanted:
        raise UsageError(
            f"The {scope} inputs of {period} have a published commitment; name it: "
            f"--commitment {ours} (frozen {latest.at[:19]}, seed from "
            f"{latest.commitment.seed_source.describe()}).")
    if wanted != ours:
        earlier = [f for f in freezes(store, period, scope) if f.commitment_digest == wanted]
        why = (f"it is the commitment of the freeze of {earlier[-1].at[:19]}, superseded since"
               if earlier else f"it is not a commitment of the {period} {scope} inputs")
        raise CommitmentError(
            f"The draw names commitment {wanted}, but the latest commitment of {period} "
            f"({scope}) is {ours} (frozen {latest.at[:19]}"
            + (f", superseding {latest.commitment.supersedes}: {latest.commitment.reason}"
               if latest.commitment.supersedes else "")
            + f"); {why}. A draw must fulfil the latest published commitment.")
    if latest.snapshot != snapshot_id:
        raise CommitmentError(
            f"The latest freeze of the {period} {scope} inputs (snapshot {snapshot_id}) is not "
            f"the one commitment {ours} was published for (snapshot {latest.snapshot}).")
    if not seed_given:
        raise UsageError(
            f"Commitment {ours} declares the seed comes from "
            f"{latest.commitment.seed_source.describe()}: give that seed with --seed (a seed "
            f"from the operating system would not be the committed one).")
    return latest
