"""Any OpenAI-compatible API (OpenAI, Azure OpenAI's v1 API, OpenRouter, Ollama, vLLM, LM
Studio): bulk prompts through Chat Completions, or through the Batch API (Files + Batches).
Send-only: an API keeps no history to back up. Wire facts: docs/protocol/openai.md."""
