"""The account tools end to end against the bundled emulator."""

from __future__ import annotations

import asyncio

from archiver.config import Secret
from archiver.doctor import DoctorRun
from archiver.emulator import running_emulator
from archiver.providers.chatgpt.backup import backup_chatgpt
from archiver.providers.chatgpt.client import DEFAULT_MAX_RPM, ChatGPTClient, ChatGPTSettings
from archiver.providers.chatgpt.doctor import check_chatgpt
from archiver.providers.chatgpt.export_request import request_export
from archiver.providers.chatgpt.fake.config import ChatGPTFakeConfig
from archiver.providers.chatgpt.shared import shared_links_report
from archiver.providers.chatgpt.titles import generate_titles, title_candidates
from archiver.transport.http import HttpClient, new_session
from archiver.transport.pace import ClientPace
from archiver.transport.ratelimit import RateLimiter
from tests.support.account_helpers import NO_RETRY
from tests.support.fakes import fake_config

COUNT = 40  # the emulator shares every 8th conversation and leaves every 17th untitled


def upstream_title(settings: ChatGPTSettings, conversation_id: str) -> str | None:
    async def fetch() -> str | None:
        async with new_session() as session:
            client = ChatGPTClient(HttpClient(session, RateLimiter(None), NO_RETRY), settings)
            return (await client.get_conversation(conversation_id))["title"]

    return asyncio.run(fetch())


def test_account_tools_against_the_emulator(db):
    with running_emulator(fake_config(chatgpt_conversations=COUNT, seed=5)) as emu:
        settings = ChatGPTSettings(
            base_url=emu.chatgpt_base_url, token=Secret(ChatGPTFakeConfig().token)
        )
        wrong = ChatGPTSettings(base_url=emu.chatgpt_base_url, token=Secret("not-the-token"))

        report = asyncio.run(
            check_chatgpt(settings, DoctorRun("CHATGPT_ACCESS_TOKEN", NO_RETRY, 30.0, None))
        )
        assert report.exit_code == 0, report.lines()
        assert (
            asyncio.run(
                check_chatgpt(wrong, DoctorRun("CHATGPT_ACCESS_TOKEN", NO_RETRY, 30.0, None))
            ).exit_code
            == 2
        )

        summary = asyncio.run(backup_chatgpt(db, settings, pace=ClientPace(None, policy=NO_RETRY)))
        assert summary.exit_code == 0, summary.errors
        statuses = [r[0] for r in db.execute("SELECT status FROM account_snapshots")]
        assert statuses == [200, 200, 200, 200]

        shared = asyncio.run(
            shared_links_report(
                db, settings=settings, pace=ClientPace(DEFAULT_MAX_RPM, policy=NO_RETRY)
            )
        )
        assert shared.exit_code == 0
        expected_shared = len([i for i in range(COUNT) if i % 8 == 3])
        assert len(shared.links) == expected_shared
        assert all(link.archived for link in shared.links)

        untitled = title_candidates(db)
        assert len(untitled) == len([i for i in range(COUNT) if i % 17 == 5])
        titles = asyncio.run(generate_titles(db, settings, pace=ClientPace(None, policy=NO_RETRY)))
        assert titles.exit_code == 0 and titles.generated == len(untitled)
        assert not title_candidates(db)
        # Upstream has them too.
        for candidate in untitled:
            archived_title = db.execute(
                "SELECT title FROM conversations WHERE id = ?", [candidate.conversation_id]
            ).fetchone()[0]
            assert archived_title
            assert upstream_title(settings, candidate.conversation_id) == archived_title

        export = asyncio.run(request_export(db, settings, pace=ClientPace(None, policy=NO_RETRY)))
        assert export.exit_code == 0 and export.status == "queued"
