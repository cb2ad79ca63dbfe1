"""The one declaration of ``archiver batch``'s options, which is also the ``batch`` job kind's
keys: the click options and the job-file parser are both generated from it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.batch.runner import BatchOptions
from archiver.batch.sender import ProviderOptions
from archiver.jobs.cooldown import DEFAULT_MAX_COOLDOWN_WAIT, cooldown_options
from archiver.options import (
    Option,
    boolean,
    integer,
    non_negative_number,
    one_of,
    path,
    positive_number,
    text,
)
from archiver.providers import registry

FIRST_PARENTS = ("client-created-root", "uuid")
# A batch waits out a short model cap rather than stopping: a cap that clears within ten
# minutes costs less than a run that stops and waits for the next cron slot.
BATCH_MAX_WAIT = 600.0

BATCH_OPTIONS: dict[str, Option] = {
    "csv": Option(
        path, None, "the prompts CSV (a job file's key; the command's argument)", cli=False
    ),
    "provider": Option(one_of(*registry.names()), "chatgpt", "The chat account to send through."),
    "template": Option(
        text, None, "Build each prompt from columns, e.g. 'Summarise {title}: {body}'."
    ),
    "model": Option(
        text,
        None,
        "For rows without a model column: "
        + "; ".join(f"{p.name}: {p.model_help}" for p in registry.all_providers())
        + ".",
    ),
    "max_rpm": Option(
        positive_number,
        None,
        "Requests per minute at most, for the whole account [default: the provider's pace: "
        + ", ".join(f"{p.name} {p.default_batch_rpm:g}" for p in registry.all_providers())
        + "].",
    ),
    "burst": Option(
        integer(1, 1000),
        1,
        "Requests that may go at once after a quiet spell (never beyond --max-rpm on average).",
    ),
    "concurrency": Option(integer(1, 64), 2, "Threads (conversations) in flight at once."),
    "max_attempts": Option(
        integer(1, 100),
        5,
        "Tries per prompt for transient failures (5xx, timeouts, broken streams).",
    ),
    "retry_failed": Option(boolean, False, "Also send again the rows that failed before."),
    **cooldown_options(),
    "cleanup": Option(boolean, False, "Hide/delete the conversations upstream afterwards."),
    "conversation_path": Option(
        text,
        "f/conversation",
        "ChatGPT: the path prompts are posted to (today's web app's; 'conversation' is used "
        "when it does not exist).",
    ),
    "proof_form": Option(
        one_of("sha3", "fnv"),
        "sha3",
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
    "no_archive": Option(boolean, False, "Do not copy the conversations into the archive."),
    "timeout": Option(positive_number, 300.0, "Seconds to wait for an answer."),
    "max_wait": Option(
        non_negative_number,
        BATCH_MAX_WAIT,
        "Seconds one throttle pause (a 429, a model cap) may last; beyond it stop (exit 3) and "
        "remember the cool-down.",
    ),
    # Each provider's own keys (hosts, credentials), named so that they never clash.
    **{
        key: option
        for provider in registry.all_providers()
        for key, option in provider.batch_options.items()
    },
}


def batch_options(values: Mapping[str, Any]) -> BatchOptions:
    """BatchOptions from the values of BATCH_OPTIONS (command line or job file)."""
    provider = registry.get(values["provider"])
    return BatchOptions(
        provider=provider.name,
        model=values["model"],
        template=values["template"],
        max_rpm=values["max_rpm"] or provider.default_batch_rpm,
        burst=values["burst"],
        concurrency=values["concurrency"],
        max_attempts=values["max_attempts"],
        retry_failed=values["retry_failed"],
        cleanup=values["cleanup"],
        archive=not values["no_archive"],
        max_wait=values.get("max_wait", BATCH_MAX_WAIT),
        ignore_cooldown=values.get("ignore_cooldown", False),
        max_cooldown_wait=values.get("max_cooldown_wait", DEFAULT_MAX_COOLDOWN_WAIT),
        provider_options=ProviderOptions(
            conversation_path=values["conversation_path"],
            proof_form=values.get("proof_form", "sha3"),
            history_disabled=values["history_disabled"],
            autocontinue=values["autocontinue"],
            first_parent=values["first_parent"],
            timeout_seconds=float(values["timeout"]),
        ),
    )


def secret_file(provider: registry.Provider, values: Mapping[str, Any]) -> str | None:
    """The credential file the command line named for this provider: its own key
    (``copilot_token_file``) or the shared one (``token_file``, ``cookie_file``)."""
    own = [key for key in provider.batch_options if key.endswith("_file")]
    for key in (*own, f"{provider.secret}_file"):
        if values.get(key):
            return str(values[key])
    return None
