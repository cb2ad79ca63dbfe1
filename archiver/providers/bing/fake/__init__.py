"""Bing chat's fake upstream in ``archiver emulator`` (``make demo``, end-to-end tests): the
REST routes (create, saved chats, GetConversation, delete) and the Sydney ChatHub websocket,
on the shared framework in ``archiver/fakes/``. Knobs: ``config.py``; the mutable world:
``world.py``; generated data: ``generate.py``."""
