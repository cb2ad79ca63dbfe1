"""Takeouts written for the tests from the documented shapes (docs/protocol/gemini.md, §6):
the JSON form's entries and the HTML form's cells, from one list of prompts, so both forms of
one export hold the same entries. Nothing here calls the package under test."""

from __future__ import annotations

import html
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FOLDER = "Takeout/My Activity/Gemini Apps"
APP = "https://gemini.google.com/app/"
CHAT_A = "0a1b2c3d4e5f6a7b"
CHAT_B = "b0b1b2b3b4b5b6b7"
CHAT_C = "c0c1c2c3c4c5c6c7"
CHAT_D = "d0d1d2d3d4d5d6d7"
PHOTO = "photo_a1b2c3-0f1e2d3c4b5a6978.png"
PHOTO_BYTES = b"\x89PNG\r\n\x1a\n photo bytes"
CAT = "IMG_0001-aa11bb22cc33dd44.jpg"
CAT_BYTES = b"\xff\xd8\xff cat bytes"
GEM_URL = "https://gemini.google.com/gem/1a2b3c4d5e6f"
US_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
GB_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec"]


def utc(*parts: int, ms: int = 0) -> datetime:
    return datetime(*parts, tzinfo=UTC) + timedelta(milliseconds=ms)  # type: ignore[arg-type,misc]


@dataclass
class Prompt:
    time: datetime
    prompt: str
    drafts: list[str]
    chats: list[str] = field(default_factory=list)  # 16-hex ids the entry's details name
    files: list[tuple[str, str]] = field(default_factory=list)  # (shown name, export name)
    image_file: str | None = None
    gem: tuple[str, str] | None = None  # (name, url)
    header: str = "Gemini Apps"
    shown_prompt: str | None = None  # what the HTML form writes instead (an image-only prompt)


@dataclass
class Activity:
    time: datetime
    title: str
    chats: list[str] = field(default_factory=list)
    html: str | None = None


PROMPTS = [
    Prompt(
        utc(2026, 8, 8, 10, 0, 0, ms=123),
        "What is a stromatolite?",
        ["<p>A layered rock built by <strong>cyanobacteria</strong>.</p>"],
        [CHAT_A],
    ),
    Prompt(
        utc(2026, 8, 8, 10, 5, 30, ms=456),
        "And where are they?\nList three places.",
        ["<p>Shark Bay.</p>", "<ul>\n<li>Shark Bay</li>\n<li>Lake Thetis</li>\n</ul>"],
        [CHAT_A],
    ),
    Prompt(
        utc(2026, 8, 8, 10, 7, 10),
        "Describe this photo",
        ["<p>A beach at dusk.</p>"],
        [CHAT_A],
        files=[("photo.png", PHOTO)],
        image_file=PHOTO,
    ),
    # Same second as the one before (times are not unique in real exports).
    Prompt(utc(2026, 8, 8, 10, 7, 10, ms=500), "And this one?", ["<p>A harbour.</p>"], [CHAT_A]),
    Prompt(
        utc(2026, 8, 9, 8, 0, 0, ms=1),
        "Quiz me on French verbs",
        ["<p>Conjugate <em>être</em>.</p>"],
        [CHAT_B],
        gem=("Tutor", GEM_URL),
    ),
    Prompt(
        utc(2026, 8, 9, 8, 2, 0),
        "",
        ["<p>A cat on a sofa.</p>"],
        [CHAT_B],
        files=[("IMG_0001.jpg", CAT)],
        image_file=CAT,
        shown_prompt="IMG_0001.jpg",
    ),
    Prompt(
        utc(2026, 8, 9, 8, 3, 0),
        "Is 3 < 5 && \"x\" > 'y'? 🙂",
        ["<p>Yes &amp; no: <code>3 &lt; 5</code></p>"],
        [CHAT_B],
    ),
    Prompt(utc(2026, 8, 10, 9, 0, 0), "Branch this idea", ["<p>Branched.</p>"], [CHAT_C, CHAT_A]),
    Prompt(
        utc(2026, 8, 10, 19, 30, 0),
        "Remind me of the recipe",
        ["<p>Flour, water, salt.</p>"],
        [CHAT_D],
        header="Gemini in Google Messages",
    ),
    # An older export names no chat: grouped by time.
    Prompt(utc(2025, 3, 1, 9, 0, 0, ms=250), "Old question one", ["<p>Old answer one.</p>"]),
    Prompt(utc(2025, 3, 1, 9, 12, 0), "Old question two", ["<p>Old answer two.</p>"]),
    Prompt(utc(2025, 3, 1, 12, 0, 0), "Much later question", ["<p>Later answer.</p>"]),
]
ACTIVITY = [
    Activity(utc(2026, 8, 8, 10, 1, 0), "Gave feedback: Good response", [CHAT_A]),
    Activity(utc(2026, 8, 8, 10, 6, 0), "Selected preferred draft", [CHAT_A]),
    Activity(utc(2026, 8, 9, 8, 10, 0), "Created a canvas: Trip plan", [CHAT_B], "<h1>Trip</h1>"),
    Activity(utc(2026, 8, 11, 7, 0, 0), "Used Deep Research"),
]
FILES = {PHOTO: PHOTO_BYTES, CAT: CAT_BYTES}


