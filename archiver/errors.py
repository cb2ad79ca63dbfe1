"""The exception hierarchy and the exit codes the CLI maps them to.

Expected failures (a refused token, a challenge page, a malformed file) are ``ArchiverError``
subclasses: the CLI prints their message and exits with their code, never a traceback. Messages
must never contain a secret: build them from status codes and ids, not from request headers.
"""

from __future__ import annotations

from datetime import UTC, datetime

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2  # usage, authentication or configuration problem
EXIT_PARTIAL = 3  # the run finished but some items failed
EXIT_LOCKED = 75  # another run holds the database lock (EX_TEMPFAIL)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


class ArchiverError(Exception):
    """An expected failure with a message meant for the user."""

    exit_code = EXIT_FAILED


class ConfigError(ArchiverError):
    """Bad configuration, a missing secret or a bad command-line value."""

    exit_code = EXIT_CONFIG


class InputError(ArchiverError):
    """A malformed input file (CSV, export, job file)."""

    exit_code = EXIT_CONFIG


class LockedError(ArchiverError):
    exit_code = EXIT_LOCKED


class UpstreamError(ArchiverError):
    """An upstream answered with an error. ``status`` is the HTTP status, if any."""

    # The machine-readable reason of an error body (``detail.code``, e.g. "token_expired").
    code: str | None = None
    # The error body's short ``detail`` text, when it had one (never a secret: server text).
    detail: str | None = None

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None):
        super().__init__(message)
        self.status = status
        self.url = url


class AuthError(UpstreamError):
    """The credentials were refused: retrying cannot help, the whole run stops."""

    exit_code = EXIT_CONFIG


class ChallengeError(UpstreamError):
    """An anti-bot challenge page (HTML) came back instead of JSON: stop calling."""

    exit_code = EXIT_PARTIAL


class WrongEndpointError(UpstreamError):
    """The server answered, but not as the API would (a web page, a 404 on the list): the base
    URL is wrong. A configuration problem, not a challenge."""

    exit_code = EXIT_CONFIG


class NotFoundError(UpstreamError):
    """404: the item is gone upstream."""


class BadRequestError(UpstreamError):
    """400/422: our request was wrong; retrying will not help."""


class TransientError(UpstreamError):
    """5xx, timeouts, dropped connections, broken streams: worth retrying."""


class UnreachableError(TransientError):
    """No connection to the upstream at all (refused, no route, DNS): retried like any
    transient failure, but once the retries are spent every other request would fail the same
    way, so a batch stops instead of burning every row."""


class HostUnreachable(UpstreamError):
    """A host that failed to connect several times in a row is not asked again this run
    (``transport.http.HostBreaker``): its requests fail at once, retried on the next run."""


class RateLimitExceeded(TransientError):
    """429 or an equivalent throttle. ``retry_after`` is seconds to wait, if the server said.
    Retried under a budget of its own; once that is spent the account is saturated, and the
    whole run stops as partial (calling on would only hammer it)."""

    exit_code = EXIT_PARTIAL

    def __init__(
        self,
        message: str = "rate limited",
        *,
        retry_after: float | None = None,
        status: int | None = 429,
        url: str | None = None,
    ):
        super().__init__(message, status=status, url=url)
        self.retry_after = retry_after


class CapReached(RateLimitExceeded):
    """A cap that clears at a known time (ChatGPT's ``model_cap_exceeded`` with ``clears_in``):
    not a sign of going too fast, so the account pauses until then without slowing down, or
    the run stops when that is beyond ``--max-wait``."""


class QuotaExhausted(UpstreamError):
    """A cap that will not lift within this run (Bing's daily ``Throttled``, a CAPTCHA):
    stop calling, keep what was archived."""

    exit_code = EXIT_PARTIAL


class ThrottledUntil(ArchiverError):
    """The upstream asked us to wait longer than a single wait may last (``max_wait``), or
    announced a cap lifting at a known time: stop the run at once (holding the lock for
    hours helps nobody), remember the cool-down, and say when to come back."""

    exit_code = EXIT_PARTIAL

    def __init__(self, until: datetime, reason: str, *, sending_only: bool = False):
        # sending_only: a cap on sending prompts (a model cap), which reading the archive
        # (backup) does not share: remembered apart from the account's rate-limit cool-down.
        self.sending_only = sending_only
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        self.until = until.astimezone(UTC)
        self.reason = reason
        when = self.until.strftime("%Y-%m-%d %H:%M:%S UTC")
        super().__init__(f"{reason}; stopped: come back after {when}")
