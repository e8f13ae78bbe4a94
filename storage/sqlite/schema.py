"""SQLite's schema as numbered migrations (`PRAGMA user_version` counts those applied)."""

from __future__ import annotations

from news.nlp.fold import search_form, stored_search_form
from storage.database import MigrationStep, Schema, Transaction, migrations
from storage.said import FILL_STATEMENT, article_id_chunks, speeches_to_fill
from storage.sqlite import search_keys
from storage.sqlite.grams import ADD_GRAMS, ADD_SAID_GRAMS, SET_SEARCH_KEY, index_grams, said_grams
from storage.subscribers import fold_followed_words

# Append only: a migration that has shipped is never edited, a new one is added at the end.
# Each runs in one transaction together with the user_version bump.
# Times are TEXT 'YYYY-MM-DDTHH:MM:SSZ' in UTC so that they sort as strings.
# Search over traditional and simplified text alike: the indexes hold search_form of every
# title and body. Most articles are simplified already, so the folded copy is stored
# only where it differs (search_title / search_body, else NULL) and the trigram index reads
# through a view that takes the copy or the original. Its step (reindex_folded) re-indexes every
# stored article and folds followed keywords, in the same transaction.
# It also indexes a person's mentions by date: /speaker lists every article a person appears
# in, newest first, and reads one page of them in index order instead of sorting 20,000.
REINDEX_FOLDED_SEARCH = """
    ALTER TABLE articles ADD COLUMN search_title TEXT;
    ALTER TABLE articles ADD COLUMN search_body  TEXT;
    DROP TRIGGER articles_fts_insert;
    DROP TRIGGER articles_fts_delete;
    DROP TRIGGER articles_fts_update;
    DROP TABLE articles_fts;
    CREATE VIEW articles_search AS
        SELECT id, coalesce(search_title, title) AS title, coalesce(search_body, body) AS body
        FROM articles;
    CREATE VIRTUAL TABLE articles_fts USING fts5 (
        title, body, content='articles_search', content_rowid='id', tokenize='trigram'
    );
    CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts (rowid, title, body) VALUES (
            new.id, coalesce(new.search_title, new.title), coalesce(new.search_body, new.body)
        );
    END;
    CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES (
            'delete', old.id, coalesce(old.search_title, old.title),
            coalesce(old.search_body, old.body)
        );
    END;
    CREATE TRIGGER articles_fts_update
    AFTER UPDATE OF title, body, search_title, search_body ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES (
            'delete', old.id, coalesce(old.search_title, old.title),
            coalesce(old.search_body, old.body)
        );
        INSERT INTO articles_fts (rowid, title, body) VALUES (
            new.id, coalesce(new.search_title, new.title), coalesce(new.search_body, new.body)
        );
    END;
    CREATE INDEX mentions_by_person_date ON mentions (person_id, published_at, article_id);
"""

# A leaner archive: one search index instead of two, and no stored copy of it. The trigram
# table (articles_fts) held every trigram with its positions (a quarter of the file), and the
# bigram table kept its own copy of every article's bigrams as text (another third). Search now
# reads the bigram index alone: a word of any length matches the articles holding all of its
# bigrams, and a word of 3+ characters is then checked in the article's (folded) text, so the
# results are the same. The index is contentless (content=''): nothing but the postings. Its
# step (fill_folded_grams) fills it, in the same transaction.
LEAN_SEARCH = """
    DROP TRIGGER articles_fts_insert;
    DROP TRIGGER articles_fts_delete;
    DROP TRIGGER articles_fts_update;
    DROP TABLE articles_fts;
    DROP TABLE articles_grams;
    CREATE VIRTUAL TABLE articles_grams USING fts5 (
        grams, tokenize='unicode61 remove_diacritics 0', detail='none', prefix='1',
        content='', columnsize=0
    );
    ALTER TABLE articles ADD COLUMN search_key INTEGER;
    CREATE UNIQUE INDEX articles_by_search_key ON articles (search_key, published_at);
"""


