"""The provider contract: one ``Provider`` subclass per upstream owns every fact about it.

In the spirit of llm's ``Model``: a provider is a class whose attributes say what it is and
what it can do, registered once (``registry.PROVIDER_MODULES``). Everything else (the
``archiver backup NAME`` subcommands, the ``batch --provider`` choices, the job kinds, the
gateway's models, ``doctor``, the emulator's routes, the import's detection, how a message
renders, ``reflatten``) is generated from the registry and never names a provider.

A capability the upstream lacks is ``None``: an import-only provider (a data export and no
live API) sets ``export`` and ``renderer`` and nothing else; a send-only one (an API with no
history to back up) sets ``sending``. ``archiver providers`` lists what each can do.

The module a provider is registered by (its ``provider.py``) must stay light: it is imported
whenever the registry is asked about that provider (``archiver --help``, ``archiver
providers``). Capability classes import their heavy modules (aiohttp clients, flatteners,
the backup engine) inside their methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from archiver.errors import ConfigError
from archiver.options import JobValues, Option

if TYPE_CHECKING:  # engine types: imported for annotations only, so provider.py stays light
    import sqlite_utils
    from aiohttp import web

    from archiver.backup.engine import BackupSummary
    from archiver.batch.remote import RemoteBatches
    from archiver.batch.sender import BatchProvider, SenderSetup
    from archiver.doctor import DoctorReport, DoctorRun
    from archiver.flatten.records import FlatConversation
    from archiver.importer.source import ExportFiles, ImportOptions
    from archiver.progress import Progress
    from archiver.query.blocks import Block
    from archiver.summary import Summary


class AccountSettings(Protocol):
    """What every provider's settings tell the engines: which account they sign in to (the
    key of its cool-down and sync state). Credentials stay inside the settings object."""

    @property
    def account(self) -> str: ...


S = TypeVar("S", bound=AccountSettings)


# --- capabilities ------------------------------------------------------------------------------


class Backup(ABC, Generic[S]):
    """``archiver backup NAME DB`` and the ``backup NAME`` job kind.

    ``options`` is the one declaration of both: the command's flags and the job's keys
    (hosts and credentials included; see ``archiver/options.py``)."""

    options: ClassVar[Mapping[str, Option]]
    help: ClassVar[str]  # the subcommand's --help: what it archives, env vars, exit codes

    @abstractmethod
    async def run(
        self,
        db: sqlite_utils.Database,
        settings: S,
        values: Mapping[str, Any],
        progress: Progress | None = None,
    ) -> BackupSummary:
        """Back up the account into ``db`` with ``values`` (every key of ``options``, defaults
        filled in). The stored cool-down was checked before this is called."""


class Sending(ABC, Generic[S]):
    """Prompts sent through the account: ``archiver batch --provider NAME`` and the gateway.

    ``options`` are this provider's own keys of ``archiver batch`` and of the ``batch`` job
    kind (beside every other provider's, so they carry the provider's prefix where they could
    clash: ``copilot_token_file``); the values of all batch keys reach ``open``."""

    options: ClassVar[Mapping[str, Option]] = {}
    # The account's pace when --max-rpm is not given; None: no pace of its own, the sender
    # paces itself from what the server says (an API's rate-limit headers).
    default_rpm: ClassVar[float | None] = 20.0
    model_help: ClassVar[str] = "model"  # what --model (or the CSV's model column) means
    # True: a row's ``system`` instruction is sent (``Thread.system``); a provider that cannot
    # send one refuses a CSV whose ``system`` column is filled rather than drop it.
    takes_system: ClassVar[bool] = False
    # True: a conversation keeps a tree (edits, regenerations; the gateway continues from a
    # node). False: a flat history.
    tree: ClassVar[bool] = False

    def settings_for_batch(self, job: JobValues) -> Any:  # -> S
        """Settings from the ``batch`` job kind's keys (prefixed where ``options`` says)."""
        raise ConfigError("this provider takes no batch settings from a job file")

    def with_state(self, db: sqlite_utils.Database, settings: S) -> S:
        """Settings completed from what the archive keeps for the account (ChatGPT's device
        id); most providers keep nothing."""
        return settings

    @abstractmethod
    def open(self, setup: SenderSetup, settings: S, values: Mapping[str, Any]) -> BatchProvider:
        """The sender over ``setup``'s transport, limiter and retry policy."""

    def open_batches(
        self, setup: SenderSetup, settings: S, values: Mapping[str, Any]
    ) -> RemoteBatches | None:
        """The provider's own batch endpoint (``archiver batch --batch-api``: many rows
        submitted at once, answered later; ``archiver/batch/remote.py``), or None when it has
        none."""
        return None


class Doctor(ABC, Generic[S]):
    """``archiver doctor --provider NAME``: are the credentials and the base URL right?"""

    @abstractmethod
    async def check(self, settings: S, run: DoctorRun) -> DoctorReport: ...


class ExportFormat(ABC):
    """``archiver import DB PATH`` for this provider's data export. The import engine opens
    PATH (a zip, a folder or one file) and asks every registered format whether the files are
    its own; exactly one must say yes, by content, never by file name alone."""

    label: ClassVar[str]  # "a ChatGPT data export": how messages name it

    @abstractmethod
    def detect(self, files: ExportFiles) -> bool:
        """True when ``files`` is this provider's export (cheap: read small files only)."""

    @abstractmethod
    def run(
        self,
        db: sqlite_utils.Database,
        files: ExportFiles,
        options: ImportOptions,
        progress: Progress | None = None,
    ) -> Summary:
        """Import every conversation of ``files``; each one atomic, the rest going on when one
        fails (named in the summary's errors)."""


