"""The database schema as numbered migrations; `PRAGMA user_version` says how many are applied."""

from __future__ import annotations

# Append only: a migration that has shipped is never edited, a new one is added at the end.
# Each runs in one transaction together with the user_version bump.
# Times are TEXT 'YYYY-MM-DDTHH:MM:SSZ' in UTC so that they sort as strings.
MIGRATIONS: tuple[str, ...] = (
    # 1: foundation: sources, articles, chats.
    """
    CREATE TABLE sources (
        name        TEXT PRIMARY KEY,
        title       TEXT NOT NULL DEFAULT '',
        profile     TEXT NOT NULL DEFAULT 'nen',
        created_at  TEXT NOT NULL
    );
    CREATE TABLE articles (
        id            INTEGER PRIMARY KEY,
        url           TEXT NOT NULL UNIQUE,
        title         TEXT NOT NULL,
        published_at  TEXT NOT NULL,
        source        TEXT NOT NULL DEFAULT '',
        editor        TEXT NOT NULL DEFAULT '',
        body          TEXT NOT NULL,
        fetched_at    TEXT NOT NULL,
        content_hash  TEXT NOT NULL,
        source_name   TEXT REFERENCES sources(name) ON DELETE SET NULL
    );
    CREATE INDEX articles_by_date ON articles (published_at DESC, id DESC);
    CREATE INDEX articles_by_hash ON articles (content_hash);
    CREATE TABLE chats (
        id          INTEGER PRIMARY KEY,
        type        TEXT NOT NULL,
        language    TEXT NOT NULL DEFAULT 'zh',
        time_zone   TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        blocked_at  TEXT
    );
    """,
    # 2: ingestion: every URL an article was seen at, richer article fields, per-source health,
    # and list-page validators for conditional GET.
    """
    ALTER TABLE articles ADD COLUMN subtitle TEXT NOT NULL DEFAULT '';
    ALTER TABLE articles ADD COLUMN reporter TEXT NOT NULL DEFAULT '';
    ALTER TABLE articles ADD COLUMN channel  TEXT NOT NULL DEFAULT '';
    ALTER TABLE articles ADD COLUMN related  TEXT NOT NULL DEFAULT '[]';
    CREATE TABLE article_urls (
        url_key     TEXT PRIMARY KEY,
        url         TEXT NOT NULL,
        article_id  INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE
    );
    CREATE INDEX article_urls_by_article ON article_urls (article_id);
    ALTER TABLE sources ADD COLUMN last_success_at      TEXT;
    ALTER TABLE sources ADD COLUMN last_error_at        TEXT;
    ALTER TABLE sources ADD COLUMN last_error           TEXT NOT NULL DEFAULT '';
    ALTER TABLE sources ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sources ADD COLUMN error_count          INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE list_validators (
        url            TEXT PRIMARY KEY,
        etag           TEXT,
        last_modified  TEXT
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