def _rank(role: str) -> str:
    """Return SQL ranking a mention's role as a person's main role in an article (0 first)."""
    return (
        f"(CASE {role} WHEN 'spoke' THEN 0 WHEN 'presided' THEN 1 WHEN 'attended' THEN 2 "
        "ELSE 3 END)"
    )


# What /speaker and /chart NAME count, kept on write by triggers on mentions, so that a leader
# with 200,000 mentions (1,000,000 articles) costs a few rows per request instead of all of
# them. person_counts: the articles a person appears in, in all (role '') and by role.
# person_days: per UTC day, the articles where the person's main role (spoke, presided,
# attended, other: rank 0-3) was each; a chart of local months adds up whole days and reads
# the mentions of the days a month boundary cuts. A mention is inserted or deleted, never
# re-keyed (the store's upsert changes only its text), so the two triggers see every change.
# Plain SQL, the back-fill included. The (person, article)
# index served counting a person's distinct articles; person_counts answers that now.
PERSON_COUNTS = f"""
    DROP INDEX mentions_by_person_article;
    CREATE TABLE person_counts (
        person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        role       TEXT NOT NULL,
        n          INTEGER NOT NULL,
        PRIMARY KEY (person_id, role)
    ) WITHOUT ROWID;
    INSERT INTO person_counts (person_id, role, n)
        SELECT person_id, role, count(*) FROM mentions GROUP BY person_id, role;
    INSERT INTO person_counts (person_id, role, n)
        SELECT person_id, '', count(DISTINCT article_id) FROM mentions GROUP BY person_id;
    CREATE TABLE person_days (
        person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        day        TEXT NOT NULL,
        rank       INTEGER NOT NULL,
        n          INTEGER NOT NULL,
        PRIMARY KEY (person_id, day, rank)
    ) WITHOUT ROWID;
    INSERT INTO person_days (person_id, day, rank, n)
        SELECT person_id, substr(at, 1, 10), rank, count(*) FROM (
            SELECT person_id, min(published_at) AS at, min({_rank("role")}) AS rank
            FROM mentions GROUP BY person_id, article_id
        ) GROUP BY 1, 2, 3;
    CREATE TRIGGER mentions_counted AFTER INSERT ON mentions BEGIN
        INSERT INTO person_counts (person_id, role, n) VALUES (new.person_id, new.role, 1)
            ON CONFLICT (person_id, role) DO UPDATE SET n = n + 1;
        INSERT INTO person_counts (person_id, role, n)
            SELECT new.person_id, '', 1 WHERE NOT EXISTS (
                SELECT 1 FROM mentions WHERE article_id = new.article_id
                AND person_id = new.person_id AND role <> new.role
            )
            ON CONFLICT (person_id, role) DO UPDATE SET n = n + 1;
        -- The article moves to this role's rank if it outranks the person's other roles
        -- there (4: there were none).
        UPDATE person_days SET n = n - 1
            WHERE person_id = new.person_id AND day = substr(new.published_at, 1, 10)
            AND rank > {_rank("new.role")} AND rank = (
                SELECT min({_rank("role")}) FROM mentions WHERE article_id = new.article_id
                AND person_id = new.person_id AND role <> new.role
            );
        INSERT INTO person_days (person_id, day, rank, n)
            SELECT new.person_id, substr(new.published_at, 1, 10), {_rank("new.role")}, 1
            WHERE coalesce((
                SELECT min({_rank("role")}) FROM mentions WHERE article_id = new.article_id
                AND person_id = new.person_id AND role <> new.role
            ), 4) > {_rank("new.role")}
            ON CONFLICT (person_id, day, rank) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER mentions_uncounted AFTER DELETE ON mentions BEGIN
        UPDATE person_counts SET n = n - 1 WHERE person_id = old.person_id AND role = old.role;
        UPDATE person_counts SET n = n - 1 WHERE person_id = old.person_id AND role = ''
            AND NOT EXISTS (
                SELECT 1 FROM mentions WHERE article_id = old.article_id
                AND person_id = old.person_id
            );
        -- The article leaves this role's rank if it was the main one, for the rank of the
        -- roles left (if any).
        UPDATE person_days SET n = n - 1
            WHERE person_id = old.person_id AND day = substr(old.published_at, 1, 10)
            AND rank = {_rank("old.role")} AND coalesce((
                SELECT min({_rank("role")}) FROM mentions WHERE article_id = old.article_id
                AND person_id = old.person_id
            ), 4) > {_rank("old.role")};
        INSERT INTO person_days (person_id, day, rank, n)
            SELECT old.person_id, substr(old.published_at, 1, 10), left_rank, 1 FROM (
                SELECT min({_rank("role")}) AS left_rank FROM mentions
                WHERE article_id = old.article_id AND person_id = old.person_id
            ) WHERE left_rank > {_rank("old.role")}
            ON CONFLICT (person_id, day, rank) DO UPDATE SET n = n + 1;
    END;
"""

