"""Google Gemini (gemini.google.com): live backup over batchexecute, and the Google Takeout
"My Activity → Gemini Apps" import (docs/gemini.md, docs/protocol/gemini.md)."""
