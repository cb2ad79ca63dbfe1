"""Microsoft Copilot (copilot.microsoft.com): backup source, chat socket, batch sender."""
