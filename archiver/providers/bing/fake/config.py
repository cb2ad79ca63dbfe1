"""Bing's knobs in the emulator: data size, the accepted cookie, the signature style, times in
the chat list, the caps and the CAPTCHA (docs/protocol/bing.md). Each is also a flag
(``archiver emulator --bing-chats 5``), or ``--set bing.<knob>=<value>``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archiver.fakes.knobs import flag


@dataclass
class BingFakeConfig:
    chats: int = flag(20)  # saved chats generated
    cookie: str = flag("emulator-cookie", "Accepted _U cookie.")
    signature_style: Literal["body", "header"] = flag("header")
    # odd chats list epoch seconds instead of milliseconds
    times_in_seconds: bool = flag(False, "Some chats list epoch seconds.")
    conversation_cap: int = flag(30)  # user messages per conversation
    daily_cap: int = flag(300)  # user messages per server run
    # answer every ChatHub prompt with CaptchaChallenge
    captcha: bool = flag(False, "Answer every ChatHub prompt with CaptchaChallenge.")