class Emulator(ABC):
    """The provider's fake upstream in ``archiver emulator`` (``make demo``, end-to-end tests).

    ``default_config()`` is the provider's own knobs (a dataclass instance with its defaults);
    the emulator keeps one per provider (``EmulatorConfig.provider(name)``, set from the
    command line with ``--set NAME.KEY=VALUE``). ``item_routes`` are the fake's routes (as
    aiohttp names them canonically) that fetch one conversation or one file: a backup with
    nothing new must call none of them (the contract tests check it)."""

    item_routes: ClassVar[frozenset[str]] = frozenset()

    def default_config(self) -> Any:
        return None

    @abstractmethod
    def add_routes(self, app: web.Application) -> None: ...

    @abstractmethod
    def environment(self, base_url: str) -> dict[str, str]:
        """The environment variables that point this provider's commands at the emulator
        served at ``base_url`` (``http://127.0.0.1:PORT``), with the credentials its fake
        accepts: what ``make demo`` and the contract tests set."""


@dataclass(frozen=True)
class Gateway:
    """How the gateway's ``/v1/chat/completions`` reaches this provider.

    A model name ``NAME/VARIANT`` (``bing/Creative``) goes to provider NAME with VARIANT;
    ``NAME`` alone gets ``default_variant``. The provider that ``takes_bare_models`` (one:
    ChatGPT) also gets every other model name as its own slug when it is configured.
    ``route_family`` names the older REST routes it serves (seed 000's Bing routes, seed
    004's ChatGPT routes): the first configured provider of a family serves them."""

    variants: tuple[str, ...] = ()  # listed by /v1/models as NAME/VARIANT
    default_variant: str = ""
    takes_bare_models: bool = False
    bare_models_help: str = ""  # the --model help of `archiver serve`, when it takes them
    route_family: str | None = None


class Renderer:
    """How this provider's messages show, as format-neutral blocks (``archiver.query.blocks``)
    for Markdown, HTML and the viewer: read from the message's raw JSON, whose shape is known
    here. The default shows the searchable text, which is right for a plain-text upstream."""

    def blocks(
        self, message: Mapping[str, Any], row: Mapping[str, Any], links: Mapping[str, str]
    ) -> list[Block]:
        from archiver.query.blocks import text_blocks

        return text_blocks(row)


class Reflatten(ABC):
    """``archiver reflatten``: re-derive rows from the raw JSON already in the archive, with
    no download. ``version`` is this provider's flattener version: bump it when a flattener
    change should re-derive rows whose raw JSON is unchanged."""

    version: ClassVar[int] = 1

    @abstractmethod
    def rebuild(
        self, conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
    ) -> FlatConversation:
        """The conversation's rows again, from its stored conversation row and every stored
        message row (all branches, in insertion order). Pure: no I/O."""


# --- the provider ------------------------------------------------------------------------------


class Provider(Generic[S]):
    """One upstream. Subclass it, set the class attributes, and register the subclass in
    ``registry.PROVIDER_MODULES``."""

    name: ClassVar[str]  # the provider column's value, the subcommand, the --provider choice
    title: ClassVar[str]  # how people call it: "ChatGPT", "Le Chat"
    summary: ClassVar[str]  # one line for `archiver providers` and the README
    # The credential: its option stem (``token`` gives ``token_file`` and ``token_env``) and the
    # environment variable the command line reads it from. None: nothing to sign in to.
    secret: ClassVar[str | None] = None
    secret_env: ClassVar[str | None] = None
    # A conversation's address in the upstream's web app, ``{id}`` filled in (None: none).
    conversation_web_url: ClassVar[str | None] = None

    backup: Backup[S] | None = None
    sending: Sending[S] | None = None
    export: ExportFormat | None = None
    doctor: Doctor[S] | None = None
    emulator: Emulator | None = None
    gateway: Gateway | None = None
    renderer: Renderer = Renderer()
    reflatten: Reflatten | None = None

    def settings_from_env(self, values: Mapping[str, Any]) -> S:
        """Settings on the command line: the credential from ``secret_env`` or the file an
        option names (``values`` are the command's option values, ``token_file`` ...), hosts
        from the provider's environment variables."""
        raise ConfigError(f"{self.title} has no account to sign in to")

    def settings_for_job(self, job: JobValues) -> S:
        """Settings from a job file's keys (``token_env`` / ``token_file``, ``base_url``)."""
        raise ConfigError(f"{self.title} has no account to sign in to")

    def credential_options(self) -> dict[str, Option]:
        """The command-line options that point at a credential file (``--token-file``,
        ``--cookie-file``): what ``doctor`` and ``serve`` offer for this provider."""
        found: dict[str, Option] = {}
        for capability in (self.backup, self.sending):
            if capability is not None:
                found.update(
                    (key, option)
                    for key, option in capability.options.items()
                    if key.endswith("_file") and option.cli
                )
        return found

    def conversation_url(self, conversation_id: str) -> str | None:
        """Where the conversation lives upstream, for people (the vault's ``url``)."""
        if self.conversation_web_url is None:
            return None
        return self.conversation_web_url.format(id=conversation_id)

    def capabilities(self) -> dict[str, bool]:
        """What ``archiver providers`` lists, in a fixed order."""
        return {
            "backup": self.backup is not None,
            "import": self.export is not None,
            "send": self.sending is not None,
            "gateway": self.gateway is not None and self.sending is not None,
            "doctor": self.doctor is not None,
            "emulator": self.emulator is not None,
            "reflatten": self.reflatten is not None,
        }

    @property
    def backup_kind(self) -> str:
        return f"backup {self.name}"
