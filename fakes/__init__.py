"""Shipped stand-ins for the outside world: a fake Telegram Bot API, a fake news site, and data.

The demo, the benchmarks and the tests all run on these; a user's own tests can too. Nothing
here imports the bot: the fakes speak HTTP, and the archive seeder speaks the store contract.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
# The demo site: nen.com.cn and Enorth pages built from the shared corpus by build_site.py.
SITE = DATA / "site"
# The labelled leader texts (labels.json, held-out sentences) that the archive seeder stores.
LEADERS = DATA / "leaders"
# More leader texts, read by the query benchmark's corpus generator and the summary tests.
TEXTS = DATA / "texts"
# The 2018 nen.com.cn article the project started from, as plain text.
SEED_ARTICLE = DATA / "seed_2018-03-01_yilianhong_chengshipinzhi.txt"
