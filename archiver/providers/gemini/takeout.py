"""Google Takeout's "My Activity → Gemini Apps" entries, read (pure; docs/protocol/gemini.md).

An activity file holds every product's activity alike; only entries whose header (or product)
is Gemini's are ours. A Gemini entry is either a **prompt** (``Prompted <the prompt>``, with
the answer's drafts as HTML) or **other activity** (Gave feedback, Selected preferred draft,
Used, Created, ...), which is kept whole but is no message. A title in a language this reader
does not know, on an entry with an answer, is reported: it is a prompt that cannot be read.

Both forms of the file read into the same ``Record``: the JSON form's entries as they are, the
HTML form's entry cells by ``takeout_html``. A prompt becomes an ``Entry``, whose ``raw`` is
what the archive keeps (the JSON entry, or ``{"html": <the entry's cell>}``) and whose
``key`` names it the same way in both forms and in every later Takeout: the time to the
second and the prompt with its whitespace collapsed."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from archiver.providers.gemini.times import TimeFormatError, local_to_utc

GEMINI = "Gemini"
# "<verb> <the prompt>": the prompt verbs of the languages seen in real exports.
PROMPT_VERBS = ("Prompted", "Live Prompt", "Asked", "Eingegebener Prompt:", "Prompt :", "Prompt:")
# Other Gemini activity (English), kept whole, never a message.
ACTIVITY_VERBS = (
    "Gave feedback",
    "Selected preferred draft",
    "Used",
    "Created",
    "Added",
    "Cleared",
    "Branched",
    "Answered",
    "Canceled",
    "Cancelled",
    "Deleted",
    "Edited",
    "Shared",
)
_APP_URL = re.compile(r"^https?://gemini\.google\.com/(?:u/\d+/)?app/([A-Za-z0-9_-]{8,})/?$")
_GEM_USED = re.compile(r"^(?P<name>.+?) was used in this chat\b")
_ATTACHED = re.compile(r"^Attached \d+ files?\.?$")
_SPACE = re.compile(r"\s+")
_GEM_ID = re.compile(r"^[0-9a-f]{8,}$")


class EntryError(ValueError):
    """A Gemini entry that cannot be read (its language, its time, its shape)."""


@dataclass(frozen=True)
class Attachment:
    """An upload: ``file`` is its name in the export folder (None when the export names it
    without a file), ``name`` how the entry shows it."""

    name: str
    file: str | None


@dataclass(frozen=True)
class Gem:
    name: str
    url: str | None = None

    @property
    def id(self) -> str:
        """The Gem's id from its link when the link has one, else one made from its name."""
        if self.url:
            parts = [p for p in urlsplit(self.url).path.split("/") if p]
            if len(parts) >= 2 and parts[0] in ("gem", "gems") and _GEM_ID.match(parts[-1]):
                return parts[-1]
        return "gem:" + self.name


@dataclass
class Record:
    """One activity entry of either form, read but not yet judged."""

    form: str  # "json" | "html"
    raw: dict[str, Any]
    header: str
    title: str  # the title line as text ("Prompted ...", "Gave feedback: ...")
    time_text: str | None
    drafts: list[str] = field(default_factory=list)  # answer HTML, one per draft
    chat_ids: list[str] = field(default_factory=list)  # c_... ids the entry names
    attachments: list[Attachment] = field(default_factory=list)
    gem: Gem | None = None
    products: list[str] = field(default_factory=list)

    @property
    def is_gemini(self) -> bool:
        return self.header.startswith(GEMINI) or any(p.startswith(GEMINI) for p in self.products)


@dataclass(frozen=True)
class Entry:
    """A prompt entry: what becomes a user message and its drafts."""

    key: str
    form: str
    raw: dict[str, Any]
    time: str  # ISO-8601 UTC
    prompt: str
    drafts: tuple[str, ...]
    chat_ids: tuple[str, ...]
    attachments: tuple[Attachment, ...]
    gem: Gem | None

    @property
    def second(self) -> str:
        return self.time[:19]


def normalized(text: str) -> str:
    """A prompt as compared: whitespace runs collapsed, ends stripped."""
    return _SPACE.sub(" ", text).strip()


_EXPORT_SUFFIX = re.compile(r"-[0-9a-f]{16}(?=\.[^.]*$|$)")


def _shown_names(attachments: list[Attachment]) -> set[str]:
    """How the uploads may be named in a prompt line: as shown, and by their export name with
    and without its ``-<16 hex>`` suffix."""
    names = {a.name for a in attachments}
    for a in attachments:
        if a.file:
            names |= {a.file, _EXPORT_SUFFIX.sub("", a.file)}
    return {normalized(n) for n in names if n}


def entry_key(time_iso: str, prompt: str) -> str:
    digest = hashlib.sha256(f"{time_iso[:19]}\n{normalized(prompt)}".encode()).hexdigest()
    return "t_" + digest[:16]


