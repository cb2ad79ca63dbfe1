"""Microsoft Copilot's fake upstream in ``archiver emulator`` (``make demo``, end-to-end
tests): the conversation list, history, create, delete, rename and pin (``routes.py``) and the
chat socket (``chat_socket.py``), on the shared framework in ``archiver/fakes/``. Knobs:
``config.py``; the mutable world: ``world.py``; generated data: ``generate.py``."""