# How many articles there are, kept on write: count(*) read a whole index (5 ms at 1,000,000
# articles, 12 ms cold), and any commit (a lease renewed, a search remembered) made /latest
# count again on the event loop. Nothing replaces articles (REPLACE would pass the delete
# trigger by); articles are inserted, and deleted only by hand.
# /said searches what one person said: a row per speech (storage.said: its key sorts by
# publication time), the person's speeches newest first by key, and a contentless bigram
# index of the folded text (as articles_grams) holding a token for the speaker, so that a
# word and a person are one FTS5 query read newest first. The Python step fills it.
STATEMENTS = """
    CREATE TABLE statements (
        id            INTEGER PRIMARY KEY,
        article_id    INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        person_id     INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        published_at  TEXT NOT NULL,
        text          TEXT NOT NULL,
        UNIQUE (article_id, person_id)
    );
    CREATE INDEX statements_by_person ON statements (person_id, id);
    CREATE VIRTUAL TABLE statements_grams USING fts5 (
        grams, tokenize='unicode61 remove_diacritics 0', detail='none', prefix='1',
        content='', columnsize=0
    );
"""

ARTICLE_COUNT = """
    CREATE TABLE article_count (
        id  INTEGER PRIMARY KEY CHECK (id = 1),
        n   INTEGER NOT NULL
    );
    INSERT INTO article_count (id, n) SELECT 1, count(*) FROM articles;
    CREATE TRIGGER article_count_insert AFTER INSERT ON articles BEGIN
        UPDATE article_count SET n = n + 1 WHERE id = 1;
    END;
    CREATE TRIGGER article_count_delete AFTER DELETE ON articles BEGIN
        UPDATE article_count SET n = n - 1 WHERE id = 1;
    END;
"""

OPERATIONS = """
CREATE TABLE send_budget (
    name     TEXT PRIMARY KEY,
    next_at  REAL NOT NULL
);
ALTER TABLE sources ADD COLUMN failure_told_at TEXT;
CREATE TABLE broadcasts (
    id            INTEGER PRIMARY KEY,
    admin_id      INTEGER NOT NULL,
    text          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    confirmed_at  TEXT,
    recipients    INTEGER NOT NULL DEFAULT 0
);
"""

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


