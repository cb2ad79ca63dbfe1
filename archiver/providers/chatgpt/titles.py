"""Titles for untitled conversations: ``POST conversation/gen_title/{id}`` with the message id
of the conversation's current node, and the answer written to the archive too.

- gen_title answers ``{"title"}`` and sets it upstream: the archive takes it.
- It answers "already has title 'X'" when upstream has one: the archive takes X (it was stale).
- When upstream's own title is a placeholder ("New chat", as batch-created chats often have),
  gen_title will not replace it: the title becomes the first line of the first prompt, sent
  upstream with ``PATCH conversation/{id} {"title"}``.

The archive's ``conversations.title`` and the ``title`` inside ``raw_json`` are updated
together; the next backup that sees the conversation change upstream refreshes both anyway.
Every request goes through the shared HttpClient and its rate limiter."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlite_utils

from archiver.errors import EXIT_FAILED, ConfigError, NotFoundError, UpstreamError
from archiver.providers.chatgpt.account import AccountClient, open_account_client
from archiver.providers.chatgpt.account_parse import is_placeholder_title, title_from_prompt
from archiver.providers.chatgpt.account_summary import CountingSummary
from archiver.providers.chatgpt.client import DEFAULT_PACE, ChatGPTSettings
from archiver.store.edits import set_title
from archiver.transport.pace import ClientPace


@dataclass(frozen=True)
class TitleCandidate:
    conversation_id: str
    title: str | None
    message_id: str | None  # the current node's message id (what gen_title wants)
    first_prompt: str | None


@dataclass(frozen=True)
class TitleChange:
    conversation_id: str
    old: str | None
    new: str
    how: str  # generated | upstream | patched | would-ask


@dataclass
class TitlesSummary(CountingSummary):
    label: str = "titles"
    candidates: int = 0
    generated: int = 0  # gen_title made one
    synced: int = 0  # upstream already had a real title: the archive took it
    patched: int = 0  # placeholder upstream: title from the first prompt, PATCHed
    unchanged: int = 0
    skipped: int = 0  # no message to title from
    missing: int = 0  # 404: gone upstream
    failed: int = 0
    changes: list[TitleChange] = field(default_factory=list)


_COUNTER_OF = {"generated": "generated", "upstream": "synced", "patched": "patched"}
_PLACEHOLDER_SQL = "(c.title IS NULL OR trim(c.title) = '' OR lower(trim(c.title)) = 'new chat')"


def title_candidates(
    db: sqlite_utils.Database, *, missing_only: bool = True
) -> list[TitleCandidate]:
    """ChatGPT conversations still upstream; with ``missing_only`` those without a real title."""
    where = f"AND {_PLACEHOLDER_SQL}" if missing_only else ""
    rows = db.execute(
        "SELECT c.id, c.title, coalesce("
        "  (SELECT m.message_id FROM messages m WHERE m.conversation_id = c.id "
        "   AND m.id = c.current_node AND m.message_id IS NOT NULL),"
        "  (SELECT m.message_id FROM messages m WHERE m.conversation_id = c.id "
        "   AND m.on_current_branch = 1 AND m.message_id IS NOT NULL "
        "   ORDER BY m.depth DESC LIMIT 1)), "
        "(SELECT m.text FROM messages m WHERE m.conversation_id = c.id AND m.role = 'user' "
        " AND m.on_current_branch = 1 AND m.is_hidden = 0 AND coalesce(m.text, '') != '' "
        " ORDER BY m.depth LIMIT 1) "
        "FROM conversations c WHERE c.provider = 'chatgpt' AND c.deleted_upstream_at IS NULL "
        f"{where} ORDER BY c.create_time, c.id"
    ).fetchall()
    return [TitleCandidate(*row) for row in rows]


def record_title(db: sqlite_utils.Database, conversation_id: str, title: str) -> None:
    set_title(db, conversation_id, title)


async def _title_one(
    db: sqlite_utils.Database,
    client: AccountClient,
    candidate: TitleCandidate,
    summary: TitlesSummary,
) -> None:
    assert candidate.message_id is not None
    answer = await client.gen_title(candidate.conversation_id, candidate.message_id)
    if answer.title and not is_placeholder_title(answer.title):
        new, how = answer.title, "upstream" if answer.already_titled else "generated"
    else:
        fallback = title_from_prompt(candidate.first_prompt)
        if fallback is None:
            summary.skipped += 1
            summary.errors.append(f"{candidate.conversation_id}: no title offered, no prompt")
            return
        if not await client.patch_title(candidate.conversation_id, fallback):
            summary.failed += 1
            summary.errors.append(f"{candidate.conversation_id}: the title PATCH was refused")
            return
        new, how = fallback, "patched"
    if new == candidate.title:
        summary.unchanged += 1
        return
    record_title(db, candidate.conversation_id, new)
    counter = _COUNTER_OF[how]
    setattr(summary, counter, getattr(summary, counter) + 1)
    summary.changes.append(TitleChange(candidate.conversation_id, candidate.title, new, how))


async def retitle(
    db: sqlite_utils.Database,
    client: AccountClient | None,
    candidates: list[TitleCandidate],
    *,
    dry_run: bool = False,
) -> TitlesSummary:
    """Title each candidate in turn; a refused token or a challenge page stops the run."""
    summary = TitlesSummary(candidates=len(candidates))
    for candidate in candidates:
        if candidate.message_id is None:
            summary.skipped += 1
            continue
        if dry_run or client is None:
            summary.changes.append(
                TitleChange(candidate.conversation_id, candidate.title, "", "would-ask")
            )
            continue
        try:
            await _title_one(db, client, candidate, summary)
        except NotFoundError:
            summary.missing += 1
        except UpstreamError as exc:
            if exc.exit_code != EXIT_FAILED:  # refused token, challenge page: stop
                summary.abort(exc)
                break
            summary.failed += 1
            summary.errors.append(f"{candidate.conversation_id}: {exc}")
    if client is not None:
        summary.take_stats(client.http.stats)
    return summary


async def generate_titles(
    db: sqlite_utils.Database,
    settings: ChatGPTSettings | None,
    *,
    missing_only: bool = True,
    dry_run: bool = False,
    pace: ClientPace = DEFAULT_PACE,
) -> TitlesSummary:
    """Title the archive's untitled ChatGPT conversations (every one with ``missing_only``
    False). ``dry_run`` lists what would be asked and sends nothing (no token needed)."""
    candidates = title_candidates(db, missing_only=missing_only)
    if dry_run:
        return await retitle(db, None, candidates, dry_run=True)
    if settings is None:
        raise ConfigError("titles needs the ChatGPT access token unless --dry-run is given")
    async with open_account_client(settings, pace=pace) as client:
        return await retitle(db, client, candidates)
