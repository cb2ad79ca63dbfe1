"""ChatGPT's options, declared once: ``archiver backup chatgpt``'s flags and the ``backup
chatgpt`` job kind's keys; its keys of ``archiver batch`` and the ``batch`` job kind; the flags
of its account tools (``shared``, ``titles``) and the ``request-export`` job kind's keys. Light
on purpose (no HTTP client): the registry imports it to list and generate commands."""

from __future__ import annotations

from dataclasses import replace

from archiver.backup.options import common_backup_options, file_options
from archiver.config import Credential
from archiver.options import (
    Option,
    boolean,
    credential,
    env_name,
    http_url,
    integer,
    number,
    one_of,
    path,
    positive_number,
    text,
)

PROVIDER = "chatgpt"
# Bump when a flattener change should re-derive rows whose raw JSON is unchanged (reflatten).
FLATTENER_VERSION = 1
DEFAULT_BASE_URL = "https://chatgpt.com/backend-api"
DEFAULT_MAX_RPM = 30.0  # requests per minute: the service throttles hard
TOKEN_ENV = "CHATGPT_ACCESS_TOKEN"
TOKEN = Credential(TOKEN_ENV, "ChatGPT access token")
SESSION_ENV = "CHATGPT_SESSION_TOKEN"
BASE_URL_ENV = "CHATGPT_BASE_URL"
ROOT_PARENT = "client-created-root"  # parent_message_id of a conversation's first prompt
FIRST_PARENTS = (ROOT_PARENT, "uuid")
PROOF_FORMS = ("sha3", "fnv")


def sign_in_options() -> dict[str, Option]:
    """How every ChatGPT command and job kind signs in: the access token, or the browser's
    session cookie."""
    return {
        **credential("token", TOKEN_ENV, "access token"),
        **credential("session", SESSION_ENV, "browser's session cookie"),
        # No default name: a job signs in with the session cookie only when it says so (and
        # `archiver schedule` then lists the variable it needs).
        "session_env": Option(
            env_name, None, "environment variable holding the session cookie", cli=False
        ),
    }


def account_options() -> dict[str, Option]:
    """Where and as whom: the base URL, the team workspace and the sign-in."""
    return {
        "base_url": Option(
            http_url, DEFAULT_BASE_URL, "backend-api base URL (a proxy, the emulator)", cli=False
        ),
        "account_id": Option(text, None, "team workspace id (Chatgpt-Account-Id)", cli=False),
        **sign_in_options(),
    }


BACKUP_OPTIONS: dict[str, Option] = {
    **account_options(),
    "user_agent": Option(
        text, None, "The browser's User-Agent (else CHATGPT_USER_AGENT, else a current Chrome)."
    ),
    "transport": Option(
        text, None, "aiohttp (default) or curl_cffi (pip install 'archiver[impersonate]')."
    ),
    **file_options(),
    "no_archived": Option(boolean, False, "Skip the list of archived chats."),
    "no_snapshot": Option(
        boolean, False, "Do not record plan, models and limits first (saves 4 requests per run)."
    ),
    **common_backup_options(default_rpm=DEFAULT_MAX_RPM),
    "full_every_days": Option(
        integer(1), None, "Walk the whole list when the last full walk is this many days old."
    ),
}

# ChatGPT's keys of `archiver batch` (beside every other provider's: the send options say
# "ChatGPT:" in their help) and of the gateway.
SEND_OPTIONS: dict[str, Option] = {
    "base_url": Option(http_url, DEFAULT_BASE_URL, "ChatGPT backend-api base URL", cli=False),
    "account_id": Option(text, None, "ChatGPT team workspace id", cli=False),
    **credential(TOKEN.stem, TOKEN_ENV, TOKEN.what),
    "conversation_path": Option(
        text,
        "f/conversation",
        "ChatGPT: the path prompts are posted to (today's web app's; 'conversation' is used "
        "when it does not exist).",
    ),
    "proof_form": Option(
        one_of(*PROOF_FORMS),
        PROOF_FORMS[0],
        "ChatGPT: the proof-of-work hash sent first (SHA3-512 or the newer FNV-1a); after an "
        "'Unusual activity' refusal the other one is tried.",
    ),
    "history_disabled": Option(boolean, False, "ChatGPT: ask not to keep the chats."),
    "autocontinue": Option(boolean, False, "ChatGPT: continue answers cut at max_tokens."),
    "first_parent": Option(
        one_of(*FIRST_PARENTS),
        FIRST_PARENTS[0],
        "ChatGPT: parent_message_id of a conversation's first prompt.",
    ),
}


# The account tools' flags (``archiver shared``, ``titles``): the command line's sign-in.
TOOL_SIGN_IN_OPTIONS: dict[str, Option] = {
    "max_rpm": Option(number(0.1), 30, "Requests per minute at most."),
    "token_file": Option(
        path, None, "Read the secret from this file (must be mode 0600) instead of the environment."
    ),
    "session_file": Option(
        path,
        None,
        "Sign in with the browser's session cookie from this 0600 file (else "
        "CHATGPT_SESSION_TOKEN, else the access token).",
    ),
}

SHARED_OPTIONS: dict[str, Option] = {
    "refresh": Option(boolean, False, "Fetch the list from ChatGPT first (needs the token)."),
    "include_deleted": Option(boolean, False, "Also list links no longer shared."),
    **TOOL_SIGN_IN_OPTIONS,
}

TITLES_OPTIONS: dict[str, Option] = {
    "all_conversations": Option(
        boolean,
        False,
        "Ask for every conversation, not only untitled ones (the archive takes the title "
        "upstream has; upstream never replaces a real title).",
        flag="--all",
    ),
    "dry_run": Option(boolean, False, "Only list what would be asked; send nothing."),
    **TOOL_SIGN_IN_OPTIONS,
}


def _request_export_options() -> dict[str, Option]:
    """The ``request-export`` job kind's keys; the command line offers the two sign-in files
    only (with the help texts of the other tools), and reads the rest from the environment."""
    options: dict[str, Option] = {
        "base_url": Option(http_url, DEFAULT_BASE_URL, "backend-api base URL", cli=False),
        "account_id": Option(text, None, "team workspace id (Chatgpt-Account-Id)", cli=False),
        **sign_in_options(),
        "max_rpm": Option(
            positive_number, DEFAULT_MAX_RPM, "requests per minute at most", cli=False
        ),
    }
    for key in ("token_file", "session_file"):
        options[key] = replace(options[key], flag_help=TOOL_SIGN_IN_OPTIONS[key].help)
    return options


REQUEST_EXPORT_OPTIONS = _request_export_options()
