"""What every provider promises, checked for each one the registry names: a new provider gets
these tests for free.

- a backup with nothing new fetches no conversation and no file again;
- its credential reaches neither the database, nor the logs, nor an error;
- a stored cool-down is honoured (the run is skipped, nothing is asked);
- every flag of its commands is a key of the matching job kind (its account tools' too);
- a backup's --help ends with every exit code it can end with;
- a batch job signs in as the backup job does;
- its messages are read by its own renderer, never guessed as plain text;
- reflatten gives back the rows the backup wrote, every time;
- it takes part in ``make demo`` (its package's ``demo.py``) when it has a fake to back up.

The fakes are the bundled emulator's (``Provider.emulator``), reached as the command line
reaches an upstream: through the environment ``Emulator.environment`` gives.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.cli.options import with_defaults
from archiver.emulator import RunningEmulator, running_emulator
from archiver.emulator.app import with_provider_defaults
from archiver.jobs.kinds import KINDS
from archiver.providers import modules, registry
from archiver.providers.base import Provider
from archiver.store import open_db
from archiver.store.rebuild import reflatten
from archiver.store.runs import set_cooldown
from tests.support.fakes import fake_config

BACKUP = [p.name for p in registry.with_capability("backup")]
# The legacy providers' fakes are sized by the shared config; newer ones by their own
# defaults (``Emulator.default_config``).
SMALL = fake_config(
    chatgpt_conversations=6, chatgpt_mean_nodes=6, bing_chats=4, copilot_chats=4, chatgpt_projects=1
)


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(SMALL) as emu:
        yield emu


def fast_values(provider: Provider, **given: Any) -> dict[str, Any]:
    """The backup's option values, unpaced (the emulator is local)."""
    assert provider.backup is not None
    return with_defaults(provider.backup.options, {"max_rpm": 60_000.0, **given})


def backup(provider: Provider, db: Any, monkeypatch: Any, env: dict[str, str], **given: Any) -> Any:
    assert provider.backup is not None
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    values = fast_values(provider, **given)
    settings = provider.settings_from_env(values)
    return asyncio.run(provider.backup.run(db, settings, values))


SAMPLES = Path(__file__).parents[1] / "providers"


def environment(provider: Provider, emu: RunningEmulator) -> dict[str, str]:
    assert provider.emulator is not None, f"{provider.name} can back up but has no emulator"
    return provider.emulator.environment(emu.base_url)


def rows(db: Any, provider: str) -> list[tuple[Any, ...]]:
    return db.execute(
        "SELECT m.* FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        "WHERE c.provider = ? ORDER BY m.conversation_id, m.id",
        [provider],
    ).fetchall()


@pytest.mark.parametrize("name", BACKUP)
def test_a_backup_with_nothing_new_fetches_nothing_again(name, emulator, tmp_path, monkeypatch):
    provider = registry.get(name)
    db = open_db(tmp_path / "a.db")
    assert provider.emulator is not None
    start = len(emulator.request_log)
    first = backup(provider, db, monkeypatch, environment(provider, emulator))
    assert first.exit_code == 0, first.errors
    assert first.fetched > 0, f"{name}'s fake served nothing to back up"
    mark = len(emulator.request_log)
    # The item routes are the ones the log names (else the check below could never fail).
    fetched = [
        e for e in emulator.request_log[start:mark] if e["route"] in provider.emulator.item_routes
    ]
    # Each conversation fetched and each file downloaded ("files_stored", "images_stored")
    # took one item request at least.
    files = sum(n for key, n in first.extra.items() if key.endswith("_stored"))
    assert len(fetched) >= first.fetched + files, f"{name}'s ITEM_ROUTES miss some fetches"
    second = backup(provider, db, monkeypatch, environment(provider, emulator))
    assert second.exit_code == 0, second.errors
    assert second.fetched == 0 and second.new == 0 and second.updated == 0
    assert provider.emulator is not None
    items = [e for e in emulator.request_log[mark:] if e["route"] in provider.emulator.item_routes]
    assert items == [], f"{name} fetched again: {items[:3]}"