# Stories across outlets: a reprint is an articles row of its own (its URL, source, headline and
# time) whose story_id names its story's first copy; a first copy has none. Lists read the
# first copies by date (a partial index), and a story's outlets by story_id. Each article's
# MinHash signature (news.stories) and its LSH band keys are kept here, so that every process
# storing articles looks up the same bands. /latest's count counts stories.
STORIES = """
    ALTER TABLE articles ADD COLUMN story_id INTEGER REFERENCES articles(id) ON DELETE SET NULL;
    CREATE INDEX articles_stories_by_date ON articles (published_at DESC, id DESC)
        WHERE story_id IS NULL;
    CREATE INDEX articles_by_story ON articles (story_id) WHERE story_id IS NOT NULL;
    CREATE TABLE story_sketches (
        article_id  INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
        shingles    INTEGER NOT NULL,
        signature   BLOB NOT NULL
    );
    CREATE TABLE story_bands (
        band        INTEGER NOT NULL,
        article_id  INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        PRIMARY KEY (band, article_id)
    );
    CREATE INDEX story_bands_by_article ON story_bands (article_id);
    DROP TRIGGER article_count_insert;
    DROP TRIGGER article_count_delete;
    CREATE TRIGGER article_count_insert AFTER INSERT ON articles WHEN new.story_id IS NULL BEGIN
        UPDATE article_count SET n = n + 1 WHERE id = 1;
    END;
    CREATE TRIGGER article_count_delete AFTER DELETE ON articles WHEN old.story_id IS NULL BEGIN
        UPDATE article_count SET n = n - 1 WHERE id = 1;
    END;
    CREATE TRIGGER article_count_story AFTER UPDATE OF story_id ON articles
    WHEN (old.story_id IS NULL) <> (new.story_id IS NULL) BEGIN
        UPDATE article_count SET n = n + (CASE WHEN new.story_id IS NULL THEN 1 ELSE -1 END)
        WHERE id = 1;
    END;
"""

