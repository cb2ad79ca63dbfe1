"""claude.ai's web API (``/api/...``, docs/protocol/claude.md): settings and requests.

``ClaudeClient`` is a thin adapter over the shared HttpClient (one limiter, one retry policy);
what answers mean lives in ``parse.py``. The credential is the browser's ``sessionKey`` cookie
(or the whole Cookie header pasted from the browser): it is sent only to the configured host,
never shown, and error messages name only method and path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote, urljoin, urlsplit

from archiver.backup.client_source import ListEntry
from archiver.config import Secret, pasted_cookie_header
from archiver.errors import NotFoundError, UpstreamError
from archiver.providers.claude import parse
from archiver.providers.claude.options import (
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    PROVIDER,
    SESSION,
    USER_AGENT_ENV,
)
from archiver.providers.claude.parse import (
    ListPage,
    Organization,
    Project,
    decode_claude,
    raise_for_claude,
)
from archiver.settings import EnvHeader, EnvUrl, FromEnvironment, OneSignIn, env_sources
from archiver.transport.base import Response
from archiver.transport.http import HttpClient, judge, streamed
from archiver.transport.request import FIREFOX_USER_AGENT, Request, browser_headers

T = TypeVar("T")

# A current desktop browser: Cloudflare in front of claude.ai challenges clients that do not
# look like one.
DEFAULT_USER_AGENT = FIREFOX_USER_AGENT
TREE_PARAMS = {"tree": "True", "rendering_mode": "messages", "render_all_tools": "true"}
PAGE_SIZE = 50  # what one v2 list page asks for (the web app asks 30; no cap is known)
MAX_PAGES = 10_000  # a server answering has_more forever must not loop us forever
RECHECKS = 3  # first-page re-reads after a walk of several pages (chats written meanwhile)
# The filtered lists walked besides the whole one: whichever way the unfiltered list treats
# archived and starred chats, they are listed.
LIST_FILTERS: dict[str, dict[str, str]] = {
    "all": {},
    "archived": {"archived": "true"},
    "starred": {"starred": "true"},
}


def cookie_header(value: str) -> str:
    """The Cookie header for what the user pasted: the ``sessionKey`` value alone
    (``sk-ant-sid01-...``) or a whole Cookie header (``Cookie:`` prefix allowed)."""
    text = pasted_cookie_header(value)
    if "=" in text and not text.startswith("sk-ant-"):  # a value may end in "=" padding
        return text
    return f"sessionKey={text}"


@dataclass(frozen=True)
class ClaudeSettings(OneSignIn, FromEnvironment):
    # One sign-in; its organizations are walked in one run.
    session: Secret  # as pasted; kept as the Cookie header to send (``cookie_header``)
    base_url: str = DEFAULT_BASE_URL
    user_agent: str = DEFAULT_USER_AGENT

    FROM_ENV = env_sources(
        user_agent=EnvHeader(USER_AGENT_ENV, DEFAULT_USER_AGENT),
        session=SESSION,
        base_url=EnvUrl(BASE_URL_ENV, DEFAULT_BASE_URL),
    )

    def __post_init__(self) -> None:
        # The bare sessionKey value becomes the header; a header stays as it is.
        object.__setattr__(self, "session", Secret(cookie_header(self.session.reveal())))

    def headers(self) -> dict[str, str]:
        return {**browser_headers(self.base_url, self.user_agent), "Cookie": self.session.reveal()}

    def headers_for(self, url: str) -> dict[str, str]:
        """The cookie goes to the configured host only: a file URL elsewhere gets none."""
        if _origin(url) == _origin(self.base_url):
            return self.headers()
        return {"User-Agent": self.user_agent}

    def url(self, path: str) -> str:
        """``/api/<path>`` on the configured host."""
        return f"{self.base_url.rstrip('/')}/api/{path.lstrip('/')}"

    def absolute(self, url: str) -> str:
        """A URL a message names (``/api/{org}/files/...`` is relative to the host)."""
        return urljoin(self.base_url.rstrip("/") + "/", url)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def org_path(org: str, *rest: str) -> str:
    return "/".join(["organizations", quote(org, safe=""), *(quote(r, safe="") for r in rest)])


class ClaudeClient:
    """claude.ai's web API over the shared HttpClient."""

    provider = PROVIDER

    def __init__(self, http: HttpClient, settings: ClaudeSettings):
        self.http = http
        self.settings = settings
        self.last_headers: dict[str, str] = {}  # of the last JSON answer (doctor's clock check)

    async def get_json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return await self.send_json("GET", path, params=params)

    async def send_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> Any:
        request = Request(
            method,
            self.settings.url(path),
            headers=self.settings.headers(),
            params=params,
            json=json,
        )

        async def read(response: Response) -> Any:
            payload = await judge(request, response, decode_claude)
            self.last_headers = response.headers.lowered()
            return payload

        return await self.http.send(request, read)

    async def stream(
        self,
        method: str,
        url: str,
        consume: Callable[[AsyncIterator[bytes]], Awaitable[T]],
        *,
        headers: Mapping[str, str],
        json: Any = None,
    ) -> T:
        """A streamed answer (a file, the completion), judged the claude.ai way."""
        request = Request(method, url, headers=headers, json=json)
        return await self.http.send(request, streamed(request, consume, raise_for_claude))

    # -- reading --------------------------------------------------------------------------

    async def organizations(self) -> list[Organization]:
        return parse.parse_organizations(await self.get_json("organizations"))

    async def list_page(
        self, org: str, offset: int, filters: Mapping[str, str], *, limit: int = PAGE_SIZE
    ) -> ListPage:
        params = {"limit": str(limit), "offset": str(offset), **filters}
        payload = await self.get_json(org_path(org, "chat_conversations_v2"), params)
        return parse.parse_list_page(payload)

    async def list_all(self, org: str, filters: Mapping[str, str]) -> ListPage:
        """Every page of one list, until ``has_more`` is false (or, when the answer does not
        say, until an empty page: a server may cap a page below what was asked). Offset pages
        shift while they are read (a chat written in meanwhile jumps to the front, and a plain
        walk would step over one), so a walk of several pages reads the first page again until
        it shows nothing new. The older ``chat_conversations`` (a bare array of everything)
        answers when the v2 list does not exist; it takes no filters, so a filtered list is
        then empty."""
        try:
            chats, unreadable, pages = await self._walk(org, filters)
        except NotFoundError:
            if filters:
                return ListPage([], [], False, 0)
            page = parse.parse_list_page(await self.get_json(org_path(org, "chat_conversations")))
            return ListPage(page.chats, page.unreadable, False, page.size)
        seen = {chat.conversation_id for chat in chats}
        for _ in range(RECHECKS if pages > 1 else 0):
            fresh = [
                c
                for c in (await self.list_page(org, 0, filters)).chats
                if c.conversation_id not in seen
            ]
            if not fresh:
                break
            chats += fresh
            seen.update(c.conversation_id for c in fresh)
        return ListPage(chats, unreadable, False, len(chats) + len(unreadable))

    async def _walk(
        self, org: str, filters: Mapping[str, str]
    ) -> tuple[list[ListEntry], list[Any], int]:
        chats: list[ListEntry] = []
        unreadable: list[Any] = []
        offset = 0
        for pages in range(1, MAX_PAGES + 1):
            page = await self.list_page(org, offset, filters)
            chats += page.chats
            unreadable += page.unreadable
            offset += page.size
            if page.has_more is False or (page.has_more is None and page.size == 0):
                return chats, unreadable, pages
            if page.size == 0:
                raise UpstreamError(
                    "a claude.ai conversation list said has_more but answered an empty page"
                )
        return chats, unreadable, MAX_PAGES

    async def conversation(self, org: str, uuid: str) -> Any:
        """The whole tree: every branch, thinking and tool blocks rendered."""
        return await self.get_json(org_path(org, "chat_conversations", uuid), TREE_PARAMS)

    async def projects(self, org: str) -> list[Project]:
        return parse.parse_projects(await self.get_json(org_path(org, "projects")))

    async def project_docs(self, org: str, project: str) -> list[dict[str, Any]]:
        return parse.parse_docs(await self.get_json(org_path(org, "projects", project, "docs")))

    # -- writing --------------------------------------------------------------------------

    async def create_conversation(
        self, org: str, uuid: str, *, model: str | None = None, project: str | None = None
    ) -> str:
        body: dict[str, Any] = {
            "uuid": uuid,
            "name": "",
            "include_conversation_preferences": True,
            "is_temporary": False,
        }
        if model:
            body["model"] = model
        if project:
            body["project_uuid"] = project
        try:
            payload = await self.send_json("POST", org_path(org, "chat_conversations"), json=body)
        except UpstreamError as exc:
            if exc.status != 409:
                raise
            return uuid  # a retried create whose first try went through: it is ours
        return parse.created_uuid(payload, uuid)

    async def delete_conversation(self, org: str, uuid: str) -> None:
        """The answer may be empty (204) or JSON: only its status matters."""

        async def drain(chunks: AsyncIterator[bytes]) -> None:
            async for _ in chunks:
                pass

        url = self.settings.url(org_path(org, "chat_conversations", uuid))
        await self.stream("DELETE", url, drain, headers=self.settings.headers())


# An HttpClient(session, limiter, policy) whose 401 message speaks of the session key.
new_claude_http = partial(HttpClient, auth_message=parse.AUTH_REFUSED)


__all__ = [
    "DEFAULT_USER_AGENT",
    "LIST_FILTERS",
    "ClaudeClient",
    "ClaudeSettings",
    "cookie_header",
    "new_claude_http",
    "org_path",
]
