"""xAI Grok's data export (``prod-grok-backend.json``): import only."""