@pytest.mark.parametrize("name", BACKUP)
def test_the_credential_reaches_no_database_log_or_error(
    name, emulator, tmp_path, monkeypatch, caplog
):
    provider = registry.get(name)
    assert provider.secret_env is not None
    env = environment(provider, emulator)
    secret = env[provider.secret_env]
    db_path = tmp_path / "a.db"
    caplog.set_level(logging.DEBUG)
    summary = backup(provider, open_db(db_path), monkeypatch, env)
    wrong = f"sEcReT-wrong-{name}-4242"
    refused = CliRunner().invoke(
        cli, ["backup", name, "-v", str(db_path)], env={**env, provider.secret_env: wrong}
    )
    assert refused.exit_code == 2, refused.output
    said = "\n".join([caplog.text, summary.line(), *summary.errors, refused.output])
    for value in (secret, wrong):
        assert value not in said
        for stored in tmp_path.glob("a.db*"):
            if stored.is_file():
                assert value.encode() not in stored.read_bytes(), f"{value!r} in {stored.name}"


@pytest.mark.parametrize("name", BACKUP)
def test_a_stored_cooldown_is_honoured(name, emulator, tmp_path, monkeypatch):
    provider = registry.get(name)
    env = environment(provider, emulator)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    account = provider.settings_from_env(fast_values(provider)).account
    db_path = tmp_path / "a.db"
    set_cooldown(open_db(db_path), name, account, datetime.now(tz=UTC) + timedelta(hours=2), "429")
    mark = len(emulator.request_log)
    result = CliRunner().invoke(cli, ["backup", name, str(db_path)], env=env)
    assert result.exit_code == 0, result.output
    assert "cooling down" in result.output
    assert emulator.request_log[mark:] == []


def command_params(*path: str) -> set[str]:
    command: Any = cli
    for name in path:
        command = command.get_command(None, name)
    return {p.name for p in command.params if p.name not in ("help",)}


@pytest.mark.parametrize("name", BACKUP)
def test_every_backup_flag_is_a_job_key(name):
    flags = command_params("backup", name) - {"db", "quiet", "verbose"}
    assert flags <= set(KINDS[f"backup {name}"].options)