def details(chats: list[str]) -> list[dict[str, str]]:
    return [{"name": APP + c, "url": APP + c} for c in chats]


def json_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def prompt_json(p: Prompt) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "header": p.header,
        "title": f"Prompted {p.prompt}",
        "time": json_time(p.time),
        "products": ["Gemini Apps"],
        "activityControls": ["Gemini Apps Activity"],
    }
    if p.drafts:
        entry["safeHtmlItem"] = [{"html": d} for d in p.drafts]
    if p.chats:
        entry["details"] = details(p.chats)
    subtitles: list[dict[str, str]] = []
    if p.gem:
        subtitles.append(
            {"name": f"{p.gem[0]} was used in this chat. Manage your Gems.", "url": p.gem[1]}
        )
    if p.files:
        subtitles.append(
            {"name": f"Attached {len(p.files)} file{'s' if len(p.files) > 1 else ''}."}
        )
        subtitles += [{"name": f"-  {shown}", "url": name} for shown, name in p.files]
    if subtitles:
        entry["subtitles"] = subtitles
    if p.image_file:
        entry["imageFile"] = p.image_file
    return entry


def activity_json(a: Activity) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "header": "Gemini Apps",
        "title": a.title,
        "time": json_time(a.time),
        "products": ["Gemini Apps"],
        "activityControls": ["Gemini Apps Activity"],
    }
    if a.chats:
        entry["details"] = details(a.chats)
    if a.html:
        entry["safeHtmlItem"] = [{"html": a.html}]
    return entry


def us_time(when: datetime, zone: str = "CEST", hours: int = 2) -> str:
    local = when + timedelta(hours=hours)
    hour = local.hour % 12 or 12
    ampm = "AM" if local.hour < 12 else "PM"
    return (
        f"{US_MONTHS[local.month - 1]} {local.day}, {local.year}, "
        f"{hour}:{local.minute:02d}:{local.second:02d} {ampm} {zone}"
    )


def gb_time(when: datetime, zone: str = "BST", hours: int = 1) -> str:
    local = when + timedelta(hours=hours)
    return (
        f"{local.day} {GB_MONTHS[local.month - 1]} {local.year}, "
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d} {zone}"
    )


def cell(header: str, body: str, right: str = "", chats: list[str] | None = None) -> str:
    caption = "<b>Products:</b><br>&emsp;Gemini Apps<br>"
    for c in chats or []:
        caption += f'<b>Details:</b><br>&emsp;{APP}{c}: <a href="{APP}{c}">{APP}{c}</a><br>'
    caption += (
        "<b>Why is this here?</b><br>&emsp;This activity was saved to your Google Account "
        "because the following settings were on:&nbsp;Gemini Apps Activity.&nbsp;You can "
        'control these settings &nbsp;<a href="https://myaccount.google.com/activitycontrols">'
        "here</a>.</div>"
    )
    return (
        '<div class="outer-cell mdl-cell mdl-cell--12-col mdl-shadow--2dp"><div class="mdl-grid">'
        '<div class="header-cell mdl-cell mdl-cell--12-col"><p class="mdl-typography--title">'
        f"{html.escape(header)}<br></p></div>"
        f'<div class="content-cell mdl-cell mdl-cell--6-col mdl-typography--body-1">{body}</div>'
        '<div class="content-cell mdl-cell mdl-cell--6-col mdl-typography--body-1 '
        f'mdl-typography--text-right">{right}</div>'
        f'<div class="content-cell mdl-cell mdl-cell--12-col mdl-typography--caption">{caption}'
        "</div></div>"
    )


