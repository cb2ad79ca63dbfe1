"""The emulator's knobs: data size, credentials, Bing flavour and fault injection."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal


@dataclass
class EmulatorConfig:
    # Data: everything served is a pure function of these.
    seed: int = 0
    conversations: int = 200
    mean_nodes: int = 12
    bing_chats: int = 20

    # Credentials the emulator accepts.
    token: str = "emulator-token"
    account_id: str | None = None  # when set, Chatgpt-Account-Id must match
    bing_cookie: str = "emulator-cookie"  # the expected value of the _U cookie

    # Bing flavour.
    bing_signature_style: Literal["body", "header"] = "header"
    bing_times_in_seconds: bool = False  # odd chats list epoch seconds instead of milliseconds
    bing_conversation_cap: int = 30  # user messages per conversation
    bing_daily_cap: int = 300  # user messages per server run
    bing_captcha: bool = False  # answer every ChatHub prompt with CaptchaChallenge

    # Copilot flavour (docs/protocol/copilot.md: several points uncertain, each variant a knob).
    copilot_chats: int = 0
    copilot_token: str = "emulator-copilot-token"
    copilot_identity_type: str | None = None  # when set, x-useridentitytype must match
    copilot_page_size: int = 8  # conversations per list page
    copilot_history_page_size: int = 6  # messages per history page
    copilot_repeat_last_cursor: bool = False  # the last page repeats a cursor instead of null
    copilot_double_connected: bool = True  # the socket says "connected" twice
    # Asked once per socket, after its first "send": none | empty | hashcash | cloudflare.
    copilot_challenge: Literal["none", "empty", "hashcash", "cloudflare"] = "none"
    copilot_hashcash_bits: int = 12
    # True: the prompt sent before the challenge is dropped and must be sent again. False: the
    # server says "received" first and answers once the challenge is met.
    copilot_challenge_resend: bool = True
    copilot_error: str | None = None  # answer every prompt with an error event of this code
    copilot_image_host: str | None = None  # where image URLs point (default: the emulator)

    # Faults (upstream routes only; never /_emulator/).
    latency_ms: int = 0
    fail_rate: float = 0.0
    rate_limit: int = 0  # requests per minute per credential; 0 = unlimited
    rate_burst: int | None = None  # bucket capacity; default max(1, rate_limit // 60)
    retry_after: bool = True  # send Retry-After with 429
    challenge_rate: float = 0.0
    drop_rate: float = 0.0
    stream_delay_ms: int = 0  # pause between streamed frames

    # ChatGPT as a 2026 account sees it (docs/protocol/chatgpt.md).
    session_cookie: str = "emulator-session"  # __Secure-next-auth.session-token that signs in
    token_lifetime_s: float = 10 * 86400  # exp of the access tokens /api/auth/session issues
    token_uses: int = 0  # each issued access token serves this many requests, then expires
    rotate_session_cookie: bool = True  # answer /api/auth/session with a renewed Set-Cookie
    challenge_script_agents: bool = False  # Cloudflare page for a User-Agent without Mozilla/
    projects: int = 0  # Projects ("snorlax" gizmos), each with its own conversations
    project_conversations: int = 3  # conversations per project (not in the main list)
    sidebar_page_size: int = 5  # projects per sidebar page, whatever `limit` says
    project_page_size: int = 2  # conversations per project page (small: paging gets exercised)
    cursor_form: Literal["string", "number"] = "string"  # 2026 opaque strings or older numbers
    repeat_cursor: bool = False  # project lists answer the same cursor forever (a server bug)
    vanishing_projects: int = 0  # the first N projects are listed but 404 on their chats
    gone_file_rate: float = 0.0  # share of file ids that answer 404 File not found
    file_stream_denied: bool = False  # estuary/content answers 403 File stream access denied
    file_url_base: str | None = None  # download_url on another host (signed, no bearer)
    file_size_bytes: int | None = None  # every file this big (default: 2-32 KB by id)

    # Sending as a 2026 account (docs/protocol/chatgpt.md, "Sending a prompt, 2025-2026").
    pow_difficulty: str = "0fffff"  # the proof of work asked for; "" = none required
    pow_forms: Literal["both", "sha3", "fnv"] = "both"  # proof hash forms accepted
    sentinel_form: Literal["plain", "prepare"] = "plain"  # prepare: only prepare/finalize exist
    turnstile: Literal["off", "required", "insist"] = "off"  # insist: 403 without a token
    unusual_activity: int = 0  # the next N sends to f/conversation answer 403 Unusual activity
    send_paths: Literal["both", "f", "legacy"] = "both"  # which of f/conversation, conversation
    model_cap: int = 0  # answers per model before 429 model_cap_exceeded; 0 = no cap
    model_cap_clears_in: float = 3600.0  # seconds until a reached cap clears
    one_at_a_time: bool = False  # a second answer in flight: "Only one message at a time"
    drop_sends: int = 0  # cut the next N answer streams (any provider) part-way, answer stored

    host: str = "127.0.0.1"
    port: int = 0  # 0 picks a free port

    # The knobs of providers whose emulator lives in their own package (``Provider.emulator``):
    # name -> that provider's config value (its ``default_config()`` when not given).
    provider_configs: dict[str, Any] = field(default_factory=dict)

    def provider(self, name: str) -> Any:
        """Provider ``name``'s own emulator config (the app fills in each provider's defaults
        where none was given: ``archiver/fakes/app.py``)."""
        return self.provider_configs.get(name)

    def set_provider_value(self, name: str, key: str, text: str) -> None:
        """``--set NAME.KEY=VALUE``: one knob of a provider's own config, parsed by the type of
        its default (a whole number, a number, true/false, or text)."""
        config = self.provider(name)
        known = {f.name: f for f in fields(config)} if config is not None else {}
        if key not in known:
            raise ValueError(f"{name} has no emulator setting {key!r}")
        current = getattr(config, key)
        value: Any = text
        if isinstance(current, bool):
            if text.lower() not in ("true", "false"):
                raise ValueError(f"{name}.{key} must be true or false")
            value = text.lower() == "true"
        elif isinstance(current, int):
            value = int(text)
        elif isinstance(current, float):
            value = float(text)
        self.provider_configs[name] = replace(config, **{key: value})

    @property
    def bucket_capacity(self) -> int:
        return self.rate_burst if self.rate_burst is not None else max(1, self.rate_limit // 60)
