"""ChatGPT's official data export: its layouts (``reader``), the two-process reading and
flattening (``pipeline``), the import (``run``), its other files (``extras``) and how it is
recognised (``detect``)."""
