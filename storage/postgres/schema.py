"""The PostgreSQL schema as numbered migrations; the table schema_migrations says which ran.

Tables and columns are the SQLite schema's (storage/sqlite/schema.py: PostgreSQL's 1 is
SQLite's 1-5, its 2 is SQLite's 6), so an operator queries either database the same way.
Times stay TEXT 'YYYY-MM-DDTHH:MM:SSZ' and
flags stay INTEGER 0/1, as on SQLite, so rows copy across unchanged (`newsbot copy-db`).
Differences, each for a reason: ids are BIGINT identities (chat ids exceed 32 bits);
article_urls has a `seq` column (SQLite orders by its rowid); and the search index is the
table articles_search instead of SQLite's FTS5 tables (its `terms` GIN index is described at
migrations 6 and 9); copied_from and article_count are PostgreSQL's alone.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from storage.database import MigrationStep, Schema, Transaction, migrations
from storage.postgres.database import PostgresTransaction
from storage.postgres.terms import index_terms, said_keys, search_keys, search_text
from storage.said import article_id_chunks, speeches_to_fill
from storage.subscribers import fold_followed_words

logger = logging.getLogger(__name__)

# What SQLite's PERSON_COUNTS migration adds: per person, the articles in all (role '')
# and by role, and per UTC day the articles by main role (rank 0-3), kept on write for
# /speaker and /chart NAME. Statement triggers over the transition tables, as for
# article_count: `newsbot copy-db` inserts mentions 5,000 a statement, and a row trigger
# would run 10,000,000 times for a large archive. Each (article, person) pair a statement
# touches is counted by comparing its roles before the statement with those after.
# Plain SQL, the back-fill included.
PERSON_COUNTS = """
    CREATE FUNCTION role_rank(role TEXT) RETURNS INTEGER LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE role WHEN 'spoke' THEN 0 WHEN 'presided' THEN 1 WHEN 'attended' THEN 2
        ELSE 3 END
    $$;
    CREATE TABLE person_counts (
        person_id  BIGINT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        role       TEXT NOT NULL,
        n          BIGINT NOT NULL,
        PRIMARY KEY (person_id, role)
    );
    INSERT INTO person_counts (person_id, role, n)
        SELECT person_id, role, count(*) FROM mentions GROUP BY person_id, role
        UNION ALL
        SELECT person_id, '', count(DISTINCT article_id) FROM mentions GROUP BY person_id;
    CREATE TABLE person_days (
        person_id  BIGINT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        day        TEXT NOT NULL,
        rank       INTEGER NOT NULL,
        n          BIGINT NOT NULL,
        PRIMARY KEY (person_id, day, rank)
    );
    INSERT INTO person_days (person_id, day, rank, n)
        SELECT person_id, substr(at, 1, 10), rank, count(*) FROM (
            SELECT person_id, min(published_at) AS at, min(role_rank(role)) AS rank
            FROM mentions GROUP BY person_id, article_id
        ) per_article GROUP BY 1, 2, 3;
    -- pair: each (article, person) the statement touched, with the rank of its roles before
    -- (was, NULL: none) and after (now); the article moves from `was` to `now` in person_days.
    CREATE FUNCTION mentions_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO person_counts (person_id, role, n)
            SELECT person_id, role, count(*) FROM added GROUP BY person_id, role
            UNION ALL
            SELECT pair.person_id, '', count(*) FROM (
                SELECT article_id, person_id, count(*) AS rows FROM added GROUP BY 1, 2
            ) pair
            WHERE (SELECT count(*) FROM mentions m WHERE m.article_id = pair.article_id
                   AND m.person_id = pair.person_id) = pair.rows
            GROUP BY pair.person_id
        ON CONFLICT (person_id, role) DO UPDATE SET n = person_counts.n + excluded.n;
        WITH pair AS (
            SELECT p.*,
                (SELECT min(role_rank(m.role)) FROM mentions m
                 WHERE m.article_id = p.article_id AND m.person_id = p.person_id
                 AND m.role <> ALL (p.roles)) AS was
            FROM (
                SELECT article_id, person_id, min(substr(published_at, 1, 10)) AS day,
                    array_agg(role) AS roles, min(role_rank(role)) AS added_rank
                FROM added GROUP BY article_id, person_id
            ) p
        ), moved AS (
            SELECT person_id, day, added_rank AS rank, 1 AS n FROM pair
            WHERE was IS NULL OR added_rank < was
            UNION ALL
            SELECT person_id, day, was, -1 FROM pair WHERE added_rank < was
        )
        INSERT INTO person_days (person_id, day, rank, n)
            SELECT person_id, day, rank, sum(n) FROM moved GROUP BY 1, 2, 3
        ON CONFLICT (person_id, day, rank) DO UPDATE SET n = person_days.n + excluded.n;
        RETURN NULL;
    END $$;
    CREATE FUNCTION mentions_removed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE person_counts c SET n = c.n - gone.n FROM (
            SELECT person_id, role, count(*) AS n FROM removed GROUP BY person_id, role
            UNION ALL
            SELECT pair.person_id, '', count(*) FROM (
                SELECT DISTINCT article_id, person_id FROM removed
            ) pair
            WHERE NOT EXISTS (SELECT 1 FROM mentions m WHERE m.article_id = pair.article_id
                              AND m.person_id = pair.person_id)
            GROUP BY pair.person_id
        ) gone
        WHERE c.person_id = gone.person_id AND c.role = gone.role;
        WITH pair AS (
            SELECT p.*,
                (SELECT min(role_rank(m.role)) FROM mentions m
                 WHERE m.article_id = p.article_id AND m.person_id = p.person_id) AS now
            FROM (
                SELECT article_id, person_id, min(substr(published_at, 1, 10)) AS day,
                    min(role_rank(role)) AS removed_rank
                FROM removed GROUP BY article_id, person_id
            ) p
        ), moved AS (
            SELECT person_id, day, removed_rank AS rank, -1 AS n FROM pair
            WHERE now IS NULL OR removed_rank < now
            UNION ALL
            SELECT person_id, day, now, 1 FROM pair WHERE removed_rank < now
        )
        INSERT INTO person_days (person_id, day, rank, n)
            SELECT person_id, day, rank, sum(n) FROM moved GROUP BY 1, 2, 3
        ON CONFLICT (person_id, day, rank) DO UPDATE SET n = person_days.n + excluded.n;
        RETURN NULL;
    END $$;
    CREATE TRIGGER mentions_added AFTER INSERT ON mentions
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION mentions_added();
    CREATE TRIGGER mentions_removed AFTER DELETE ON mentions
        REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION mentions_removed();
