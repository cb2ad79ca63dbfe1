"""The provider contract: one ``Provider`` subclass per upstream owns every fact about it.

In the spirit of llm's ``Model``: a provider is a class whose attributes say what it is and
what it can do, registered once (``registry.PROVIDER_MODULES``). Everything else (the
``archiver backup NAME`` subcommands, the ``batch --provider`` choices, the job kinds, the
gateway's models, ``doctor``, the emulator's routes, the import's detection, how a message
renders, ``reflatten``) is generated from the registry and never names a provider.

A capability the upstream lacks is ``None``: an import-only provider (a data export and no
live API) sets ``export`` (and ``reflatten``) and nothing else; a send-only one (an API with
no history to back up) sets ``sending``. ``archiver providers`` lists what each can do. A
provider is named by its package (``providers/<name>/``), never by a declaration; its
renderer (its ``render.py``) and its part of ``make demo`` (its ``demo.py``) are defaults,
declared only where they differ (``DEFAULT_CAPABILITIES``).

Capabilities are data (``Backup(options=..., help=...)``). Their work lives in modules of the
provider's own package with conventional names (``backup.py``'s ``back_up``, ``export.py``'s
``detect`` and ``run_import``, ...: ``archiver/providers/modules.py``), imported when the
capability is first used. So the module a provider is registered by (its ``provider.py``)
stays light: it is imported whenever the registry is asked about that provider (``archiver
--help``, ``archiver providers``, ``archiver import``), and loads no HTTP client.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from archiver.errors import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PARTIAL,
    ConfigError,
)
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
    from archiver.providers.modules import (
        BackupModule,
        BatchesModule,
        DemoModule,
        DemoRun,
        DoctorModule,
        EmulatorModule,
        ExportModule,
        OpenerModule,
        ReflattenModule,
        RenderModule,
        SenderModule,
        SettingsModule,
        StateModule,
        ToolCall,
        ToolsModule,
    )
    from archiver.query.blocks import Block
    from archiver.summary import Summary


# Every exit code a backup can end with (docs/jobs.md lists them for jobs too).
BACKUP_EXIT_CODES = (
    f"Exit codes: {EXIT_OK} ok, {EXIT_FAILED} failed, {EXIT_CONFIG} usage/auth/config (a refused "
    f"credential: copy a fresh one), {EXIT_PARTIAL} partial (some conversations or files failed, "
    "or a throttle, a challenge, a consent or sign-in page stopped the run: what was archived "
    f"is kept), {EXIT_LOCKED} DB in use by another run."
)


# --- capabilities ------------------------------------------------------------------------------


@dataclass(kw_only=True)
class Capability:
    """What a provider can do, declared as data: its work lives in ``module``, a module of the
    provider's own package (``archiver/providers/modules.py`` says what each offers), imported
    on first use. The provider binds its capabilities to its package when its class is made
    (``Provider.__init_subclass__``)."""

    default_module: ClassVar[str]
    module: str = ""  # the module's name in the provider's package; "": ``default_module``
    _package: str = field(default="", init=False, repr=False, compare=False)
    _loaded: Any = field(default=None, init=False, repr=False, compare=False)

    def bind(self, package: str) -> None:
        if self._package and self._package != package:
            raise TypeError(f"{type(self).__name__} already belongs to {self._package}")
        self._package = package

    @property
    def module_path(self) -> str:
        if not self._package:
            raise TypeError(f"{type(self).__name__} is not bound to a provider")
        return f"{self._package}.{self.module or self.default_module}"

    def implementation(self) -> Any:
        """The module doing the work (imported once)."""
        if self._loaded is None:
            self._loaded = importlib.import_module(self.module_path)
        return self._loaded


@dataclass(kw_only=True)
class Backup(Capability):
    """``archiver backup NAME DB`` and the ``backup NAME`` job kind.

    ``options`` is the one declaration of both: the command's flags and the job's keys
    (hosts and credentials included; see ``archiver/options.py``)."""

    default_module: ClassVar[str] = "backup"
    options: Mapping[str, Option]
    help: str  # the subcommand's --help: what it archives, where credential and hosts come from

    @property
    def command_help(self) -> str:
        """``help``, then the exit codes: the backup engine's, the same for every provider."""
        return f"{inspect.cleandoc(self.help)}\n\n{BACKUP_EXIT_CODES}"

    async def run(
        self,
        db: sqlite_utils.Database,
        settings: Any,
        values: Mapping[str, Any],
        progress: Progress | None = None,
    ) -> BackupSummary:
        """Back up the account into ``db`` with ``values`` (every key of ``options``, defaults
        filled in). The stored cool-down was checked before this is called."""
        module: BackupModule = self.implementation()
        return await module.back_up(db, settings, values, progress)


