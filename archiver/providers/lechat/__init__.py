"""Mistral Le Chat's chat export (``chat-<uuid>.json`` files): import only."""