MIGRATIONS = migrations(
    {
        # 1: foundation: sources, articles, chats.
        1: """
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
        2: """
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
        # 3: reading: summaries and keywords, people and their mentions, full-text search.
        # articles_fts (trigram) serves words of 3+ characters; articles_grams holds each text's
        # character bigrams (and its last character) as tokens, so 1-2 character words are exact
        # look-ups instead of a scan: trigram cannot match them and LIKE on a trigram table is
        # broken on SQLite 3.40.
        3: """
        ALTER TABLE articles ADD COLUMN summary  TEXT NOT NULL DEFAULT '';
        ALTER TABLE articles ADD COLUMN keywords TEXT NOT NULL DEFAULT '';
        CREATE TABLE people (
            id             INTEGER PRIMARY KEY,
            name           TEXT NOT NULL UNIQUE,
            pinyin         TEXT NOT NULL,
            latest_title   TEXT NOT NULL DEFAULT '',
            first_seen     TEXT,
            last_seen      TEXT
        );
        CREATE INDEX people_by_pinyin ON people (pinyin);
        CREATE TABLE person_titles (
            person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            title       TEXT NOT NULL,
            first_seen  TEXT NOT NULL,
            last_seen   TEXT NOT NULL,
            PRIMARY KEY (person_id, title)
        );
        CREATE TABLE mentions (
            article_id    INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            person_id     INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            role          TEXT NOT NULL,
            title         TEXT NOT NULL DEFAULT '',
            statement     TEXT NOT NULL DEFAULT '',
            published_at  TEXT NOT NULL,
            PRIMARY KEY (article_id, person_id, role)
        );
        CREATE INDEX mentions_by_person ON mentions (person_id, role, published_at DESC, article_id);
        CREATE INDEX mentions_by_date ON mentions (role, published_at, person_id);
        CREATE VIRTUAL TABLE articles_fts USING fts5 (
            title, body, content='articles', content_rowid='id', tokenize='trigram'
        );
        CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
        END;
        CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts (articles_fts, rowid, title, body)
            VALUES ('delete', old.id, old.title, old.body);
        END;
        CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, body ON articles BEGIN
            INSERT INTO articles_fts (articles_fts, rowid, title, body)
            VALUES ('delete', old.id, old.title, old.body);
            INSERT INTO articles_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
        END;
        INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');
        CREATE VIRTUAL TABLE articles_grams USING fts5 (
            grams, tokenize='unicode61 remove_diacritics 0', detail='none', prefix='1'
        );
        CREATE TABLE search_queries (
            id          INTEGER PRIMARY KEY,
            chat_id     INTEGER NOT NULL,
            query       TEXT NOT NULL,
            created_at  TEXT NOT NULL
        );
        CREATE INDEX search_queries_by_chat ON search_queries (chat_id, id);
        """,
        # 4: delivery: digest subscriptions, follows of people and of words, and the ledger that
        # makes every push happen once (written before and after each send).
        4: """
        CREATE TABLE subscriptions (
            chat_id      INTEGER PRIMARY KEY,
            thread_id    INTEGER,
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
            chat_id     INTEGER NOT NULL,
            person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            thread_id   INTEGER,
            active      INTEGER NOT NULL DEFAULT 1,
            created_at  TEXT NOT NULL,
            PRIMARY KEY (chat_id, person_id)
        );
        CREATE INDEX follows_by_person ON follows (person_id, active);
        CREATE TABLE keyword_follows (
            chat_id     INTEGER NOT NULL,
            keyword     TEXT NOT NULL,
            thread_id   INTEGER,
            active      INTEGER NOT NULL DEFAULT 1,
            created_at  TEXT NOT NULL,
            PRIMARY KEY (chat_id, keyword)
        );
        CREATE TABLE deliveries (
            id          INTEGER PRIMARY KEY,
            chat_id     INTEGER NOT NULL,
            kind        TEXT NOT NULL,
            key         TEXT NOT NULL,
            status      TEXT NOT NULL,
            attempts    INTEGER NOT NULL DEFAULT 0,
            payload     TEXT NOT NULL DEFAULT '{}',
            thread_id   INTEGER,
            error       TEXT NOT NULL DEFAULT '',
            created_at  TEXT NOT NULL,
            updated_at  TEXT NOT NULL,
            UNIQUE (chat_id, kind, key)
        );
        CREATE INDEX deliveries_open ON deliveries (status, chat_id, id);
        CREATE INDEX articles_by_fetched ON articles (fetched_at);
        CREATE TABLE alert_cursor (
            id               INTEGER PRIMARY KEY CHECK (id = 1),
            last_article_id  INTEGER NOT NULL
        );
        """,
        # 5: a person's mentions ordered by article, so that counting the distinct articles of a
        # leader named in 20,000 of them reads the index in order instead of sorting it (15 ms ->
        # 2 ms per person; /speaker by title and /speakers count up to ten people).
        5: """
        CREATE INDEX mentions_by_person_article ON mentions (person_id, article_id);
        """,
        # 6: deliveries claimed atomically with a lease (no two processes send one row; a row held
        # by a dead process is taken over when its lease ends), a digest's composed parts and how
        # many went out (a split digest cut off half-way resumes where it stopped), and named
        # leases for work one process at a time should do (the sender, each source's crawl).
        6: """
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
        # 7: search in simplified form on both sides (see REINDEX_FOLDED_SEARCH above).
        7: REINDEX_FOLDED_SEARCH,
        # 8: one contentless bigram index for every search (see LEAN_SEARCH above).
        8: LEAN_SEARCH,
        # 9: people's article counts kept on write (see PERSON_COUNTS above).
        9: PERSON_COUNTS,
        # 10: the article count kept on write (see ARTICLE_COUNT above).
        10: ARTICLE_COUNT,
        # 11: backfill — where each source's walk back in time stands (`newsbot backfill`
        # resumes from it), and when the alert cursor last moved (older news never alerts).
        11: BACKFILL,
        # 12: channels, several digests a day and every reader's clock: digest times are a
        # comma-separated list (digest_time), weekdays only; per chat quiet hours, silent
        # sending, keywords matched in the body too, the digest's order and the chat's own
        # city; watches of a source or a region; who manages each channel from a private chat.
        12: """
        ALTER TABLE subscriptions ADD COLUMN weekdays_only INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE chats ADD COLUMN title         TEXT NOT NULL DEFAULT '';
        ALTER TABLE chats ADD COLUMN quiet_start   TEXT NOT NULL DEFAULT '';
        ALTER TABLE chats ADD COLUMN quiet_end     TEXT NOT NULL DEFAULT '';
        ALTER TABLE chats ADD COLUMN silent        INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE chats ADD COLUMN keyword_body  INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE chats ADD COLUMN digest_order  TEXT NOT NULL DEFAULT 'channel';
        ALTER TABLE chats ADD COLUMN city          TEXT NOT NULL DEFAULT '';
        CREATE TABLE watches (
            chat_id     INTEGER NOT NULL,
            kind        TEXT NOT NULL,
            target      TEXT NOT NULL,
            thread_id   INTEGER,
            active      INTEGER NOT NULL DEFAULT 1,
            created_at  TEXT NOT NULL,
            PRIMARY KEY (chat_id, kind, target)
        );
        CREATE INDEX watches_by_target ON watches (kind, target, active);
        CREATE TABLE channel_managers (
            channel_id  INTEGER NOT NULL,
            user_id     INTEGER NOT NULL,
            created_at  TEXT NOT NULL,
            PRIMARY KEY (channel_id, user_id)
        );
        CREATE INDEX channel_managers_by_user ON channel_managers (user_id);
        """,
        # 13: stories across outlets (see STORIES above).
        13: STORIES,
        # 14: operations: the send budget every instance books from, a source's failure told
        # to the admins once (and its recovery), and admins' broadcasts awaiting confirmation.
        14: OPERATIONS,
        # 15: /said: every speech's folded text, keyed by date, and its bigram index (see
        # STATEMENTS above).
        15: STATEMENTS,
    }
)


async def fill_grams(tx: Transaction) -> None:
    """Index the bigrams of articles stored before the search migration."""
    found = await tx.fetch("SELECT id, title, body FROM articles")
    await tx.executemany(
        ADD_GRAMS,
        [(r["id"], index_grams(r["title"] + "\n" + r["body"])) for r in found],
    )


async def reindex_folded(tx: Transaction) -> None:
    """Index every stored article, and fold every followed word, in search_form."""
    # Index every article as it stands first: the update trigger removes each row's old
    # entry, which must be there (removing an absent one corrupts an FTS5 index).
    await tx.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
    found = await tx.fetch("SELECT id, title, body FROM articles")
    folded = [
        (stored_search_form(r["title"]), stored_search_form(r["body"]), r["id"]) for r in found
    ]
    await tx.executemany(
        "UPDATE articles SET search_title = ?, search_body = ? WHERE id = ?",
        [f for f in folded if f[0] is not None or f[1] is not None],
    )
    await tx.execute("DELETE FROM articles_grams")
    await tx.executemany(
        ADD_GRAMS,
        [(r["id"], index_grams(search_form(r["title"] + "\n" + r["body"]))) for r in found],
    )
    await fold_followed_words(tx)


async def fill_folded_grams(tx: Transaction) -> None:
    """Key every stored article by date and index the bigrams of its folded text."""
    # The folded copies are stored where they differ (migration 7): no folding again here.
    found = await tx.fetch(
        "SELECT id, published_at, coalesce(search_title, title) AS title, "
        "coalesce(search_body, body) AS body FROM articles ORDER BY published_at, id"
    )
    keyed = search_keys.keys_in_date_order([(r["id"], r["published_at"]) for r in found])
    await tx.executemany(SET_SEARCH_KEY, [(k, i) for i, k in keyed.items()])
    await tx.executemany(
        ADD_GRAMS,
        [(keyed[r["id"]], index_grams(r["title"] + "\n" + r["body"])) for r in found],
    )


# The Python step that follows a migration's SQL, by the migration's number.
async def fill_statements(tx: Transaction) -> None:
    """Write and index the statements rows of every speech stored before /said."""
    for after, upto in await article_id_chunks(tx):
        found = await speeches_to_fill(tx, after, upto)
        await tx.executemany(FILL_STATEMENT, found)
        await tx.executemany(ADD_SAID_GRAMS, [(r[0], said_grams(r[2], r[4])) for r in found])


STEPS: dict[int, MigrationStep] = {
    3: fill_grams,
    7: reindex_folded,
    8: fill_folded_grams,
    15: fill_statements,
}
SCHEMA = Schema(MIGRATIONS, STEPS)
SCHEMA_VERSION = SCHEMA.version
