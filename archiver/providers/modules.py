"""What each capability's implementation module offers: the functions a provider's modules
define, named and typed once. A capability (``archiver/providers/base.py``) imports its module
from the provider's own package when it is first used, so ``provider.py`` stays light.

The capabilities call a module through these types; the contract tests check, for every
registered provider, that its modules offer what the protocols name, with the same parameters.

| capability | module (default name) | functions |
|---|---|---|
| ``Backup`` | ``backup`` | ``back_up`` |
| ``Sending`` | ``sender`` | ``Sender`` or ``open_sender``; optional ``with_state``, ``open_batches`` |
| ``ExportFormat`` | ``export`` | ``detect``, ``run_import`` |
| ``Doctor`` | ``doctor`` | ``check`` |
| ``Emulator`` | ``emulator`` | ``ITEM_ROUTES``, ``default_config``, ``add_routes``, ``environment`` |
| ``Renderer`` | ``render`` | ``blocks`` |
| ``Reflatten`` | ``reflatten`` | ``rebuild`` |
| ``Account`` | ``jobs`` | ``settings_from_env``, ``settings_for_job`` |
| ``Tools`` | ``tools`` | ``open_tool``, ``run_tool_job`` |
| ``Demo`` | ``demo`` | ``EMULATOR_KNOBS``, ``steps``, ``QUERIES`` |
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from archiver.options import JobValues

if TYPE_CHECKING:  # engine types, for annotations only
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


class BackupModule(Protocol):
    async def back_up(
        self,
        db: sqlite_utils.Database,
        settings: Any,
        values: Mapping[str, Any],
        progress: Progress | None,
    ) -> BackupSummary:
        """Back up the account into ``db`` with ``values`` (every key of the backup's options,
        defaults filled in). The stored cool-down was checked before this is called."""


class SenderModule(Protocol):
    """A sender module offers its sender class, ``Sender``, made over ``setup``'s transport,
    limiter and retry policy; or, when making it reads the batch's values, ``open_sender``
    (``OpenerModule``). Its settings are the account's (``Provider.settings_for_batch``)."""

    Sender: Callable[[SenderSetup, Any], BatchProvider]


class OpenerModule(Protocol):
    """A sender module whose sender reads the batch's values (options, a pace): ``Sending``
    opens it with ``open_sender`` instead of ``Sender(setup, settings)``."""

    def open_sender(
        self, setup: SenderSetup, settings: Any, values: Mapping[str, Any]
    ) -> BatchProvider:
        """The sender over ``setup``'s transport, limiter and retry policy; ``values`` are
        every batch key's (the provider reads its own)."""


class StateModule(Protocol):
    """Optional in a sender module: settings completed from what the archive keeps for the
    account (ChatGPT's device id). Without it, settings are used as they are."""

    def with_state(self, db: sqlite_utils.Database, settings: Any) -> Any: ...


class BatchesModule(Protocol):
    """Optional in a sender module: the provider's own batch endpoint (``archiver batch
    --batch-api``: many rows submitted at once, answered later; ``archiver/batch/remote.py``);
    None when the server has none."""

    def open_batches(
        self, setup: SenderSetup, settings: Any, values: Mapping[str, Any]
    ) -> RemoteBatches | None: ...


class ExportModule(Protocol):
    def detect(self, files: ExportFiles) -> bool:
        """True when ``files`` is this provider's export, by content (cheap: small reads)."""

    def run_import(
        self,
        db: sqlite_utils.Database,
        files: ExportFiles,
        options: ImportOptions,
        progress: Progress | None,
    ) -> Summary:
        """Import every conversation of ``files``; each one atomic, the rest going on when one
        fails (named in the summary's errors)."""


class DoctorModule(Protocol):
    async def check(self, settings: Any, run: DoctorRun) -> DoctorReport:
        """Are the credentials and the base URL right? (``archiver doctor``)"""


class EmulatorModule(Protocol):
    # Its routes (as aiohttp names them canonically) that fetch one conversation or one file.
    ITEM_ROUTES: frozenset[str]

    def default_config(self) -> Any:
        """The fake's own knobs, at their defaults (a dataclass; ``--set NAME.KEY=VALUE``)."""

    def add_routes(self, app: web.Application) -> None:
        """The fake upstream's routes, on the emulator's app."""

    def environment(self, base_url: str) -> dict[str, str]:
        """The environment variables that point this provider's commands at the emulator
        served at ``base_url``, with the credentials its fake accepts."""