@pytest.mark.parametrize("name", BACKUP)
def test_a_backups_help_ends_with_every_exit_code_it_can_end_with(name):
    result = CliRunner().invoke(cli, ["backup", name, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    legend = result.output.split("Exit codes:", 1)[1].split("Options:", 1)[0]
    for code in ("0 ok", "1 failed", "2 usage/auth/config", "3 partial", "75 DB in use"):
        assert code in " ".join(legend.split()), f"{name}: {code!r} missing from {legend!r}"


TOOLS = [
    (provider.name, tool)
    for provider in registry.all_providers()
    if provider.tools is not None
    for tool in provider.tools.tools
]


@pytest.mark.parametrize(("name", "tool"), TOOLS, ids=[tool.name for _, tool in TOOLS])
def test_a_job_kind_tool_takes_its_options_as_job_keys(name, tool):
    if not tool.job_kind:
        assert tool.name not in KINDS, f"{name}'s {tool.name} is no job kind"
        return
    assert KINDS[tool.name].options == tool.options
    flags = command_params(tool.name) - {"db", "quiet", "verbose"}
    assert flags, f"{tool.name} has no flag"
    assert flags <= set(KINDS[tool.name].options)


def test_no_tool_takes_a_commands_name():
    from archiver.cli import COMMANDS

    names = [tool.name for _, tool in TOOLS]
    assert len(names) == len(set(names)), "two tools share a name"
    assert not set(names) & set(COMMANDS)


def test_every_batch_flag_is_a_job_key():
    flags = command_params("batch") - {"db", "prompts", "quiet", "verbose"}
    assert flags <= set(KINDS["batch"].options)


@pytest.mark.parametrize("name", registry.names())
def test_a_provider_with_history_renders_with_its_own_reader(name):
    provider = registry.get(name)
    if provider.backup is None and provider.export is None:
        pytest.skip(f"{name} keeps no history of its own")
    assert not provider.renderer.plain, f"{name} would render as plain text"


@pytest.mark.parametrize("name", BACKUP)
def test_every_archived_message_renders(name, emulator, tmp_path, monkeypatch):
    import json

    provider = registry.get(name)
    db = open_db(tmp_path / "a.db")
    backup(provider, db, monkeypatch, environment(provider, emulator))
    cursor = db.execute(
        "SELECT m.* FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        "WHERE c.provider = ?",
        [name],
    )
    names = [d[0] for d in cursor.description]
    shown = 0
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        message = json.loads(row["raw_json"]) if row["raw_json"] else {}
        shown += bool(
            provider.renderer.blocks(message if isinstance(message, dict) else {}, row, {})
        )
    assert shown > 0


@pytest.mark.parametrize("name", [p.name for p in registry.with_capability("reflatten")])
def test_reflatten_gives_back_the_rows_the_backup_wrote(name, emulator, tmp_path, monkeypatch):
    """From what the backup wrote, or for an import-only provider from what the import of its
    sample export (``tests/providers/<name>/sample``, a convention) wrote."""
    provider = registry.get(name)
    assert provider.reflatten is not None
    db = open_db(tmp_path / "a.db")
    if provider.backup is not None:
        backup(provider, db, monkeypatch, environment(provider, emulator))
    else:
        sample = SAMPLES / name / "sample"
        assert sample.is_dir(), f"{name} imports only: it needs a sample export at {sample}"
        imported = CliRunner().invoke(cli, ["import", str(tmp_path / "a.db"), str(sample)])
        assert imported.exit_code == 0, imported.output
    before = rows(db, name)
    assert before
    for _ in range(2):
        summary = reflatten(db, {name: provider.reflatten}, everything=True)
        assert summary.exit_code == 0 and summary.conversations > 0, summary.errors
        assert rows(db, name) == before


@dataclass(frozen=True)
class Job:
    options: dict[str, Any]


@pytest.mark.parametrize("name", [p.name for p in registry.with_capability("backup")])
def test_a_batch_job_signs_in_as_the_backup_job_does(name, monkeypatch):
    """A provider's keys of the ``batch`` job kind are its account's job keys, prefixed where
    they could clash (``Sending.key_prefix``): the same values give the same settings."""
    provider = registry.get(name)
    if provider.sending is None:
        pytest.skip(f"{name} sends nothing")
    assert provider.backup is not None and provider.secret_env is not None
    monkeypatch.setenv(provider.secret_env, f"sEcReT-{name}")
    prefix = provider.sending.key_prefix
    hosts = {
        key: f"http://127.0.0.1:9/{key}" for key in provider.sending.options if "base_url" in key
    }
    batch = with_defaults(KINDS["batch"].options, hosts)
    backup_job = with_defaults(
        KINDS[provider.backup_kind].options,
        {key.removeprefix(prefix): value for key, value in hosts.items()},
    )
    assert provider.settings_for_batch(Job(batch)) == provider.settings_for_job(Job(backup_job))


def test_providers_lists_every_registered_provider_with_what_it_can_do():
    result = CliRunner().invoke(cli, ["providers"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    for name in registry.names():
        line = next(line for line in lines if line.split()[0] == name)
        capabilities = registry.get(name).capabilities()
        assert line.split()[1:] == ["yes" if able else "-" for able in capabilities.values()]


def test_a_provider_is_summed_up_by_its_docstring():
    for provider in registry.all_providers():
        assert provider.summary == " ".join((type(provider).__doc__ or "").split())
        assert "\n" not in provider.summary and provider.summary

    with pytest.raises(TypeError, match="needs a docstring"):

        class Undocumented(Provider):
            title = "Undocumented"


def test_every_provider_module_is_light():
    """Asking the registry about every provider loads no HTTP client (``archiver import`` and
    ``archiver search`` start fast)."""
    import subprocess
    import sys

    probe = (
        "import sys; from archiver.providers import registry; registry.all_providers(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aiohttp'))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- every capability's module offers what the contract names --------------------------------

MODULES = {
    "account": [modules.SettingsModule],
    "backup": [modules.BackupModule],
    "sending": [],  # its class or its opener: ONE_OF
    "export": [modules.ExportModule],
    "doctor": [modules.DoctorModule],
    "emulator": [modules.EmulatorModule],
    "renderer": [modules.RenderModule],
    "reflatten": [modules.ReflattenModule],
    "tools": [modules.ToolsModule],
    "demo": [modules.DemoModule],
}
OPTIONAL = {
    "sending": [
        modules.SenderModule,
        modules.OpenerModule,
        modules.StateModule,
        modules.BatchesModule,
    ]
}
# Members of which a capability's module offers at least one.
ONE_OF = {"sending": ("Sender", "open_sender")}


def protocol_members(protocol: type) -> dict[str, Any]:
    members: dict[str, Any] = {
        name: value
        for name, value in vars(protocol).items()
        if callable(value) and not name.startswith("_")
    }
    members.update({name: None for name in getattr(protocol, "__annotations__", {})})
    return members


def mismatch(implementation: Any, name: str, expected: Any) -> str | None:
    """Why ``implementation.name`` does not do what the protocol's member says, or None."""
    if not hasattr(implementation, name):
        return f"no {name}"
    if expected is None:  # a constant
        return None
    found = getattr(implementation, name)
    if inspect.iscoroutinefunction(expected) != inspect.iscoroutinefunction(found):
        return f"{name} must {'' if inspect.iscoroutinefunction(expected) else 'not '}be async"
    wanted = [p for p in inspect.signature(expected).parameters if p != "self"]
    given = list(inspect.signature(found).parameters.values())
    names = [p.name for p in given[: len(wanted)]]
    if names != wanted:
        return f"{name}{tuple(names)} takes other parameters than {name}{tuple(wanted)}"
    extra = [p.name for p in given[len(wanted) :] if p.default is inspect.Parameter.empty]
    if extra:
        return f"{name} needs more than the contract gives: {extra}"
    return None


@pytest.mark.parametrize("name", registry.names())
def test_every_capability_module_offers_what_the_contract_names(name):
    provider = registry.get(name)
    problems = []
    for attribute, protocols in MODULES.items():
        capability = getattr(provider, attribute)
        if capability is None or getattr(capability, "plain", False):
            continue
        implementation = capability.implementation()
        for protocol in protocols:
            for member, expected in protocol_members(protocol).items():
                problem = mismatch(implementation, member, expected)
                if problem:
                    problems.append(f"{attribute} ({capability.module_path}): {problem}")
        for protocol in OPTIONAL.get(attribute, []):
            for member, expected in protocol_members(protocol).items():
                if hasattr(implementation, member):
                    problem = mismatch(implementation, member, expected)
                    if problem:
                        problems.append(f"{attribute} ({capability.module_path}): {problem}")
        members = ONE_OF.get(attribute, ())
        if members and not any(hasattr(implementation, member) for member in members):
            problems.append(f"{attribute} ({capability.module_path}): no {' or '.join(members)}")
    assert problems == []


@pytest.mark.parametrize("name", [p.name for p in registry.all_providers() if p.account])
def test_a_secret_file_others_can_read_is_refused(name, tmp_path, monkeypatch):
    """``--<secret>-file`` must be mode 0600; at 0600 its value is read and never shown."""
    from archiver.errors import ConfigError

    account = registry.get(name).account
    assert account is not None
    monkeypatch.delenv(account.secret_env, raising=False)
    capability = registry.get(name).backup or registry.get(name).sending
    assert capability is not None
    emulator = registry.get(name).emulator
    assert emulator is not None, f"{name} signs in but has no emulator"
    credential = emulator.environment("http://127.0.0.1:9")[account.secret_env]
    secret = tmp_path / "secret"
    secret.write_text(credential + "\n")
    secret.chmod(0o644)
    values = with_defaults(capability.options, {f"{account.secret}_file": str(secret)})
    with pytest.raises(ConfigError, match="chmod 600"):
        account.settings_from_env(values)
    secret.chmod(0o600)
    settings = account.settings_from_env(values)
    assert credential not in repr(settings) + str(settings)


DOWNLOADS = [
    p.name
    for p in registry.with_capability("backup")
    if p.backup and "no_files" in p.backup.options
]


def downloaded(summary: Any) -> int:
    """Files the run downloaded ("files_stored", "images_stored"; pasted text a message
    carries is stored without a download and counted apart)."""
    return sum(n for key, n in summary.extra.items() if key.endswith("_stored"))


@pytest.mark.parametrize("name", DOWNLOADS)
def test_the_file_options_are_obeyed(name, emulator, tmp_path, monkeypatch):
    """``--no-files`` downloads nothing; ``--max-file-mb`` records what is larger as
    ``too_large`` and downloads none of it; without them the same world's files are stored."""
    provider = registry.get(name)
    env = environment(provider, emulator)
    everything = backup(provider, open_db(tmp_path / "all.db"), monkeypatch, env)
    assert everything.exit_code == 0 and downloaded(everything), f"{name}'s fake has no file"
    none = backup(provider, open_db(tmp_path / "none.db"), monkeypatch, env, no_files=True)
    assert none.exit_code == 0 and downloaded(none) == 0, none.extra
    tiny_db = open_db(tmp_path / "tiny.db")
    tiny = backup(provider, tiny_db, monkeypatch, env, max_file_mb=1e-6)  # 1 byte
    assert tiny.exit_code == 0 and downloaded(tiny) == 0, (tiny.errors, tiny.extra)
    too_large = tiny_db.execute(
        "SELECT count(*) FROM attachments WHERE download_status = 'too_large'"
    ).fetchone()[0]
    assert too_large >= downloaded(everything) > 0


# --- make demo: every provider's part is its own ------------------------------------------------

# A provider with a fake to back up that has no part in ``make demo``, and why (none today).
LEFT_OUT_OF_THE_DEMO: dict[str, str] = {}


@pytest.mark.parametrize("name", registry.names())
def test_a_provider_with_an_emulator_and_a_backup_takes_part_in_the_demo(name):
    """``make demo`` is generated from the registry: a provider shows what it does there by
    its package's ``demo.py`` (``demo``: the contract's default ``base.Demo()``), with no
    script to edit."""
    provider = registry.get(name)
    if provider.emulator is None or provider.backup is None or name in LEFT_OUT_OF_THE_DEMO:
        return
    assert provider.demo is not None, f"{name} backs up from its emulator but is not in the demo"
    knobs = provider.demo.emulator_knobs()
    config = provider.emulator.default_config()
    assert set(knobs) <= {f.name for f in fields(config)}, "a demo knob its emulator lacks"


def test_the_demo_names_every_provider_in_registry_order():
    from archiver.emulator.demo import in_the_demo

    in_demo = [p.name for p in in_the_demo()]
    assert in_demo == [name for name in registry.names() if name in in_demo]
    assert not set(LEFT_OUT_OF_THE_DEMO) & set(in_demo)


def invoke_in_process(args: Sequence[str], env: Mapping[str, str]) -> int:
    result = CliRunner().invoke(cli, list(args), env=dict(env), catch_exceptions=False)
    return result.exit_code


# Every provider's part but the OpenAI-compatible API's, whose Batch API waits out its stages
# (seconds of sleep; ``make demo`` runs it): under a second each.
DEMO_IN_PROCESS = [p.name for p in registry.all_providers() if p.demo and p.name != "openai"]


@pytest.mark.parametrize("name", DEMO_IN_PROCESS)
def test_a_providers_demo_steps_run_against_the_emulator(name, tmp_path, capsys):
    """The provider's steps, run as ``make demo`` runs them (its emulator knobs set), with
    the commands in-process; then its queries on what they wrote."""
    from archiver.emulator.demo import DemoSteps
    from archiver.fakes.config import EmulatorConfig

    provider = registry.get(name)
    assert provider.demo is not None
    config = with_provider_defaults(EmulatorConfig(seed=1))
    for key, value in provider.demo.emulator_knobs().items():
        config.set_provider_value(name, key, str(value))
    db = tmp_path / "demo.db"
    with running_emulator(config) as emu:
        steps = DemoSteps(provider, db, tmp_path / "inputs", emu.base_url, 1, invoke_in_process)
        provider.demo.steps(steps)
    printed = capsys.readouterr().out
    assert printed.count("\n== ") >= 1 and "(exit 0" in printed
    archive = sqlite3.connect(db)
    stored = archive.execute("SELECT count(*) FROM conversations WHERE provider = ?", [name])
    assert stored.fetchone()[0] > 0
    for _title, sql in provider.demo.queries():
        archive.execute(sql).fetchall()
    archive.close()
