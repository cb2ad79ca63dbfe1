-- The one schema of the archive. Each "-- migration: N name" section is applied once, in
-- order, inside a transaction, and recorded in _migrations; never edit a released section,
-- append a new one. Times are ISO-8601 UTC text ending in Z; JSON columns hold text.

-- migration: 1 core archive
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,                -- upstream id (ChatGPT uuid, Bing conversationId)
    provider TEXT NOT NULL,             -- 'chatgpt' | 'bing'
    account TEXT NOT NULL DEFAULT '',   -- workspace / account id when known ('' otherwise)
    title TEXT,
    create_time TEXT,
    update_time TEXT,
    list_update_time TEXT,              -- update_time as the upstream *list* showed it (sync key)
    current_node TEXT,                  -- node id of the branch the user last saw
    is_archived INTEGER,
    default_model_slug TEXT,
    gizmo_id TEXT,
    node_count INTEGER,
    source TEXT NOT NULL,               -- 'api' | 'export' | 'batch'
    content_hash TEXT,                  -- sha256 of the raw upstream object: unchanged => skipped
    flattener_version INTEGER,          -- re-derive rows when the flattener improves
    raw_json TEXT,                      -- the upstream object without its mapping / messages
    first_seen_at TEXT NOT NULL,
    archived_at TEXT NOT NULL,          -- when this archive last wrote the conversation
    deleted_upstream_at TEXT            -- set when upstream no longer has it; never deleted here
);
CREATE INDEX conversations_provider_update ON conversations (provider, update_time);

CREATE TABLE messages (
    -- An explicit rowid alias: VACUUM keeps it, so the external-content FTS index stays valid.
    pk INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    id TEXT NOT NULL,                   -- node id: unique only within its conversation
    message_id TEXT,                    -- the message's own id (can differ from the node id)
    parent_id TEXT,                     -- as upstream said, even when it names a missing node
    children TEXT,                      -- JSON list of child node ids as received (tree order)
    position INTEGER,                   -- index among the parent's children
    depth INTEGER,                      -- 0 for a root
    on_current_branch INTEGER NOT NULL DEFAULT 0,
    role TEXT,                          -- user | assistant | system | tool; NULL for a root
    author_name TEXT,
    recipient TEXT,
    channel TEXT,
    content_type TEXT,
    text TEXT,                          -- searchable text derived from the content
    model_slug TEXT,
    status TEXT,
    create_time TEXT,
    is_hidden INTEGER NOT NULL DEFAULT 0,
    raw_json TEXT,                      -- the node's message exactly as received
    deleted_upstream_at TEXT,
    UNIQUE (conversation_id, id)
);
CREATE INDEX messages_create_time ON messages (create_time);
CREATE INDEX messages_role ON messages (role);

-- Full-text index over message text, in the form sqlite-utils' enable_fts(create_triggers=True)
-- makes, so sqlite-utils and datasette recognise it; updates re-index only when text changes.
CREATE VIRTUAL TABLE [messages_fts] USING FTS5 ([text], content=[messages]);
CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER messages_au AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;

-- High-water marks per upstream list, advanced only after the data they cover is committed.
CREATE TABLE sync_state (
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    base_url TEXT NOT NULL,
    feed TEXT NOT NULL,                 -- 'conversations' | 'archived' | 'chats' | ...
    high_water TEXT,                    -- newest list update_time fully archived
    last_run_at TEXT,
    last_full_at TEXT,                  -- last complete reconcile (--full)
    PRIMARY KEY (provider, account, base_url, feed)
);

-- Items that could not be fetched; retried by later runs, resolved when they succeed.
CREATE TABLE fetch_errors (
    provider TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    status INTEGER,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    resolved_at TEXT,
    PRIMARY KEY (provider, conversation_id)
);