def prompt_cell(p: Prompt, clock: Any = us_time) -> str:
    lines = [f"Prompted {html.escape(p.shown_prompt or p.prompt)}"]
    if p.gem:
        lines.append(
            f'{p.gem[0]} was used in this chat. <a href="{p.gem[1]}">Manage your Gems</a>.'
        )
    if p.files:
        lines.append(f"Attached {len(p.files)} file{'s' if len(p.files) > 1 else ''}.")
        lines += [f'-  <a href="{name}">{html.escape(shown)}</a>' for shown, name in p.files]
    lines.append(clock(p.time))
    # The HTML form cannot tell drafts apart: all of them, one after the other.
    body = "<br>".join(lines) + "<br>" + "\n".join(p.drafts) + "<br>"
    right = "".join(f'<img src="{n}" class="image-preview">' for _, n in p.files)
    return cell(p.header, body, right, p.chats)


def activity_cell(a: Activity, clock: Any = us_time) -> str:
    body = f"{html.escape(a.title)}<br>{clock(a.time)}<br>{a.html or ''}<br>"
    return cell("Gemini Apps", body, "", a.chats)


def page(cells: list[str]) -> str:
    return (
        '<html><head><title>My Activity History</title><style type="text/css">'
        ".image-preview {width:72px;height:72px;}</style></head><body>"
        f'<div class="mdl-grid">{"".join(cells)}</div></body></html>'
    )


def newest_first(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda x: x.time, reverse=True)


def json_activity(prompts: list[Prompt] = PROMPTS, activity: list[Activity] = ACTIVITY) -> bytes:
    entries = [
        prompt_json(x) if isinstance(x, Prompt) else activity_json(x)
        for x in newest_first([*prompts, *activity])
    ]
    return json.dumps(entries, ensure_ascii=False, indent=2).encode()


def html_activity(
    prompts: list[Prompt] = PROMPTS, activity: list[Activity] = ACTIVITY, clock: Any = us_time
) -> bytes:
    cells = [
        prompt_cell(x, clock) if isinstance(x, Prompt) else activity_cell(x, clock)
        for x in newest_first([*prompts, *activity])
    ]
    return page(cells).encode()


OTHER_PRODUCTS = {
    "Takeout/My Activity/Search/MyActivity.json": json.dumps(
        [
            {
                "header": "Search",
                "title": "Searched for gemini recipes",
                "time": "2026-08-01T10:00:00.000Z",
                "products": ["Search"],
            },
            {
                "header": "Search",
                "title": "Visited Gemini - Google",
                "time": "2026-08-01T10:01:00.000Z",
                "products": ["Search"],
            },
        ]
    ).encode(),
    "Takeout/My Activity/YouTube/MyActivity.json": json.dumps(
        [
            {
                "header": "YouTube",
                "title": "Watched a video",
                "time": "2026-08-02T10:00:00.000Z",
                "products": ["YouTube"],
            }
        ]
    ).encode(),
    "Takeout/archive_browser.html": b"<html><body>Archive</body></html>",
}


def takeout_members(form: str = "json", **kwargs: Any) -> dict[str, bytes]:
    activity = json_activity(**kwargs) if form == "json" else html_activity(**kwargs)
    members = {f"{FOLDER}/MyActivity.{form}": activity, **OTHER_PRODUCTS}
    members.update({f"{FOLDER}/{name}": data for name, data in FILES.items()})
    return members


def write_folder(root: Path, members: dict[str, bytes]) -> Path:
    for name, data in members.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path