def chat_id_of(url: str) -> str | None:
    """``https://gemini.google.com/app/<id>`` → ``c_<id>``."""
    match = _APP_URL.match(url.strip())
    if match is None:
        return None
    ident = match[1]
    return ident if ident.startswith("c_") else "c_" + ident


def split_title(title: str) -> tuple[str, str | None]:
    """("prompt", the prompt) | ("activity", None) | ("unknown", None)."""
    text = title.replace("\u00a0", " ")
    for verb in PROMPT_VERBS:
        if text == verb or text.rstrip() == verb:
            return "prompt", ""
        if text.startswith(verb + " "):
            return "prompt", text[len(verb) + 1 :]
        if verb.endswith(":") and text.startswith(verb):
            return "prompt", text[len(verb) :].lstrip(" ")
    if any(text.startswith(verb) for verb in ACTIVITY_VERBS):
        return "activity", None
    return "unknown", None


def _texts(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def subtitle_parts(
    subtitles: list[tuple[str, str | None]],
) -> tuple[list[Attachment], Gem | None, list[str]]:
    """(name, url) subtitle lines → uploads, the Gem, and chat ids a line links to. Upload
    lines read ``-  <name>`` with the file's export name as the url."""
    attachments: list[Attachment] = []
    gem: Gem | None = None
    chats: list[str] = []
    for name, url in subtitles:
        label = name.replace("\u00a0", " ").strip()
        used = _GEM_USED.match(label)
        if used:
            gem = Gem(used["name"].strip(), url)
        elif label.startswith("-"):
            shown = label.lstrip("- ").strip()
            is_file = bool(url) and not (url or "").startswith(("http://", "https://"))
            attachments.append(Attachment(shown or (url or ""), url if is_file else None))
        elif url and chat_id_of(url):
            chats.append(chat_id_of(url) or "")
    return attachments, gem, chats


def record_from_json(entry: dict[str, Any]) -> Record:
    """A JSON-form entry (one item of ``MyActivity.json``)."""
    subtitles = [
        (str(s.get("name") or ""), s.get("url") if isinstance(s.get("url"), str) else None)
        for s in _dicts(entry.get("subtitles"))
    ]
    attachments, gem, linked = subtitle_parts(subtitles)
    known = {a.file for a in attachments if a.file}
    for name in [*_texts(entry.get("attachedFiles")), *_texts([entry.get("imageFile")])]:
        if name not in known:
            known.add(name)
            attachments.append(Attachment(name, name))
    chats: list[str] = []
    for detail in _dicts(entry.get("details")):
        for value in (detail.get("url"), detail.get("name")):
            chat = chat_id_of(value) if isinstance(value, str) else None
            if chat and chat not in chats:
                chats.append(chat)
    chats += [c for c in linked if c not in chats]
    time = entry.get("time")
    return Record(
        form="json",
        raw=entry,
        header=str(entry.get("header") or ""),
        title=str(entry.get("title") or ""),
        time_text=time if isinstance(time, str) else None,
        drafts=[str(d["html"]) for d in _dicts(entry.get("safeHtmlItem")) if "html" in d],
        chat_ids=chats,
        attachments=attachments,
        gem=gem,
        products=_texts(entry.get("products")),
    )


def entry_of(record: Record) -> Entry | None:
    """The prompt a Gemini record holds; None for other activity. Raises EntryError for a
    record that cannot be read (an unknown language with an answer, a time not read)."""
    kind, prompt = split_title(record.title)
    if kind == "activity" or (kind == "unknown" and not record.drafts):
        return None
    if kind == "unknown" or prompt is None:
        raise EntryError(
            f"a Gemini entry in a language or layout archiver does not read "
            f"(title starts {record.title[:24]!r})"
        )
    if not record.time_text:
        raise EntryError("a Gemini prompt without a time")
    try:
        time = local_to_utc(record.time_text)
    except TimeFormatError as exc:
        raise EntryError(str(exc)) from None
    # An image-only prompt has no text in the JSON form and the file's name in the HTML one:
    # both are keyed as the empty prompt, so the two forms name the same entry.
    keyed = "" if normalized(prompt) in _shown_names(record.attachments) else prompt
    return Entry(
        key=entry_key(time, keyed),
        form=record.form,
        raw=record.raw,
        time=time,
        prompt=prompt,
        drafts=tuple(record.drafts),
        chat_ids=tuple(record.chat_ids),
        attachments=tuple(record.attachments),
        gem=record.gem,
    )


def activity_time(record: Record) -> str | None:
    """The UTC time of any record, None when it cannot be read."""
    if not record.time_text:
        return None
    try:
        return local_to_utc(record.time_text)
    except TimeFormatError:
        return None


__all__ = [
    "Attachment",
    "Entry",
    "EntryError",
    "Gem",
    "Record",
    "activity_time",
    "chat_id_of",
    "entry_key",
    "entry_of",
    "normalized",
    "record_from_json",
    "split_title",
    "subtitle_parts",
]