@dataclass(kw_only=True)
class Sending(Capability):
    """Prompts sent through the account: ``archiver batch --provider NAME`` and the gateway.

    ``options`` are this provider's own keys of ``archiver batch`` and of the ``batch`` job
    kind (beside every other provider's, so they carry ``key_prefix`` where they could clash:
    ``copilot_token_file``); the values of all batch keys reach ``open``."""

    default_module: ClassVar[str] = "sender"
    options: Mapping[str, Option] = field(default_factory=dict)
    # The prefix of those of its batch keys that would clash with another provider's
    # (``copilot_`` of ``copilot_token_file``). A batch job's settings are the account's
    # (``Provider.settings_for_batch``), read from these keys with the prefix taken off.
    key_prefix: str = ""
    # The account's pace when --max-rpm is not given; None: no pace of its own, the sender
    # paces itself from what the server says (an API's rate-limit headers).
    default_rpm: float | None = 20.0
    model_help: str = "model"  # what --model (or the CSV's model column) means
    # True: a row's ``system`` instruction is sent (``Thread.system``); a provider that cannot
    # send one refuses a CSV whose ``system`` column is filled rather than drop it.
    takes_system: bool = False
    # True: a conversation keeps a tree (edits, regenerations; the gateway continues from a
    # node). False: a flat history.
    tree: bool = False

    def with_state(self, db: sqlite_utils.Database, settings: Any) -> Any:
        """Settings completed from what the archive keeps for the account (ChatGPT's device
        id); most providers keep nothing (their module has no ``with_state``)."""
        implementation = self.implementation()
        if not hasattr(implementation, "with_state"):
            return settings
        module: StateModule = implementation
        return module.with_state(db, settings)

    def open(self, setup: SenderSetup, settings: Any, values: Mapping[str, Any]) -> BatchProvider:
        """The sender over ``setup``'s transport, limiter and retry policy: the module's
        ``open_sender`` when it reads the values, else its class ``Sender(setup, settings)``."""
        implementation = self.implementation()
        if hasattr(implementation, "open_sender"):
            opener: OpenerModule = implementation
            return opener.open_sender(setup, settings, values)
        module: SenderModule = implementation
        return module.Sender(setup, settings)

    def open_batches(
        self, setup: SenderSetup, settings: Any, values: Mapping[str, Any]
    ) -> RemoteBatches | None:
        """The provider's own batch endpoint, or None when it has none (its module has no
        ``open_batches``, or the server offers none)."""
        implementation = self.implementation()
        if not hasattr(implementation, "open_batches"):
            return None
        module: BatchesModule = implementation
        return module.open_batches(setup, settings, values)


@dataclass(kw_only=True)
class Doctor(Capability):
    """``archiver doctor --provider NAME``: are the credentials and the base URL right?"""

    default_module: ClassVar[str] = "doctor"

    async def check(self, settings: Any, run: DoctorRun) -> DoctorReport:
        module: DoctorModule = self.implementation()
        return await module.check(settings, run)


@dataclass(kw_only=True)
class ExportFormat(Capability):
    """``archiver import DB PATH`` for this provider's data export. The import engine opens
    PATH (a zip, a folder or one file) and asks every registered format whether the files are
    its own; exactly one must say yes, by content, never by file name alone."""

    default_module: ClassVar[str] = "export"
    label: str  # "a ChatGPT data export": how messages name it

    def detect(self, files: ExportFiles) -> bool:
        """True when ``files`` is this provider's export (cheap: read small files only)."""
        module: ExportModule = self.implementation()
        return module.detect(files)

    def run(
        self,
        db: sqlite_utils.Database,
        files: ExportFiles,
        options: ImportOptions,
        progress: Progress | None = None,
    ) -> Summary:
        """Import every conversation of ``files``; each one atomic, the rest going on when one
        fails (named in the summary's errors)."""
        module: ExportModule = self.implementation()
        return module.run_import(db, files, options, progress)


@dataclass(kw_only=True)
class Emulator(Capability):
    """The provider's fake upstream in ``archiver emulator`` (``make demo``, end-to-end tests).

    ``default_config()`` is the provider's own knobs (a dataclass instance with its defaults);
    the emulator keeps one per provider (``EmulatorConfig.provider(name)``, set from the
    command line with ``--set NAME.KEY=VALUE``)."""

    default_module: ClassVar[str] = "emulator"

    def _fake(self) -> EmulatorModule:
        module: EmulatorModule = self.implementation()
        return module

    @property
    def item_routes(self) -> frozenset[str]:
        """The fake's routes (as aiohttp names them canonically) that fetch one conversation
        or one file: a backup with nothing new must call none of them (a contract test)."""
        return self._fake().ITEM_ROUTES

    def default_config(self) -> Any:
        return self._fake().default_config()

    def add_routes(self, app: web.Application) -> None:
        self._fake().add_routes(app)

    def environment(self, base_url: str) -> dict[str, str]:
        """The environment variables that point this provider's commands at the emulator
        served at ``base_url`` (``http://127.0.0.1:PORT``), with the credentials its fake
        accepts: what ``make demo`` and the contract tests set."""
        return self._fake().environment(base_url)


