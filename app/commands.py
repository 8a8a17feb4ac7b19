"""Who may give ``/cairn`` commands in a pull request, and what a refusal looks like.

``/cairn ignore`` turns a failing required check green and ``/cairn recheck`` spends the
installation's API budget, so both are taken only from people with write access to the
repository. The comment's ``author_association`` settles the clear cases without a call
(an owner may; a contributor, a first-timer or nobody may not); a member or collaborator is
confirmed through GitHub's permission endpoint, since a member may have only read access.

A refused command gets one quiet reply per person and pull request an hour (no mention, so a
flood of commands makes no flood of notifications), and a recheck runs at most once per pull
request every ``CAIRN_RECHECK_INTERVAL`` seconds, whoever asks.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from app import markdown as md
from app.github import Installation

logger = logging.getLogger(__name__)

#: Roles with write access (GitHub's role names; the legacy ``permission`` says "write").
WRITE_ROLES = frozenset({"admin", "maintain", "write"})
#: Associations that never come with write access: no call needed to refuse them.
OUTSIDERS = frozenset({"NONE", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "CONTRIBUTOR", "MANNEQUIN"})
REFUSED_EVERY = 3600  # seconds: one refusal reply per person and pull request this often

REFUSAL = (
    "Cairn takes `/cairn ignore` and `/cairn recheck` only from people with write access to "
    "this repository: nothing was done."
)


async def may_command(gh: Installation, repo: str, login: str | None, association: str) -> bool:
    """Whether ``login`` (with this ``author_association``) has write access to ``repo``."""
    if not login or association in OUTSIDERS:
        return False
    if association == "OWNER":
        return True
    # MEMBER, COLLABORATOR or an association GitHub did not send: ask
    return await gh.permission(repo, login) in WRITE_ROLES


async def refuse(
    redis: Redis,
    gh: Installation,
    repo: str,
    number: int,
    login: str | None,
    reply_to: int | None,
    text: str = REFUSAL,
) -> bool:
    """Answer a refused command once per person and pull request an hour; whether it did."""
    key = f"cairn:refused:{repo}:{number}:{login or '?'}"
    if not await redis.set(key, "1", nx=True, ex=REFUSED_EVERY):
        logger.info("command refused again, not answered", extra={"repo": repo, "pr": number})
        return False
    if reply_to is not None:
        await gh.reply(repo, number, reply_to, text)
    else:
        await gh.comment(repo, number, text)
    return True


async def recheck_allowed(
    redis: Redis, repo_id: int, number: int, job_id: str, interval: float
) -> bool:
    """Whether this job may recheck the pull request now: the first within ``interval``
    seconds (the same job, tried again after an outage, still may)."""
    if interval <= 0:
        return True
    key = f"cairn:recheck:{repo_id}:{number}"
    if await redis.set(key, job_id, nx=True, ex=max(1, int(interval))):
        return True
    holder = await redis.get(key)
    return bool(holder is not None and _text(holder) == job_id)


def ignored_reply(author: str, reason: str) -> str:
    """The acknowledgement of a recorded ``/cairn ignore``: who and why, pinging nobody."""
    return (
        f"Ignored by {md.code(author)}: {md.text(reason)}. "
        "Recorded; it is listed in the check run's summary."
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
