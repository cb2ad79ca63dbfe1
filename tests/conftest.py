from __future__ import annotations

import sys
from pathlib import Path

# Let tests import `helpers` whatever directory they live in.
sys.path.insert(0, str(Path(__file__).parent))