@dataclass(kw_only=True)
class Demo(Capability):
    """The provider's part of ``make demo`` (``scripts/demo.py`` runs every provider's, in
    registry order, against the bundled emulator): its emulator knobs, its steps (backups, a
    batch, an export written and imported) and the queries on demo.db worth showing."""

    default_module: ClassVar[str] = "demo"

    def _module(self) -> DemoModule:
        module: DemoModule = self.implementation()
        return module

    def emulator_knobs(self) -> Mapping[str, str | int | float | bool]:
        return self._module().EMULATOR_KNOBS

    def steps(self, run: DemoRun) -> None:
        self._module().steps(run)

    def queries(self) -> Sequence[tuple[str, str]]:
        return self._module().QUERIES


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


@dataclass(kw_only=True)
class Renderer(Capability):
    """How this provider's messages show, as format-neutral blocks (``archiver.query.blocks``)
    for Markdown, HTML and the viewer: read from the message's raw JSON, whose shape its
    module knows. ``plain`` shows the searchable text, right for a plain-text upstream and for
    rows of a provider no longer registered."""

    default_module: ClassVar[str] = "render"
    plain: bool = False
    # A conversation's address in the upstream's web app, ``{id}`` filled in (None: none).
    web_url: str | None = None

    def conversation_url(self, conversation_id: str) -> str | None:
        return None if self.web_url is None else self.web_url.format(id=conversation_id)

    def blocks(
        self, message: Mapping[str, Any], row: Mapping[str, Any], links: Mapping[str, str]
    ) -> list[Block]:
        if self.plain:
            from archiver.query.blocks import text_blocks

            return text_blocks(row)
        module: RenderModule = self.implementation()
        return module.blocks(message, row, links)


@dataclass(kw_only=True)
class Reflatten(Capability):
    """``archiver reflatten``: re-derive rows from the raw JSON already in the archive, with
    no download. ``version`` is this provider's flattener version: bump it when a flattener
    change should re-derive rows whose raw JSON is unchanged."""

    default_module: ClassVar[str] = "reflatten"
    version: int

    def rebuild(
        self, conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
    ) -> FlatConversation:
        """The conversation's rows again, from its stored conversation row and every stored
        message row (all branches, in insertion order). Pure: no I/O."""
        module: ReflattenModule = self.implementation()
        return module.rebuild(conversation, messages)


@dataclass(kw_only=True)
class Account(Capability):
    """How the provider signs in: its settings from the command line (the environment and a
    0600 file an option names) and from a job file's keys. ``secret`` is the credential's
    option stem (``token`` gives ``token_file`` and ``token_env``), ``secret_env`` the
    environment variable the command line reads it from."""

    default_module: ClassVar[str] = "jobs"
    secret: str
    secret_env: str

    def settings_from_env(self, values: Mapping[str, Any]) -> Any:
        module: SettingsModule = self.implementation()
        return module.settings_from_env(values)

    def settings_for_job(self, job: JobValues) -> Any:
        module: SettingsModule = self.implementation()
        return module.settings_for_job(job)


@dataclass(frozen=True)
class Tool:
    """One account tool: the command ``archiver NAME DB`` and, with ``job_kind``, the job kind
    ``NAME``. ``options`` is the one declaration of both: the command's flags (``cli=True``)
    and, for a job kind, every key its job files take."""

    name: str
    options: Mapping[str, Option]
    help: str  # the command's --help: what it does, exit codes
    job_kind: bool = False


@dataclass(kw_only=True)
class Tools(Capability):
    """The account's own tools beside the backup (``archiver shared``, ...): one command per
    ``Tool``, and a job kind per tool declared ``job_kind``. Their names are commands of
    ``archiver`` itself, so no two providers may declare the same one."""

    default_module: ClassVar[str] = "tools"
    tools: tuple[Tool, ...]

    def _module(self) -> ToolsModule:
        module: ToolsModule = self.implementation()
        return module

    def open(self, tool: Tool, values: Mapping[str, Any]) -> ToolCall:
        """The command line's run of ``tool`` with ``values`` (every key of its options,
        defaults filled in)."""
        return self._module().open_tool(tool.name, values)

    async def run_job(self, tool: Tool, db: sqlite_utils.Database, job: JobValues) -> Summary:
        """The job kind of ``tool`` (declared ``job_kind``), with the job's keys."""
        return await self._module().run_tool_job(tool.name, db, job)


