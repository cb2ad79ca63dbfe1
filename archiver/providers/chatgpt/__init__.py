"""ChatGPT's web ``backend-api`` and its official data export."""
