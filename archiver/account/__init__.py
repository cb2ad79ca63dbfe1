"""The account side of ChatGPT around the archive: doctor, account snapshots, shared-link
audit, titles and export requests. Parsing lives in ``archiver.providers.chatgpt.account_parse``;
these modules do the I/O (through the shared HttpClient) and the SQLite writes."""
