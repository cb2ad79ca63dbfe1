"""DeepSeek's data export (its ``conversations.json``): import only."""