"""

# What SQLite's STORIES migration adds: stories across outlets, the count of first copies (the
# count triggers see only rows without a story, and a row grouped later moves the count).
STORIES = """
    ALTER TABLE articles ADD COLUMN story_id BIGINT REFERENCES articles(id) ON DELETE SET NULL;
    CREATE INDEX articles_stories_by_date ON articles (published_at DESC, id DESC)
        WHERE story_id IS NULL;
    CREATE INDEX articles_by_story ON articles (story_id) WHERE story_id IS NOT NULL;
    CREATE TABLE story_sketches (
        article_id  BIGINT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
        shingles    INTEGER NOT NULL,
        signature   BYTEA NOT NULL
    );
    CREATE TABLE story_bands (
        band        BIGINT NOT NULL,
        article_id  BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        PRIMARY KEY (band, article_id)
    );
    CREATE INDEX story_bands_by_article ON story_bands (article_id);
    CREATE OR REPLACE FUNCTION articles_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE article_count SET n = n + (SELECT count(*) FROM added WHERE story_id IS NULL)
        WHERE id = 1;
        PERFORM pg_notify('newsbot_articles', '');
        RETURN NULL;
    END $$;
    CREATE OR REPLACE FUNCTION articles_removed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE article_count SET n = n - (SELECT count(*) FROM removed WHERE story_id IS NULL)
        WHERE id = 1;
        PERFORM pg_notify('newsbot_articles', '');
        RETURN NULL;
    END $$;
    CREATE FUNCTION articles_grouped() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE article_count SET n = n + (CASE WHEN new.story_id IS NULL THEN 1 ELSE -1 END)
        WHERE id = 1;
        PERFORM pg_notify('newsbot_articles', '');
        RETURN NULL;
    END $$;
    CREATE TRIGGER articles_grouped AFTER UPDATE OF story_id ON articles FOR EACH ROW
        WHEN ((old.story_id IS NULL) <> (new.story_id IS NULL))
        EXECUTE FUNCTION articles_grouped();
