"""``POST f/conversation``: today's web app send (docs/protocol/chatgpt.md, "Sending a prompt,
2025-2026"). The sentinel's tokens are checked (emulator/sentinel.py), then the turn is stored
like the 2023 route stores it and streamed in the 2026 flavour of the delta encoding: the user
echo and the answer on channels of their own (``c``), metadata merged with ``append`` on an
object, and the side frames a client must ignore."""

from __future__ import annotations

from aiohttp import web

from archiver.providers.chatgpt.fake.sentinel import refusal
from archiver.providers.chatgpt.fake.stream import (
    PARTS,
    Turn,
    add_frame,
    answer_skeleton,
    closing_patch,
    first_token_marker,
    send_turn,
    sse,
    title_frames,
)
from archiver.providers.chatgpt.fake.world import world_of


async def post_f_conversation(request: web.Request) -> web.StreamResponse:
    world = world_of(request)
    if world.config.send_paths == "legacy":
        return web.json_response({"detail": "Not Found"}, status=404)
    refused = refusal(request, world)
    if refused is not None:
        return refused
    return await send_turn(request, lambda _req, turn: frames_2026(turn))


def frames_2026(turn: Turn) -> list[bytes]:
    cid, echoes, answer, chunks = turn.rec.id, turn.echoes, turn.answer, turn.chunks
    model = answer["metadata"]["model_slug"]
    frames = [
        sse('"v1"', "delta_encoding"),
        sse({"type": "resume_conversation_token", "token": "resume-" + cid[:8], "kind": "x"}),
    ]
    user = echoes[-1] if echoes else None
    # Channel 0: the user's message (and, for a new chat, the hidden system message first).
    frames.extend(add_frame(cid, message, 0) for message in echoes)
    if user is not None:
        frames.append(sse({"type": "input_message", "input_message": user, "conversation_id": cid}))
    # Channel 1: the answer, built up from a skeleton.
    frames.append(add_frame(cid, answer_skeleton(answer), 1, error=None))
    frames.append(
        sse(
            {
                "type": "server_ste_metadata",
                "metadata": {"model_slug": model, "resolved_model_slug": f"{model}-2026-01"},
                "conversation_id": cid,
            }
        )
    )
    frames.append(first_token_marker(cid, answer))
    frames.append(sse({"p": PARTS, "o": "append", "v": chunks[0], "c": 1}, "delta"))
    middle = chunks[1:-1]
    for i, chunk in enumerate(middle):
        if i == len(middle) // 2:
            # A note on the user's channel mid-answer: the next text names its channel again.
            note = {"p": "/message/metadata", "o": "append", "v": {"seen": True}, "c": 0}
            frames.append(sse(note, "delta"))
            frames.append(sse({"p": PARTS, "o": "append", "v": chunk, "c": 1}, "delta"))
        else:
            frames.append(sse({"v": chunk}, "delta"))
    patch = closing_patch(answer, chunks)
    frames.append(sse({"p": "", "o": "patch", "v": patch, "c": 1}, "delta"))
    frames.append(sse({"type": "url_moderation", "url_moderation_result": {"safe_urls": []}}))
    frames.extend(title_frames(turn))
    frames.append(
        sse(
            {
                "type": "conversation_detail_metadata",
                "banner_info": None,
                "conversation_id": cid,
                "model_limits": [],
            }
        )
    )
    frames.append(sse({"type": "stream_handoff", "conversation_id": cid, "options": []}))
    frames.append(sse({"type": "message_stream_complete", "conversation_id": cid}))
    frames.append(sse("[DONE]"))
    return frames


def add_routes(app: web.Application) -> None:
    from archiver.providers.chatgpt.fake import sentinel

    sentinel.add_routes(app)
    app.router.add_post("/backend-api/f/conversation", post_f_conversation)
