"""``archiver search | export | stats | runs DB``: reading the archive.

Imports of the library happen inside each command so that ``archiver search`` starts fast."""

from __future__ import annotations

import sys

import click

from archiver.cli.common import db_argument, handle_errors
from archiver.cli.terminal import echo, json_text, terminal_text

_ANSI_HIGHLIGHT = ("\x1b[1;33m", "\x1b[0m")


def highlighted(snippet: str, highlight: tuple[str, str]) -> str:
    """A snippet on one line, its archived text stripped of controls, our highlight markers
    (ANSI on a terminal) kept: they are the only escape sequences printed."""
    start, end = highlight
    parts = [
        end.join(terminal_text(piece) for piece in chunk.split(end))
        for chunk in snippet.split(start)
    ]
    return " ".join(start.join(parts).split())


@click.command("search")
@db_argument
@click.argument("query")
@click.option("--provider", help="Only this provider's conversations (see: archiver providers).")
@click.option(
    "--role",
    type=click.Choice(["user", "assistant", "tool", "system"]),
    help="Only messages from this role.",
)
@click.option("--since", help="Only messages from this time on: 2024, 2024-05, 2024-05-17, 30d.")
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Hits at most."
)
@click.option(
    "--literal", is_flag=True, help="Search the words as typed: no FTS operators or prefixes."
)
@click.option("--json", "as_json", is_flag=True, help="Print the hits as a JSON array.")
@handle_errors
def search_command(
    db: str,
    query: str,
    provider: str | None,
    role: str | None,
    since: str | None,
    limit: int,
    literal: bool,
    as_json: bool,
) -> None:
    """Full-text search of every message in DB, best matches first.

    QUERY uses SQLite FTS5 syntax: words (all required), "exact phrases", prefix*, OR, NOT,
    NEAR(a b). Words with punctuation need quotes ("e-mail"), or pass --literal. Prints the
    conversation title, date, a snippet with the matches highlighted, and the conversation id.
    Exit codes: 0 ok (also when nothing matches), 2 bad query or options.
    """
    from archiver.query.connect import open_readonly
    from archiver.query.search import parse_since, search_messages

    highlight = _ANSI_HIGHLIGHT if sys.stdout.isatty() and not as_json else ("**", "**")
    conn = open_readonly(db)
    hits = search_messages(
        conn,
        query,
        provider=provider,
        role=role,
        since=parse_since(since) if since else None,
        limit=limit,
        literal=literal,
        highlight=highlight,
    )
    if as_json:
        click.echo(json_text([hit.as_dict() for hit in hits]))
        return
    if not hits:
        echo("No matches.", err=True)
    for hit in hits:
        date = (hit.date or "")[:10] or "undated"
        title = hit.title or "Untitled"
        echo(f"{title} · {date} · {hit.provider} · {hit.role or '?'}")
        click.echo("  " + highlighted(hit.snippet, highlight))
        echo(f"  {hit.conversation_id}  (node {hit.node_id})")
        echo()


@click.command("export")
@db_argument
@click.option(
    "--conversation",
    "conversation_ids",
    multiple=True,
    metavar="ID",
    help="Export this conversation (repeat for several).",
)
@click.option("--all", "export_all", is_flag=True, help="Export every conversation.")
@click.option("--provider", help="Only this provider's conversations (see: archiver providers).")
@click.option("--since", help="Only conversations active from then on: 2024, 2024-05, 30d.")
@click.option("--until", help="Only conversations active up to the end of: 2024, 2024-05-17.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json", "html", "obsidian"]),
    default="markdown",
    show_default=True,
    help="Output format. obsidian: a vault (notes with front matter, attachments/).",
)
@click.option(
    "--branches",
    type=click.Choice(["current", "all"]),
    default="current",
    show_default=True,
    help="current: the branch last shown; all: edits and regenerations as alternatives.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory to write one file per conversation into (created if needed).",
)
@click.option(
    "--force",
    is_flag=True,
    help="obsidian: overwrite notes you edited since the last export (kept otherwise).",
)
@handle_errors
def export_command(
    db: str,
    conversation_ids: tuple[str, ...],
    export_all: bool,
    provider: str | None,
    since: str | None,
    until: str | None,
    fmt: str,
    branches: str,
    out_dir: str,
    force: bool,
) -> None:
    """Export conversations from DB as Markdown, JSON or HTML files, or as an Obsidian vault.

    Give --conversation ID (repeatable), --all, or filters (--provider, --since, --until).
    Files are named from the title and the id. --format obsidian writes one note per
    conversation with YAML front matter, copies the files the messages point at into
    OUT/attachments/ (once each), and on a later run updates the notes in place, keeping the
    ones you edited unless --force. Exit codes: 0 ok, 2 unknown id or bad options.
    """
    filtered = bool(provider or since or until)
    if bool(conversation_ids) == (export_all or filtered):
        raise click.UsageError("give --conversation ID, or --all or filters (one of them)")
    from archiver.providers.registry import block_reader
    from archiver.query.connect import open_readonly
    from archiver.query.export import export_conversations, known_ids
    from archiver.query.search import parse_since, parse_until
    from archiver.query.select import ConversationFilter

    conn = open_readonly(db)
    if conversation_ids:
        ids = known_ids(conn, conversation_ids)
    else:
        ids = ConversationFilter(
            provider=provider,
            since=parse_since(since) if since else None,
            until=parse_until(until) if until else None,
        ).ids(conn)
    if fmt == "obsidian":
        from archiver.query.vault import export_vault

        vault = export_vault(
            conn,
            out_dir,
            ids,
            branches=branches,  # type: ignore[arg-type]
            force=force,
            url_for=conversation_url,
            readers=block_reader,
        )
        click.echo(vault.line())
        return
    result = export_conversations(
        conn,
        out_dir,
        conversation_ids=ids,
        fmt=fmt,
        branches=branches,  # type: ignore[arg-type]
        readers=block_reader,
    )
    echo(result.line())


def conversation_url(provider: str, conversation_id: str) -> str | None:
    """The conversation's web address, from its provider (the vault's front matter ``url``);
    None where the provider has none, or is no longer registered."""
    from archiver.providers import registry

    if provider not in registry.names():
        return None
    return registry.get(provider).conversation_url(conversation_id)


@click.command("stats")
@db_argument
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@handle_errors
def stats_command(db: str, as_json: bool) -> None:
    """Conversations and messages per provider and per month, top models, database size."""
    from archiver.query.connect import open_readonly
    from archiver.query.stats import archive_stats

    stats = archive_stats(open_readonly(db), db)
    if as_json:
        click.echo(json_text(stats.as_dict()))
    else:
        echo("\n".join(stats.lines()))


@click.command("runs")
@db_argument
@click.option("--job", help="Only the runs of this job (its file name, or the command).")
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Runs at most."
)
@click.option("--json", "as_json", is_flag=True, help="Print the runs and cool-downs as JSON.")
@handle_errors
def runs_command(db: str, job: str | None, limit: int, as_json: bool) -> None:
    """The latest runs recorded in DB (newest first: status, exit code, counts, error) and the
    cool-downs still in force: what a cron user checks the morning after."""
    from archiver.query.connect import open_readonly
    from archiver.query.runs import run_history

    history = run_history(open_readonly(db), job=job, limit=limit)
    if as_json:
        click.echo(json_text(history.as_dict()))
    else:
        echo("\n".join(history.lines()))
