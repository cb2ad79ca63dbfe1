"""ChatGPT's knobs in the emulator: data size, credentials, a 2026 account's sign-in, Projects
and files, and the sentinel and refusals of sending (docs/protocol/chatgpt.md). Set them with
the flags declared here (``archiver emulator --conversations 50``), with ``--set
chatgpt.<knob>=<value>``, or ``EmulatorConfig(provider_configs={"chatgpt":
ChatGPTFakeConfig(...)})``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import click

from archiver.fakes.knobs import flag
from archiver.options import FiniteFloatRange


class HexDigits(click.ParamType):
    name = "hex"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if any(c not in "0123456789abcdefABCDEF" for c in str(value)):
            self.fail(f"{value!r} is not hex", param, ctx)
        return str(value).lower()


@dataclass
class ChatGPTFakeConfig:
    flag_prefix: ClassVar[str] = ""  # the first provider's flags: --conversations, --token...

    # Data: everything served is a pure function of these and the emulator's seed.
    conversations: int = flag(200)
    mean_nodes: int = flag(12)

    # Credentials the emulator accepts.
    token: str = flag("emulator-token", "Accepted bearer token.")
    account_id: str | None = flag(None, "Require this Chatgpt-Account-Id.")

    # ChatGPT as a 2026 account sees it.
    session_cookie: str = flag("emulator-session", "Accepted session.")  # signs in
    # exp of the access tokens /api/auth/session issues
    token_lifetime_s: float = flag(10 * 86400, type=FiniteFloatRange(min=0, min_open=True))
    token_uses: int = 0  # each issued access token serves this many requests, then expires
    rotate_session_cookie: bool = True  # answer /api/auth/session with a renewed Set-Cookie
    # Cloudflare page for a User-Agent without Mozilla/
    challenge_script_agents: bool = flag(False, "Cloudflare page for scripts.")
    projects: int = flag(0)  # Projects ("snorlax" gizmos), each with its own conversations
    project_conversations: int = flag(3)  # conversations per project (not in the main list)
    sidebar_page_size: int = 5  # projects per sidebar page, whatever `limit` says
    project_page_size: int = 2  # conversations per project page (small: paging gets exercised)
    cursor_form: Literal["string", "number"] = flag("string")  # 2026 strings or older numbers
    repeat_cursor: bool = False  # project lists answer the same cursor forever (a server bug)
    vanishing_projects: int = 0  # the first N projects are listed but 404 on their chats
    # share of file ids that answer 404 File not found
    gone_file_rate: float = flag(0.0, type=FiniteFloatRange(0.0, 1.0))
    file_stream_denied: bool = False  # estuary/content answers 403 File stream access denied
    file_url_base: str | None = None  # download_url on another host (signed, no bearer)
    file_size_bytes: int | None = None  # every file this big (default: 2-32 KB by id)

    # Sending as a 2026 account ("Sending a prompt, 2025-2026").
    pow_difficulty: str = flag(
        "0fffff", "The proof of work the sentinel asks for (hex); '' for none.", type=HexDigits()
    )
    pow_forms: Literal["both", "sha3", "fnv"] = flag("both")  # proof hash forms accepted
    sentinel_form: Literal["plain", "prepare"] = flag(
        "plain", "prepare: only chat-requirements/prepare + finalize exist."
    )
    turnstile: Literal["off", "required", "insist"] = flag("off")  # insist: 403 without a token
    unusual_activity: int = flag(0, "Answer the next N sends with 403.")
    send_paths: Literal["both", "f", "legacy"] = flag(
        "both", "f: only f/conversation; legacy: only conversation."
    )
    model_cap: int = flag(0, "Answers per model before the cap.")  # 0: no cap (429 after it)
    # seconds until a reached cap clears
    model_cap_clears_in: float = flag(3600.0, type=FiniteFloatRange(min=1.0))
    one_at_a_time: bool = flag(False, "Refuse a second answer in flight.")
