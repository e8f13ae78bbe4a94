"""The old name of news.nlp.people, kept only while benchmarks/ and a storage test import it."""

from __future__ import annotations

from news.nlp.fold import to_simplified as to_simplified
from news.nlp.people import extract_people as extract_people
from news.nlp.people import find_names as find_names
from news.nlp.people import gazetteer_names as gazetteer_names
from news.nlp.people import name_pinyin as name_pinyin
from news.nlp.people import normalize_name as normalize_name