"""

# Append only: a migration that has shipped is never edited, a new one is added at the end.
# Each runs in one transaction together with its row in schema_migrations.
# What `newsbot backfill` adds: one cursor row per source, written after each list page (or
# e-paper day) whose articles are all stored, so that a killed run resumes at that page; and
# when the alert cursor last moved, so that articles published well before it (a backfill's)
# never alert.
BACKFILL = """
    CREATE TABLE backfill_cursors (
        source      TEXT PRIMARY KEY,
        since       TEXT NOT NULL,
        until       TEXT NOT NULL,
        list_index  INTEGER NOT NULL DEFAULT 0,
        page_url    TEXT,
        page_no     INTEGER NOT NULL DEFAULT 0,
        day         TEXT,
        reached     TEXT,
        pages       INTEGER NOT NULL DEFAULT 0,
        articles    INTEGER NOT NULL DEFAULT 0,
        failed      INTEGER NOT NULL DEFAULT 0,
        done        INTEGER NOT NULL DEFAULT 0,
        error       TEXT NOT NULL DEFAULT '',
        started_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    );
    ALTER TABLE alert_cursor ADD COLUMN moved_at TEXT;
"""


MIGRATIONS = migrations(
    {
        # 1: everything SQLite reached in its migrations 1-5.
        1: """
        CREATE TABLE schema_migrations (
            version     INTEGER PRIMARY KEY,
            applied_at  TEXT NOT NULL
        );
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE TABLE sources (
            name                  TEXT PRIMARY KEY,
            title                 TEXT NOT NULL DEFAULT '',
            profile               TEXT NOT NULL DEFAULT 'nen',
            created_at            TEXT NOT NULL,
            last_success_at       TEXT,
            last_error_at         TEXT,
            last_error            TEXT NOT NULL DEFAULT '',
            consecutive_failures  INTEGER NOT NULL DEFAULT 0,
            error_count           INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE articles (
            id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            url           TEXT NOT NULL UNIQUE,
            title         TEXT NOT NULL,
            published_at  TEXT NOT NULL,
            source        TEXT NOT NULL DEFAULT '',
            editor        TEXT NOT NULL DEFAULT '',
            body          TEXT NOT NULL,
            fetched_at    TEXT NOT NULL,
            content_hash  TEXT NOT NULL,
            source_name   TEXT REFERENCES sources(name) ON DELETE SET NULL,
            subtitle      TEXT NOT NULL DEFAULT '',
            reporter      TEXT NOT NULL DEFAULT '',
            channel       TEXT NOT NULL DEFAULT '',
            related       TEXT NOT NULL DEFAULT '[]',
            summary       TEXT NOT NULL DEFAULT '',
            keywords      TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX articles_by_date ON articles (published_at DESC, id DESC);
        CREATE INDEX articles_by_hash ON articles (content_hash);
        CREATE INDEX articles_by_fetched ON articles (fetched_at);
        CREATE TABLE article_urls (
            url_key     TEXT PRIMARY KEY,
            url         TEXT NOT NULL,
            article_id  BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            seq         BIGINT GENERATED BY DEFAULT AS IDENTITY
        );
        CREATE INDEX article_urls_by_article ON article_urls (article_id, seq);
        CREATE TABLE list_validators (
            url            TEXT PRIMARY KEY,
            etag           TEXT,
            last_modified  TEXT
        );
        CREATE TABLE chats (
            id          BIGINT PRIMARY KEY,
            type        TEXT NOT NULL,
            language    TEXT NOT NULL DEFAULT 'zh',
            time_zone   TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            blocked_at  TEXT
        );
        CREATE TABLE people (
            id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            name          TEXT NOT NULL UNIQUE,
            pinyin        TEXT NOT NULL,
            latest_title  TEXT NOT NULL DEFAULT '',
            first_seen    TEXT,
            last_seen     TEXT
        );
        CREATE INDEX people_by_pinyin ON people (pinyin);
        CREATE TABLE person_titles (
            person_id   BIGINT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            title       TEXT NOT NULL,
            first_seen  TEXT NOT NULL,
            last_seen   TEXT NOT NULL,
            PRIMARY KEY (person_id, title)
        );
        CREATE TABLE mentions (
            article_id    BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            person_id     BIGINT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            role          TEXT NOT NULL,
            title         TEXT NOT NULL DEFAULT '',
            statement     TEXT NOT NULL DEFAULT '',
            published_at  TEXT NOT NULL,
            PRIMARY KEY (article_id, person_id, role)
        );
        CREATE INDEX mentions_by_person ON mentions (person_id, role, published_at DESC, article_id);
        CREATE INDEX mentions_by_date ON mentions (role, published_at, person_id);
        CREATE INDEX mentions_by_person_article ON mentions (person_id, article_id);
        -- The search index: `text` is the searchable form of title and body (storage.postgres.terms
        -- .search_text) under a pg_trgm GIN index for words of 3+ characters; `grams` holds its
        -- distinct characters and character bigrams under an array GIN index for 1-2 character
        -- words, which trigrams cannot match. published_at is copied here so that a common word's
        -- newest matches are read from one table in date order.
        CREATE TABLE articles_search (
            id            BIGINT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
            published_at  TEXT NOT NULL,
            text          TEXT NOT NULL,
            grams         TEXT[] NOT NULL
        );
        CREATE INDEX articles_search_text ON articles_search USING gin (text gin_trgm_ops);
        CREATE INDEX articles_search_grams ON articles_search USING gin (grams);
        CREATE INDEX articles_search_by_date ON articles_search (published_at DESC, id DESC);
        CREATE TABLE search_queries (
            id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            chat_id     BIGINT NOT NULL,
            query       TEXT NOT NULL,
            created_at  TEXT NOT NULL
        );
        CREATE INDEX search_queries_by_chat ON search_queries (chat_id, id);
        CREATE TABLE subscriptions (
            chat_id      BIGINT PRIMARY KEY,
            thread_id    BIGINT,
            digest_time  TEXT NOT NULL,
            time_zone    TEXT NOT NULL,
            next_due_at  TEXT NOT NULL,
            since_at     TEXT,
            active       INTEGER NOT NULL DEFAULT 1,
            send_empty   INTEGER NOT NULL DEFAULT 0,
            channels     TEXT NOT NULL DEFAULT '',
            not_found    INTEGER NOT NULL DEFAULT 0,
            created_at   TEXT NOT NULL
        );
        CREATE INDEX subscriptions_due ON subscriptions (active, next_due_at);
        CREATE TABLE follows (
            chat_id     BIGINT NOT NULL,
            person_id   BIGINT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            thread_id   BIGINT,
            active      INTEGER NOT NULL DEFAULT 1,
            created_at  TEXT NOT NULL,
            PRIMARY KEY (chat_id, person_id)
        );
        CREATE INDEX follows_by_person ON follows (person_id, active);
        CREATE TABLE keyword_follows (
            chat_id     BIGINT NOT NULL,
            keyword     TEXT NOT NULL,
            thread_id   BIGINT,
            active      INTEGER NOT NULL DEFAULT 1,
            created_at  TEXT NOT NULL,
            PRIMARY KEY (chat_id, keyword)
        );
        CREATE TABLE deliveries (
            id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            chat_id     BIGINT NOT NULL,
            kind        TEXT NOT NULL,
            key         TEXT NOT NULL,
            status      TEXT NOT NULL,
            attempts    INTEGER NOT NULL DEFAULT 0,
            payload     TEXT NOT NULL DEFAULT '{}',
            thread_id   BIGINT,
            error       TEXT NOT NULL DEFAULT '',
            created_at  TEXT NOT NULL,
            updated_at  TEXT NOT NULL,
            UNIQUE (chat_id, kind, key)
        );
        CREATE INDEX deliveries_open ON deliveries (status, chat_id, id);
        CREATE TABLE alert_cursor (
            id               INTEGER PRIMARY KEY CHECK (id = 1),
            last_article_id  BIGINT NOT NULL
        );
        -- Which SQLite stores `newsbot copy-db` has copied here, so that running it again is
        -- allowed (and copies only what is new) while any other non-empty database is refused.
        CREATE TABLE copied_from (
            source     TEXT PRIMARY KEY,
            copied_at  TEXT NOT NULL
        );
        """,
        # 2: what SQLite's migration 6 adds: deliveries claimed atomically with a lease (no two
        # instances send one row; a row held by a dead instance is taken over when its lease
        # ends), a digest's composed parts and how many went out, and named leases for work one
        # instance at a time should do (the sender, each source's crawl).
        2: """
        ALTER TABLE deliveries ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
        ALTER TABLE deliveries ADD COLUMN lease_until TEXT;
        ALTER TABLE deliveries ADD COLUMN parts TEXT;
        ALTER TABLE deliveries ADD COLUMN parts_sent INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE leases (
            name        TEXT PRIMARY KEY,
            owner       TEXT NOT NULL,
            expires_at  TEXT NOT NULL
        );
        """,
        # 3: the article count kept by statement triggers: /latest shows it on every page, and
        # count(*) reads a whole index (20 ms at 100,000 articles on a busy machine).
        3: """
        CREATE TABLE article_count (
            id  INTEGER PRIMARY KEY CHECK (id = 1),
            n   BIGINT NOT NULL
        );
        INSERT INTO article_count (id, n) SELECT 1, count(*) FROM articles;
        CREATE FUNCTION articles_added() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE article_count SET n = n + (SELECT count(*) FROM added) WHERE id = 1;
            RETURN NULL;
        END $$;
        CREATE FUNCTION articles_removed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE article_count SET n = n - (SELECT count(*) FROM removed) WHERE id = 1;
            RETURN NULL;
        END $$;
        CREATE TRIGGER articles_added AFTER INSERT ON articles
            REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION articles_added();
        CREATE TRIGGER articles_removed AFTER DELETE ON articles
            REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION articles_removed();
        """,
        # 4: what SQLite's migration 7 adds: search in simplified form on both sides. The Python
        # step after it (refold_search) re-indexes articles_search and folds the
        # followed keywords; the index serves /speaker's page of all of a person's articles.
        4: """
        CREATE INDEX mentions_by_person_date ON mentions (person_id, published_at, article_id);
        """,
        # 5: what SQLite's PERSON_COUNTS migration adds (see PERSON_COUNTS above).
        5: PERSON_COUNTS,
        # 6: search that stays flat as the archive grows. `grams` now holds every 1- to
        # 4-character substring of the text's letter runs (storage.postgres.terms.index_terms) and the
        # article's month as '@YYYY-MM', under one GIN index: ANDed words and a window of months
        # meet in one index scan from the rarest key, and a word of up to 4 letters needs no
        # recheck of the text (pg_trgm hashes its trigrams and rechecks every candidate: 19,000
        # detoasted texts for 易炼红 振兴 at 100,000 articles), so the trigram index goes. The
        # Python step after it (regram_search) rewrites every row's grams and
        # builds the new index.
        6: """
        DROP INDEX articles_search_text;
        DROP INDEX articles_search_grams;
        """,
        # 7: every change to the articles' headlines is announced on ARTICLES_CHANNEL (at commit,
        # once a transaction), so that each instance keeps its /latest pages until one comes.
        7: """
        CREATE OR REPLACE FUNCTION articles_added() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE article_count SET n = n + (SELECT count(*) FROM added) WHERE id = 1;
            PERFORM pg_notify('newsbot_articles', '');
            RETURN NULL;
        END $$;
        CREATE OR REPLACE FUNCTION articles_removed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE article_count SET n = n - (SELECT count(*) FROM removed) WHERE id = 1;
            PERFORM pg_notify('newsbot_articles', '');
            RETURN NULL;
        END $$;
        CREATE FUNCTION articles_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('newsbot_articles', '');
            RETURN NULL;
        END $$;
        CREATE TRIGGER articles_changed AFTER UPDATE OF id, url, title, published_at, source
            ON articles FOR EACH STATEMENT EXECUTE FUNCTION articles_changed();
        """,
        # 8: the search index takes each new article's terms at once. With GIN's default
        # fastupdate, a crawl's articles (a thousand terms or more each) wait in a pending list
        # that every search reads in full until a vacuum merges it: 4 MB of it made each search
        # window 2 ms instead of 0.05 ms, and a busy bot's searches 5 s on a 500-article archive.
        8: """
        ALTER INDEX articles_search_grams SET (fastupdate = off);
        SELECT gin_clean_pending_list('articles_search_grams');
        """,
        # 9: the index keys are integers. `terms` holds what `grams` held (each 1- to 4-letter
        # piece of the text's letter runs, and the month), each as a BIGINT
        # (storage.postgres.terms: term_key, month_key). GIN builds an index of 2,000 keys
        # an article twice as fast from them as from TEXT, which is what loading a
        # 1,000,000-article archive waits on. The Python step after it (key_search)
        # compresses the search rows with lz4 where the server has it, fills the column, drops
        # `grams` and builds the index.
        9: """
        DROP INDEX articles_search_grams;
        ALTER TABLE articles_search ADD COLUMN terms BIGINT[];
        """,
        # 10: backfill — where each source's walk back in time stands (`newsbot backfill`
        # resumes from it), and when the alert cursor last moved (older news never alerts).
        10: BACKFILL,
        # 11: channels, several digests a day and every reader's clock: digest times are a
        # comma-separated list (digest_time), weekdays only; per chat quiet hours, silent
        # sending, keywords matched in the body too, the digest's order and the chat's own
        # city; watches of a source or a region; who manages each channel from a private chat.
        11: """
        ALTER TABLE subscriptions ADD COLUMN weekdays_only INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE chats ADD COLUMN title         TEXT NOT NULL DEFAULT '';
        ALTER TABLE chats ADD COLUMN quiet_start   TEXT NOT NULL DEFAULT '';
        ALTER TABLE chats ADD COLUMN quiet_end     TEXT NOT NULL DEFAULT '';
        ALTER TABLE chats ADD COLUMN silent        INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE chats ADD COLUMN keyword_body  INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE chats ADD COLUMN digest_order  TEXT NOT NULL DEFAULT 'channel';
        ALTER TABLE chats ADD COLUMN city          TEXT NOT NULL DEFAULT '';
        CREATE TABLE watches (
            chat_id     BIGINT NOT NULL,
            kind        TEXT NOT NULL,
            target      TEXT NOT NULL,
            thread_id   BIGINT,
            active      INTEGER NOT NULL DEFAULT 1,
            created_at  TEXT NOT NULL,
            PRIMARY KEY (chat_id, kind, target)
        );
        CREATE INDEX watches_by_target ON watches (kind, target, active);
        CREATE TABLE channel_managers (
            channel_id  BIGINT NOT NULL,
            user_id     BIGINT NOT NULL,
            created_at  TEXT NOT NULL,
            PRIMARY KEY (channel_id, user_id)
        );
        CREATE INDEX channel_managers_by_user ON channel_managers (user_id);
        """,
        # 12: stories across outlets (see STORIES above).
        12: STORIES,
        # 13: operations: the send budget every instance books from, a source's failure told
        # to the admins once (and its recovery), and admins' broadcasts awaiting confirmation.
        13: """
        CREATE TABLE send_budget (
            name     TEXT PRIMARY KEY,
            next_at  DOUBLE PRECISION NOT NULL
        );
        ALTER TABLE sources ADD COLUMN failure_told_at TEXT;
        CREATE TABLE broadcasts (
            id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            admin_id      BIGINT NOT NULL,
            text          TEXT NOT NULL,
            created_at    TEXT NOT NULL,
            confirmed_at  TEXT,
            recipients    INTEGER NOT NULL DEFAULT 0
        );
        """,
        # 14: /said searches what one person said: a row per speech (storage.said: its key
        # sorts by publication time), the person's speeches newest first by key, and the
        # folded text's term keys with the speaker's id (storage.postgres.terms.said_keys)
        # under a GIN index, so that a word and a person are one index lookup. The Python
        # step fills it.
        14: """
        CREATE TABLE statements (
            id            BIGINT PRIMARY KEY,
            article_id    BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            person_id     BIGINT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            published_at  TEXT NOT NULL,
            text          TEXT NOT NULL,
            terms         BIGINT[] NOT NULL DEFAULT '{}',
            UNIQUE (article_id, person_id)
        );
        CREATE INDEX statements_by_person ON statements (person_id, id);
        CREATE INDEX statements_terms ON statements USING gin (terms) WITH (fastupdate = off);
        """,
    }
)

# The channel migration 7 announces article changes on (storage.postgres.store listens to it).
ARTICLES_CHANNEL = "newsbot_articles"


def _asyncpg(tx: Transaction) -> Any:
    """Return the asyncpg connection under a transaction: the steps use its COPY and savepoints."""
    assert isinstance(tx, PostgresTransaction)
    return tx.connection


async def _search_rows(con: Any) -> AsyncIterator[list[Any]]:
    """Yield the search rows (id, published_at, text) by id, a chunk at a time."""
    last = 0
    # A chunk at a time: the archive's texts may not fit in memory.
    while found := await con.fetch(
        "SELECT id, published_at, text FROM articles_search WHERE id > $1 ORDER BY id LIMIT 5000",
        last,
    ):
        yield found
        last = found[-1]["id"]


async def refold_search(tx: Transaction) -> None:
    """Index every stored article, and fold every followed word, in search_form."""
    con = _asyncpg(tx)
    found = await con.fetch(
        "SELECT a.id, a.published_at, a.title, a.body FROM articles a ORDER BY a.id"
    )
    # The text alone: migration 6 rebuilds every row's terms from it.
    records = [(r["id"], r["published_at"], search_text(r["title"], r["body"])) for r in found]
    await con.executemany(
        "UPDATE articles_search SET text = $3 WHERE id = $1 AND published_at = $2", records
    )
    await fold_followed_words(tx)


async def regram_search(tx: Transaction) -> None:
    """Rewrite every row's grams (index_terms and month) from its text, then index them."""
    con = _asyncpg(tx)
    await con.execute(
        "CREATE TEMP TABLE regram (id BIGINT PRIMARY KEY, grams TEXT[] NOT NULL) ON COMMIT DROP"
    )
    async for found in _search_rows(con):
        # The TEXT[] terms of the time (migration 9 turns them into keys).
        await tx.copy(
            "regram",
            ("id", "grams"),
            [(r["id"], [*index_terms(r["text"]), "@" + r["published_at"][:7]]) for r in found],
        )
    await con.execute(
        "UPDATE articles_search s SET grams = r.grams FROM regram r WHERE s.id = r.id"
    )
    # The GIN build sorts every term of every row; more memory than the default builds faster.
    await con.execute("SET LOCAL maintenance_work_mem = '256MB'")
    await con.execute("CREATE INDEX articles_search_grams ON articles_search USING gin (grams)")
    await con.execute("ANALYZE articles_search")


async def key_search(tx: Transaction) -> None:
    """Fill every row's terms (its keys) from its text, drop grams, and index the keys."""
    con = _asyncpg(tx)
    try:
        async with con.transaction():  # a savepoint: a server built without lz4 goes on
            # lz4 compresses a search row (text and its keys) in a fraction of pglz's time
            # and reads back faster, for a little more space; loading an archive waits on it.
            await con.execute(
                "ALTER TABLE articles_search ALTER COLUMN text SET COMPRESSION lz4, "
                "ALTER COLUMN terms SET COMPRESSION lz4"
            )
    except asyncpg.FeatureNotSupportedError:
        logger.info("this PostgreSQL has no lz4: search rows are compressed with pglz")
    async for found in _search_rows(con):
        await con.executemany(
            "UPDATE articles_search SET terms = $2 WHERE id = $1",
            [(r["id"], search_keys(r["text"], r["published_at"]).tolist()) for r in found],
        )
    await con.execute(
        "ALTER TABLE articles_search DROP COLUMN grams, ALTER COLUMN terms SET NOT NULL"
    )
    await con.execute("SET LOCAL maintenance_work_mem = '256MB'")
    # fastupdate off, as migration 8 set it for grams.
    await con.execute(
        "CREATE INDEX articles_search_terms ON articles_search USING gin (terms) "
        "WITH (fastupdate = off)"
    )
    await con.execute("ANALYZE articles_search")


# The Python step that follows a migration's SQL, by the migration's number.
async def fill_statements(tx: Transaction) -> None:
    """Write the statements rows, with their keys, of every speech that has none yet."""
    for after, upto in await article_id_chunks(tx):
        found = await speeches_to_fill(tx, after, upto)
        # COPY: a row at a time took minutes for an archive's speeches. Keys are distinct
        # within a chunk (speeches_to_fill); across chunks two would need articles 2**25 apart.
        if not found:
            continue
        await tx.copy(
            "statements",
            ("id", "article_id", "person_id", "published_at", "text", "terms"),
            [(*r, said_keys(r[2], r[4])) for r in found],
        )


STEPS: dict[int, MigrationStep] = {
    4: refold_search,
    6: regram_search,
    9: key_search,
    14: fill_statements,
}
SCHEMA = Schema(MIGRATIONS, STEPS)
SCHEMA_VERSION = SCHEMA.version
