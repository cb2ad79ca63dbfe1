"""Copilot's knobs in the emulator (docs/protocol/copilot.md: several points are uncertain,
each variant a knob). Those declared with ``flag`` are also flags (``archiver emulator
--copilot-chats 5``); every knob is ``--set copilot.<knob>=<value>``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archiver.fakes.knobs import flag


@dataclass
class CopilotFakeConfig:
    chats: int = flag(0)  # conversations generated
    token: str = flag("emulator-copilot-token", "Accepted Copilot token.")
    identity_type: str | None = flag(None, "Require this x-useridentitytype.")
    page_size: int = 8  # conversations per list page
    history_page_size: int = 6  # messages per history page
    repeat_last_cursor: bool = False  # the last page repeats a cursor instead of null
    double_connected: bool = True  # the socket says "connected" twice
    # Asked once per socket, after its first "send".
    challenge: Literal["none", "empty", "hashcash", "cloudflare"] = flag(
        "none", "The challenge each Copilot chat socket asks once."
    )
    hashcash_bits: int = flag(12)
    # True: the prompt sent before the challenge is dropped and must be sent again. False: the
    # server says "received" first and answers once the challenge is met.
    challenge_resend: bool = True
    # answer every prompt with an error event of this code
    error: str | None = flag(None, "Answer every Copilot prompt with this error.")
    image_host: str | None = None  # where image URLs point (default: the emulator)