-- Files that belong to messages (export zips, asset pointers).
CREATE TABLE attachments (
    conversation_id TEXT NOT NULL,
    message_node_id TEXT NOT NULL,
    asset_pointer TEXT NOT NULL,        -- file-service://file-..., sediment://..., or an attachment id
    file_name TEXT,                     -- the file's name inside the export, when found
    mime_type TEXT,
    size_bytes INTEGER,
    extracted_path TEXT,
    PRIMARY KEY (conversation_id, message_node_id, asset_pointer)
);

-- Batch prompt runs: one row per run, one item per (provider, model, row key, prompt).
CREATE TABLE batch_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    model TEXT,
    csv_path TEXT NOT NULL,
    csv_sha256 TEXT NOT NULL,
    options_json TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL                -- running | done | partial | failed | interrupted
);

CREATE TABLE batch_items (
    provider TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    item_key TEXT NOT NULL,             -- the CSV id column, or derived from the row
    prompt_hash TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES batch_runs (id),   -- the run that last touched it
    row_number INTEGER NOT NULL,        -- 1-based data row in the CSV (input order)
    thread TEXT,
    prompt TEXT NOT NULL,
    status TEXT NOT NULL,               -- pending | running | done | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    answer TEXT,
    conversation_id TEXT,
    message_id TEXT,
    error TEXT,
    latency_ms INTEGER,
    throttling_json TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    PRIMARY KEY (provider, model, item_key, prompt_hash)
);
CREATE INDEX batch_items_run ON batch_items (run_id, row_number);

-- Scheduled/CLI runs and the cool-downs they learnt from upstream throttling.
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,                  -- job file name, or the command for ad-hoc runs
    kind TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,               -- running | ok | partial | failed
    exit_code INTEGER,
    counts_json TEXT,
    error TEXT
);

CREATE TABLE cooldowns (
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    until TEXT NOT NULL,                -- do not call this account before this time
    reason TEXT,
    set_at TEXT NOT NULL,
    PRIMARY KEY (provider, account)
);

-- The account side: what the account endpoints answered, shared links, export requests.
CREATE TABLE account_snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    taken_at TEXT NOT NULL,
    status INTEGER,
    raw_json TEXT
);

CREATE TABLE shared_links (
    id TEXT PRIMARY KEY,
    conversation_id TEXT,
    title TEXT,
    create_time TEXT,
    update_time TEXT,
    is_anonymous INTEGER,
    raw_json TEXT,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    deleted_upstream_at TEXT
);

CREATE TABLE export_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    status TEXT,
    raw_json TEXT
);

-- migration: 2 views
-- The branch each conversation shows its user, root first: visible messages only (no empty
-- roots, no hidden system or custom-instruction nodes). `depth` orders it; for ChatGPT it is the
-- path from the root to current_node (never ordered by time: times are not monotonic).
CREATE VIEW current_branch AS
SELECT
    m.conversation_id,
    c.provider,
    c.title AS conversation_title,
    m.depth,
    m.id AS node_id,
    m.message_id,
    m.role,
    m.author_name,
    m.content_type,
    m.model_slug,
    m.create_time,
    m.text
FROM messages AS m
JOIN conversations AS c ON c.id = m.conversation_id
WHERE m.on_current_branch = 1 AND m.is_hidden = 0 AND m.raw_json IS NOT NULL
ORDER BY m.conversation_id, m.depth, m.position;

-- One row per conversation: visible messages over every branch, approximate word counts
-- (whitespace-separated), the models that answered, the first and last message times.
CREATE VIEW conversation_stats AS
SELECT
    c.id AS conversation_id,
    c.provider,
    c.account,
    c.title,
    c.create_time,
    c.update_time,
    count(m.id) AS messages,
    coalesce(sum(m.on_current_branch), 0) AS current_branch_messages,
    coalesce(sum(m.role = 'user'), 0) AS user_messages,
    coalesce(sum(m.role = 'assistant'), 0) AS assistant_messages,
    coalesce(sum(
        CASE WHEN m.text IS NULL OR trim(m.text) = '' THEN 0 ELSE
            length(trim(replace(replace(replace(m.text, char(10), ' '), char(13), ' '), char(9), ' ')))
            - length(replace(trim(replace(replace(replace(m.text, char(10), ' '), char(13), ' '), char(9), ' ')), ' ', ''))
            + 1
        END
    ), 0) AS words,
    group_concat(DISTINCT m.model_slug) AS models,
    min(m.create_time) AS first_message_at,
    max(m.create_time) AS last_message_at