class RenderModule(Protocol):
    def blocks(
        self, message: Mapping[str, Any], row: Mapping[str, Any], links: Mapping[str, str]
    ) -> list[Block]:
        """What a message shows, read from its raw JSON (``message``) and its row."""


class ReflattenModule(Protocol):
    def rebuild(
        self, conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
    ) -> FlatConversation:
        """The conversation's rows again, from its stored conversation row and every stored
        message row (all branches, in insertion order). Pure: no I/O."""


class SettingsModule(Protocol):
    def settings_from_env(self, values: Mapping[str, Any]) -> Any:
        """Settings on the command line: the credential from its environment variable or the
        file an option names (``values``: the command's option values), hosts from the
        environment."""

    def settings_for_job(self, job: JobValues) -> Any:
        """Settings from a job file's keys (``token_env`` / ``token_file``, ``base_url``)."""


def _no_lines(summary: Any) -> list[str]:
    return []


@dataclass(frozen=True)
class ToolCall:
    """One run of a tool from the command line, as the provider's module plans it from the
    flags (the account's settings, when it needs them, already read: no credential, no
    change to the archive). The command runs ``work``, prints ``lines`` and the summary."""

    work: Callable[[sqlite_utils.Database], Coroutine[Any, Any, Summary]]
    # This run writes: under the database's lock and recorded in `runs` as this job. None: it
    # only reads the archive (no lock, no record).
    job: str | None
    kind: str | None = None  # the recorded run's kind, when not the job's name
    lines: Callable[[Any], list[str]] = _no_lines  # what the summary has to show, line by line
    # True: the lines are the answer itself (a listing), printed even with -q.
    lines_when_quiet: bool = False


class ToolsModule(Protocol):
    def open_tool(self, name: str, values: Mapping[str, Any]) -> ToolCall:
        """The command line's run of tool ``name`` with its flags' ``values`` (every key of its
        options, defaults filled in): what it does, whether it writes, what it prints. The
        settings it needs are read here, before the archive is opened."""

    async def run_tool_job(self, name: str, db: sqlite_utils.Database, job: JobValues) -> Summary:
        """The job kind of tool ``name`` (one declared ``job_kind``), with the job's keys."""


class DemoRun(Protocol):
    """What a provider's demo steps run through: ``make demo`` (``archiver/emulator/demo.py``)
    gives each provider one, in registry order, with the emulator already serving. Every step
    is a real command a user would type, printed under a heading; a failing one ends the demo."""

    db: Path  # the demo's archive (demo.db)
    workdir: Path  # where the demo writes its inputs: prompt CSVs, exports
    base_url: str  # the emulator's, http://127.0.0.1:PORT
    seed: int  # the emulator's seed: a sample export of "the same account" is made with it
    # The provider's emulator environment (``Emulator.environment``; {} without an emulator):
    # every command runs with it unless given another ``env``.
    environment: dict[str, str]

    def heading(self, text: str) -> None:
        """Print a step's heading."""

    def archiver(self, *args: str | Path, env: Mapping[str, str] | None = None) -> None:
        """Run ``archiver ARGS`` and print it, its exit code and its time."""

    def backup(self, *flags: str, env: Mapping[str, str] | None = None) -> None:
        """``archiver backup NAME DB`` unpaced (the emulator is local), with ``flags``."""

    def backup_twice(self, title: str, *flags: str) -> None:
        """Under ``title``, the first backup; then a second one that finds nothing changed."""

    def batch(self, csv: Path, *flags: str, env: Mapping[str, str] | None = None) -> None:
        """``archiver batch DB CSV --provider NAME`` with ``flags``."""

    def import_export(self, path: Path) -> None:
        """``archiver import DB PATH``."""

    def input_file(self, name: str, text: str) -> Path:
        """``text`` written to ``workdir/name`` (a prompts CSV)."""

    def emulator_stats(self) -> dict[str, Any]:
        """What the emulator counted so far (``/_emulator/stats``)."""


class DemoModule(Protocol):
    """A provider's part of ``make demo``."""

    # Its fake's knobs as the demo sets them (``archiver emulator --set NAME.KEY=VALUE``).
    EMULATOR_KNOBS: Mapping[str, str | int | float | bool]
    # (title, SQL) of the queries on demo.db worth showing for this provider, after the
    # provider-neutral ones.
    QUERIES: Sequence[tuple[str, str]]

    def steps(self, run: DemoRun) -> None:
        """Its steps: backups, a batch of its prompts, an export it writes and imports."""