@dataclass(frozen=True)
class _JobKeys:
    """A batch job's keys as its account reads them (``Provider.settings_for_batch``)."""

    options: Mapping[str, Any]


PLAIN = Renderer(plain=True)
# What every provider has unless its class declares otherwise: its messages read by its
# ``render.py``, its part of ``make demo`` in its ``demo.py`` (``demo = None``: no part).
DEFAULT_CAPABILITIES: dict[str, Callable[[], Capability]] = {"renderer": Renderer, "demo": Demo}
# The attributes of a provider that hold capabilities, bound to its package at class creation.
CAPABILITY_ATTRIBUTES = (
    "account",
    "backup",
    "sending",
    "export",
    "doctor",
    "emulator",
    "renderer",
    "reflatten",
    "tools",
    "demo",
)


# --- the provider ------------------------------------------------------------------------------


class Provider:
    """One upstream. Subclass it, set the class attributes, and register the subclass in
    ``registry.PROVIDER_MODULES``."""

    # The provider column's value, the subcommand, the --provider choice: its package's name
    # (``providers/<name>/``), set when the class is made.
    name: ClassVar[str]
    title: ClassVar[str]  # how people call it: "ChatGPT", "Le Chat"
    # One line for `archiver providers` and the README: the class's docstring, unwrapped.
    summary: ClassVar[str]

    account: ClassVar[Account | None] = None  # None: nothing to sign in to
    backup: ClassVar[Backup | None] = None
    sending: ClassVar[Sending | None] = None
    export: ClassVar[ExportFormat | None] = None
    doctor: ClassVar[Doctor | None] = None
    emulator: ClassVar[Emulator | None] = None
    gateway: ClassVar[Gateway | None] = None
    renderer: ClassVar[Renderer] = PLAIN  # a subclass's: ``Renderer()`` unless declared
    reflatten: ClassVar[Reflatten | None] = None
    tools: ClassVar[Tools | None] = None
    demo: ClassVar[Demo | None] = None  # a subclass's: ``Demo()`` unless declared (None: none)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """The class is named by its package, summed up by its docstring, and each capability
        it declares or gets by default (``DEFAULT_CAPABILITIES``) works from modules of that
        package."""
        super().__init_subclass__(**kwargs)
        package = cls.__module__.rpartition(".")[0]
        cls.name = package.rpartition(".")[2]
        if "summary" not in cls.__dict__:
            if not cls.__doc__:
                raise TypeError(f"{cls.__name__} needs a docstring: its one-line summary")
            cls.summary = " ".join(cls.__doc__.split())
        for attribute, default in DEFAULT_CAPABILITIES.items():
            if attribute not in cls.__dict__:
                setattr(cls, attribute, default())
        for attribute in CAPABILITY_ATTRIBUTES:
            capability = cls.__dict__.get(attribute)
            if isinstance(capability, Capability) and capability is not PLAIN:
                capability.bind(package)

    @property
    def secret(self) -> str | None:
        """The credential's option stem (``token``), or None: nothing to sign in to."""
        return self.account.secret if self.account else None

    @property
    def secret_env(self) -> str | None:
        """The environment variable the command line reads the credential from."""
        return self.account.secret_env if self.account else None

    def settings_from_env(self, values: Mapping[str, Any]) -> Any:
        """Settings on the command line: the credential from ``secret_env`` or the file an
        option names (``values`` are the command's option values, ``token_file`` ...), hosts
        from the provider's environment variables."""
        if self.account is None:
            raise ConfigError(f"{self.title} has no account to sign in to")
        return self.account.settings_from_env(values)

    def settings_for_job(self, job: JobValues) -> Any:
        """Settings from a job file's keys (``token_env`` / ``token_file``, ``base_url``)."""
        if self.account is None:
            raise ConfigError(f"{self.title} has no account to sign in to")
        return self.account.settings_for_job(job)

    def settings_for_batch(self, job: JobValues) -> Any:
        """Settings from the ``batch`` job kind's keys: the account's, read from this
        provider's keys there (``copilot_token_file`` as ``token_file``: ``key_prefix``)."""
        if self.sending is None:
            raise ConfigError(f"{self.title} sends no prompts")
        prefix = self.sending.key_prefix
        if prefix:  # its own keys, the prefix taken off, over the batch's others
            own = {
                key.removeprefix(prefix): value
                for key, value in job.options.items()
                if key.startswith(prefix)
            }
            job = _JobKeys({**job.options, **own})
        return self.settings_for_job(job)

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
        return self.renderer.conversation_url(conversation_id)

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