FROM conversations AS c
LEFT JOIN messages AS m
    ON m.conversation_id = c.id AND m.is_hidden = 0 AND m.raw_json IS NOT NULL
GROUP BY c.id;

-- migration: 3 account tools
-- Why a snapshot or an export request failed (status alone cannot say "connection refused"),
-- and which account a shared link belongs to (links missing from one account's list must not
-- mark another account's links as deleted).
ALTER TABLE account_snapshots ADD COLUMN error TEXT;
ALTER TABLE export_requests ADD COLUMN error TEXT;
ALTER TABLE shared_links ADD COLUMN account TEXT NOT NULL DEFAULT '';
CREATE INDEX account_snapshots_endpoint ON account_snapshots (provider, account, endpoint, taken_at);
CREATE INDEX shared_links_conversation ON shared_links (conversation_id);

-- migration: 4 chatgpt 2026 files projects canvas
-- Files a message points at, downloaded into the content-addressed store beside the database
-- (<db>.files/<sha256[:2]>/<sha256>); file_name, mime_type and size_bytes already exist.
-- download_status: NULL (not tried yet) | 'stored' | 'gone' (upstream 404: not retried nightly)
-- | 'failed' (retried by later runs) | 'too_large' (over --max-file-mb) | 'skipped'.
ALTER TABLE attachments ADD COLUMN sha256 TEXT;
ALTER TABLE attachments ADD COLUMN download_status TEXT;
ALTER TABLE attachments ADD COLUMN downloaded_at TEXT;
ALTER TABLE attachments ADD COLUMN download_error TEXT;
CREATE INDEX attachments_sha256 ON attachments (sha256);
CREATE INDEX attachments_download_status ON attachments (download_status);

-- Canvas documents (conversation/{id}/textdocs, or an export's), every version kept.
CREATE TABLE textdocs (
    conversation_id TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    title TEXT,
    textdoc_type TEXT,                  -- 'document' | 'code/python' | ...
    content TEXT,
    updated_at TEXT,
    raw_json TEXT,
    first_seen_at TEXT NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX textdocs_conversation ON textdocs (conversation_id);

-- ChatGPT Projects ("snorlax" gizmos, ids g-p-...); conversations.gizmo_id points here.
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL DEFAULT 'chatgpt',
    account TEXT NOT NULL DEFAULT '',
    name TEXT,
    description TEXT,
    emoji TEXT,
    raw_json TEXT,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    deleted_upstream_at TEXT
);
CREATE INDEX conversations_gizmo ON conversations (gizmo_id);

-- Per-account client state that is not a secret (the browser-like oai-device-id, ...).
CREATE TABLE account_state (
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (provider, account, key)
);

-- The model that actually answered (metadata.resolved_model_slug: "auto" resolves to one);
-- a view, so every flattener and the import keep their row shape.
CREATE VIEW message_models AS
SELECT conversation_id, id AS node_id, model_slug,
    json_extract(raw_json, '$.metadata.resolved_model_slug') AS resolved_model_slug
FROM messages
WHERE raw_json IS NOT NULL AND json_valid(raw_json);

-- Citations of web sources, from both forms: metadata.citations[].metadata and the 2025+
-- metadata.content_references[].items[] (whose markers wrap the text in U+E200..U+E204).
CREATE VIEW message_citations AS
SELECT m.conversation_id, m.id AS node_id, 'citation' AS kind,
    json_extract(c.value, '$.metadata.title') AS title,
    json_extract(c.value, '$.metadata.url') AS url,
    json_extract(c.value, '$.start_ix') AS start_index,
    json_extract(c.value, '$.end_ix') AS end_index
FROM messages AS m, json_each(m.raw_json, '$.metadata.citations') AS c
WHERE m.raw_json LIKE '%"citations"%' AND json_valid(m.raw_json) AND json_type(c.value) = 'object'
UNION ALL
SELECT m.conversation_id, m.id AS node_id, json_extract(r.value, '$.type') AS kind,
    json_extract(i.value, '$.title') AS title,
    json_extract(i.value, '$.url') AS url,
    json_extract(r.value, '$.start_idx') AS start_index,
    json_extract(r.value, '$.end_idx') AS end_index
FROM messages AS m, json_each(m.raw_json, '$.metadata.content_references') AS r,
    json_each(r.value, '$.items') AS i
WHERE m.raw_json LIKE '%"content_references"%' AND json_valid(m.raw_json) AND json_type(r.value) = 'object'
    AND json_type(i.value) = 'object' AND json_extract(i.value, '$.url') IS NOT NULL;

-- migration: 5 gateway
-- `archiver serve`: API keys (only a sha256 of each key is stored; the key itself is shown once)
-- and one row per exchange that passed through the gateway, naming the key that asked. The
-- conversations themselves land in conversations/messages with source = 'gateway'.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    key_sha256 TEXT NOT NULL UNIQUE,    -- hex sha256 of the key (256 random bits: no salt needed)
    is_admin INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT                     -- revoked keys stay listed, never accepted again
);
CREATE TABLE gateway_exchanges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id INTEGER REFERENCES api_keys (id),  -- NULL: the loopback viewer, no key
    route TEXT NOT NULL,                -- 'openai' | 'seed004' | 'seed000'
    provider TEXT NOT NULL,
    model TEXT,
    conversation_id TEXT,
    message_id TEXT,
    prompt TEXT NOT NULL,
    answer TEXT,
    status TEXT NOT NULL,               -- 'running' | 'done' | 'failed'
    error TEXT,
    client_gone INTEGER NOT NULL DEFAULT 0,  -- the client left before the answer; kept anyway
    requests INTEGER NOT NULL DEFAULT 0,
    latency_ms INTEGER,
    started_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX gateway_exchanges_conversation ON gateway_exchanges (conversation_id);
CREATE INDEX gateway_exchanges_key ON gateway_exchanges (key_id, started_at);

-- migration: 6 export extras and bulk index
-- The export's other files, kept whole: every JSON file that is not a conversations file
-- (user.json, user_settings.json, message_feedback.json, shared_conversations.json,
-- model_comparisons.json, group_chats.json, shopping.json, sora.json, textdocs/..., the
-- manifests), one row per name and content (sha256). chat.html (a rendering of the same data,
-- often 100 MB+) is recorded by name and size only: sha256 '' and no content.
CREATE TABLE export_files (
    name TEXT NOT NULL,                 -- the member's path inside the export
    sha256 TEXT NOT NULL,               -- of the bytes; '' when not hashed (chat.html)
    size_bytes INTEGER NOT NULL,
    kind TEXT NOT NULL,                 -- 'json' | 'html' | 'text' (a textdocs/ file) | 'invalid'
                                        -- (not JSON) | 'too_large' (error says why)
    content TEXT,                       -- the text as the export has it (json, text)
    error TEXT,
    first_seen_at TEXT NOT NULL,        -- the first import that brought this version
    PRIMARY KEY (name, sha256, size_bytes)
);

-- Thumbs up/down the user gave (message_feedback.json), linked to the archived message:
-- node_id is the messages.id whose id or message_id the feedback names, when archived.
CREATE TABLE message_feedback (
    id TEXT PRIMARY KEY,
    conversation_id TEXT,
    message_id TEXT,                    -- as the export names it
    node_id TEXT,                       -- messages.id in conversation_id, when found
    rating TEXT,                        -- 'thumbsUp' | 'thumbsDown' | ...
    text TEXT,                          -- what the user wrote, when any
    create_time TEXT,
    raw_json TEXT,
    first_seen_at TEXT NOT NULL
);
CREATE INDEX message_feedback_message ON message_feedback (conversation_id, node_id);

-- Bulk imports fill the full-text index once, after loading, instead of row by row. While a
-- row is here, messages with pk > since_pk are not indexed yet and the triggers leave them
-- alone; the import that wrote the row indexes them and deletes it in one transaction. A row
-- left by a crash is finished by the next run that writes (archiver.store.fts).
CREATE TABLE messages_fts_pending (
    since_pk INTEGER NOT NULL
);
DROP TRIGGER messages_ai;
DROP TRIGGER messages_ad;
DROP TRIGGER messages_au;
CREATE TRIGGER messages_ai AFTER INSERT ON messages
WHEN new.pk <= coalesce((SELECT min(since_pk) FROM messages_fts_pending), new.pk) BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER messages_ad AFTER DELETE ON messages
WHEN old.pk <= coalesce((SELECT min(since_pk) FROM messages_fts_pending), old.pk) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER messages_au AFTER UPDATE OF text ON messages
WHEN old.pk <= coalesce((SELECT min(since_pk) FROM messages_fts_pending), old.pk) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;

-- migration: 7 batch usage and provider batches
-- What an API's answer says beside its text (chat accounts leave these NULL): the tokens it
-- was billed for, the model that actually answered (the snapshot of the one asked) and why it
-- stopped; and the row's system instruction (the CSV's `system` column), sent before it.
ALTER TABLE batch_items ADD COLUMN prompt_tokens INTEGER;
ALTER TABLE batch_items ADD COLUMN completion_tokens INTEGER;
ALTER TABLE batch_items ADD COLUMN answer_model TEXT;
ALTER TABLE batch_items ADD COLUMN finish_reason TEXT;
ALTER TABLE batch_items ADD COLUMN system TEXT;

