"""Gemini as a BackupSource for the shared engine: two feeds, the pinned chats and the others
(each cursor-paged), and each changed chat read whole through its continuation tokens.

A chat is fetched when the list shows it with a newer time (``[5]``), or, should that time not
move (one probe reads it as the creation time), when its latest shown candidate (``[21]``)
differs from the one archived. The Takeout entries the archive holds for a chat are read with
it, so rewriting the chat keeps them (``flatten``). The images the answers show follow, into
the file store (``files.py``: fetched with no credential)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import sqlite_utils

from archiver.backup.client_source import ClientSource, backup_over, list_page
from archiver.backup.engine import BackupSummary
from archiver.backup.listing import ListItem
from archiver.backup.options import BackupRun, with_option_values
from archiver.backup.public_files import after_backup
from archiver.flatten.records import FlatConversation
from archiver.loosejson import as_dict, load_json
from archiver.providers.gemini.client import GeminiClient, GeminiSettings, ReadChat, new_gemini_http
from archiver.providers.gemini.files import image_fails_alone, pending_images
from archiver.providers.gemini.flatten import GeminiChat, flatten_chat, gems_of
from archiver.providers.gemini.options import DEFAULT_BACKUP_RPM, IMAGE_RPM, PROVIDER
from archiver.providers.gemini.parse import ChatRow
from archiver.providers.gemini.stored import save_gems, stored_entries
from archiver.transport.pace import ClientPace

FEEDS = ("pinned", "chats")
DEFAULT_RUN = BackupRun(ClientPace(DEFAULT_BACKUP_RPM))


class GeminiSource(ClientSource):
    """A source reading from Gemini and from ``archive``, the database it backs up into (the
    Takeout entries a chat holds, how the list showed it last): ``bound`` makes the subclass
    for one archive, since the engine makes the source from its class."""

    provider = PROVIDER
    lists_everything = True  # the two lists hold every chat
    client_class = GeminiClient
    archive: ClassVar[sqlite_utils.Database]
    gems: ClassVar[dict[str, tuple[str | None, Any]]]  # the Gems the fetched chats used

    def __init__(self, client: GeminiClient):
        super().__init__(client)
        self.client: GeminiClient = client
        self.base_url = client.settings.base_url
        self.db = self.archive

    @classmethod
    def bound(cls, db: sqlite_utils.Database) -> type[GeminiSource]:
        return type("GeminiSourceOf", (cls,), {"archive": db, "gems": {}})

    def feeds(self) -> list[str]:
        return list(FEEDS)

    def _archived(self, ids: list[str]) -> dict[str, tuple[str | None, Any]]:
        """id → (list time, latest candidate) as the archive last saw the list show it."""
        rows = self.db.execute(
            "SELECT id, list_update_time, raw_json FROM conversations "
            "WHERE id IN (SELECT value FROM json_each(?)) AND provider = ?",
            [json.dumps(ids), PROVIDER],
        ).fetchall()
        found: dict[str, tuple[str | None, Any]] = {}
        for ident, listed, raw in rows:
            row = as_dict(as_dict(load_json(raw)).get("list")).get("row")
            found[ident] = (listed, row[21] if isinstance(row, list) and len(row) > 21 else None)
        return found

    def _item(self, chat: ChatRow, archived: dict[str, tuple[str | None, Any]]) -> ListItem:
        update_time = chat.update_time
        listed, latest = archived.get(chat.conversation_id, (None, None))
        moved = latest is not None and chat.latest is not None and latest != chat.latest
        if moved and update_time and listed and update_time <= listed:
            update_time = None  # the time did not move but the chat did: fetch it
        return ListItem(chat.conversation_id, update_time, chat.title, chat.raw)

    async def list_pages(self, feed: str) -> AsyncIterator[list[ListItem]]:
        self.client.unreadable_entries = []
        async for chats in self.client.list_pages(pinned=feed == "pinned"):
            archived = self._archived([c.conversation_id for c in chats])
            items = [self._item(chat, archived) for chat in chats]
            yield items + list_page([], self.client.unreadable_entries)
            self.client.unreadable_entries = []

    async def fetch(self, item: ListItem) -> Any:
        read = await self.client.read_chat(item.id)
        return read, stored_entries(self.db, item.id), item.raw or self._stored_list_row(item.id)

    def _stored_list_row(self, conversation_id: str) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT raw_json FROM conversations WHERE id = ?", [conversation_id]
        ).fetchone()
        return as_dict(as_dict(load_json(row[0] if row else None)).get("list"))

    def flatten(self, item: ListItem, raw: Any) -> FlatConversation:
        read, entries, list_row = raw
        if not isinstance(read, ReadChat):
            raise ValueError("not a chat read")
        chat = GeminiChat(item.id, list_row or None, read.tails, read.turns, entries)
        self.gems.update(gems_of(chat))
        return flatten_chat(chat, account=self.account, list_update_time=item.update_time)


async def backup_gemini(
    db: sqlite_utils.Database,
    settings: GeminiSettings,
    run: BackupRun = DEFAULT_RUN,
) -> BackupSummary:
    """One backup run, then the Gems the fetched chats used into ``projects``, then the images
    the answers show into the file store (unless ``images.download`` is false; nothing is
    downloaded when the run stopped early). ``images.rpm`` None means unpaced (tests, the
    emulator)."""
    source = GeminiSource.bound(db)
    summary = await backup_over(db, source, new_gemini_http, settings, run)
    if source.gems:
        summary.extra["gems_new"] = save_gems(db, source.gems, settings.account)
    return await after_backup(
        db, summary, pending_images, run, rpm=IMAGE_RPM, alone=image_fails_alone
    )


back_up = with_option_values(backup_gemini)  # ``archiver backup gemini`` (modules.BackupModule)


__all__ = ["DEFAULT_RUN", "FEEDS", "GeminiSource", "back_up", "backup_gemini"]
