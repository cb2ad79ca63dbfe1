"""ChatGPT's fake upstream in ``archiver emulator`` (``make demo``, end-to-end tests): the
``backend-api`` REST routes, a 2026 account's sign-in, Projects, files and canvas, sending
(the 2023 route and ``f/conversation`` behind the sentinel), on the shared framework in
``archiver/fakes/``. Knobs: ``config.py``; the mutable world: ``world.py``; generated data:
``generate.py`` and ``turns.py``."""