-- Provider-side batches (`archiver batch --batch-api`): many rows submitted at once and
-- answered within hours. Each id is stored the moment the server names it, so a run killed at
-- any point finds its batch again instead of uploading or submitting twice.
CREATE TABLE remote_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    account TEXT NOT NULL,              -- the server it lives on: collected only from there
    run_id INTEGER NOT NULL REFERENCES batch_runs (id),   -- the run that submitted it
    model TEXT NOT NULL,
    requests INTEGER NOT NULL,          -- rows in it
    input_bytes INTEGER,
    input_file_id TEXT,                 -- the uploaded input, once the server named it
    batch_id TEXT,                      -- the batch upstream, once it exists
    status TEXT NOT NULL,               -- 'preparing' (nothing named upstream yet), then the
                                        -- upstream's (validating, in_progress, finalizing,
                                        -- completed, failed, expired, cancelling, cancelled),
                                        -- then 'collected', or 'abandoned' (never submitted)
    counts_json TEXT,                   -- the latest request counts
    errors_json TEXT,                   -- why the server refused it, when it did
    raw_json TEXT,                      -- the latest batch object as received
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    collected_at TEXT
);
CREATE INDEX remote_batches_status ON remote_batches (provider, status);
-- A row 'submitted' waits in this provider-side batch; it is never sent again while it waits.
ALTER TABLE batch_items ADD COLUMN remote_batch INTEGER REFERENCES remote_batches (id);
CREATE INDEX batch_items_remote_batch ON batch_items (remote_batch);

-- migration: 8 gateway route names
-- gateway_exchanges.route names the route family an exchange came through: 'chat_completions'
-- (/v1/chat/completions), 'seed004' or 'seed000'. The first was called 'openai', which is now
-- also a provider's name (the OpenAI-compatible APIs): renamed so that the two never mix.
UPDATE gateway_exchanges SET route = 'chat_completions' WHERE route = 'openai';
