"""One story from two outlets is shown once; a separate report of the same meeting stays apart.

Two loopback news sites (北国网 and 沈阳网, the current nen.com.cn markup) serve a story and
its edited reprint (retitled, a 来源 line added, a paragraph dropped, ASCII punctuation), a
separate report of the same meeting and an unrelated article; the running bot crawls both and
answers /latest, /summary and a digest from what it grouped.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from html import escape

import pytest

from fakes import DATA
from fakes.news_site import FakeNewsSite
from news.stories import is_same_story, sketch
from tests.e2e.conftest import ADMIN_ID

_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]*")
STORY_TITLE = "大连市委常委会传达学习郝鹏调研指示精神"
REPRINT_TITLE = "研究部署贯彻落实工作 市委常委会召开会议"
SEPARATE_TITLE = "郝鹏在大连调研 市委常委会专题部署"
OTHER_TITLE = "易炼红在沈阳调研城市品质提升"


def _text(name: str) -> list[str]:
    """Return a corpus text's sentences (its first lines are a heading, dropped)."""
    raw = (DATA / "texts" / name).read_text(encoding="utf-8")
    body = "".join(line.strip() for line in raw.splitlines()[3:] if line.strip())
    return [s for s in _SENTENCE.findall(body) if len(s) > 6]


def _paragraphs(sentences: list[str]) -> list[str]:
    return ["".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2)]


STORY = _paragraphs(_text("lnchinanews_2024-03-22_xiongmaoping.txt"))
# The reprint: 来源 line on top, the third paragraph dropped, ASCII punctuation.
REPRINT = ["来源:大连日报", *[p.replace("。", ".") for i, p in enumerate(STORY) if i != 2]]
# Written separately: the meeting's first clause and one quoted sentence, the rest its own.
SEPARATE = [
    STORY[0].split(",")[0] + ",市委常委会专题研究部署。",
    _SENTENCE.findall(STORY[1])[0],
    *_paragraphs(_text("shifen_2019-02_chenqiufa.txt"))[:3],
]
OTHER = _paragraphs(_text("78911_2018_yilianhong.txt"))


def _page(title: str, paragraphs: list[str], when: datetime, source: str) -> bytes:
    body = "".join(f"<p>\u3000\u3000{escape(p)}</p>" for p in paragraphs)
    stamp = when.astimezone(UTC) + timedelta(hours=8)
    return (
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" '
        f'content="text/html; charset=UTF-8"><title>{escape(title)}</title></head><body>'
        f'<div class="list_h"><div class="xwzw_title">{escape(title)}</div>'
        f'<div class="xwzw_t1"><span class="fontSize">{stamp:%Y-%m-%d %H:%M:%S}'
        f"\u3000来源：{source}</span></div></div>"
        f'<div class="xwzw_t2"><p>{body}</p></div></body></html>'
    ).encode()


def _serve(site: FakeNewsSite, items: list[tuple[str, str, list[str], datetime, str]]) -> None:
    entries = []
    for path, title, paragraphs, when, source in items:
        site.add_page(path, _page(title, paragraphs, when, source))
        entries.append(f'<li><a href="{path}">{escape(title)}</a><span class="time">'
                       f"{when + timedelta(hours=8):%Y-%m-%d %H:%M}</span></li>")  # fmt: skip
    site.add_page(
        "/network/news/list/indexHome.shtml",
        (
            '<html><head><meta charset="utf-8"></head><body><div class="w1280 list_con"><ul>'
            + "".join(entries)
            + "</ul></div></body></html>"
        ).encode(),
    )


def _sources(lnd: str, syd: str) -> str:
    return "".join(
        f'[[source]]\nname = "{name}"\ntitle = "{title}"\nprofile = "nen"\n'
        f'lists = ["{base}/network/news/list/indexHome.shtml"]\ninterval_minutes = 60\n'
        "max_pages = 1\n\n"
        for name, title, base in (("lnd", "北国网", lnd), ("syd", "沈阳网", syd))
    )


def test_the_pages_are_a_reprint_and_a_separate_report() -> None:
    # What the end-to-end test below rests on, checked on the texts themselves.
    story = sketch("\n".join(STORY))
    assert is_same_story(story, sketch("\n".join(REPRINT)))
    assert not is_same_story(story, sketch("\n".join(SEPARATE)))


@pytest.mark.both_backends
async def test_a_story_from_two_sites_is_listed_once(make_settings, start_bot, bot_api) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    path = "/network/news/2026/12/06/{}.shtml"
    async with FakeNewsSite(DATA) as lnd, FakeNewsSite(DATA) as syd:
        ago = [now - timedelta(hours=n) for n in range(5)]
        url = [path.format(980000000000000000 + n) for n in range(5)]
        _serve(lnd, [(url[1], STORY_TITLE, STORY, ago[3], "大连日报"),
                     (url[2], OTHER_TITLE, OTHER, ago[4], "沈阳日报")])  # fmt: skip
        _serve(syd, [(url[3], REPRINT_TITLE, REPRINT, ago[2], "沈阳网"),
                     (url[4], SEPARATE_TITLE, SEPARATE, ago[1], "沈阳网")])  # fmt: skip
        await start_bot(make_settings(_sources(lnd.base_url, syd.base_url)))
        for attempt in range(100):
            bot_api.push_text(ADMIN_ID, "/status", user_id=ADMIN_ID)
            status = (await bot_api.wait_for_messages(ADMIN_ID, attempt + 1))[-1].plain_text
            if status.count("📰 2") == 2:
                break
            await asyncio.sleep(0.2)
        assert status.count("📰 2") == 2, status  # four articles stored, two a site

        bot_api.push_text(7, "/latest")
        [latest] = await bot_api.wait_for_messages(7, 1)
        shown = latest.plain_text
        # The story once (whichever copy was stored first), naming the other outlet.
        assert (STORY_TITLE in shown) != (REPRINT_TITLE in shown), shown
        assert shown.count("也见于：") == 1
        also = "沈阳网" if STORY_TITLE in shown else "北国网"
        assert f"也见于：{also}" in shown
        # The separate report of the same meeting and the unrelated article are their own.
        assert SEPARATE_TITLE in shown and OTHER_TITLE in shown
        assert "第 1/1 页" in shown or "1/1" in shown
        first = STORY_TITLE if STORY_TITLE in shown else REPRINT_TITLE
        story_id = re.search(re.escape(first) + r".*?#(\d+)", shown, re.S)
        assert story_id is not None

        # /summary lists every outlet with its link.
        bot_api.push_text(7, f"/summary {story_id.group(1)}")
        [_, card] = await bot_api.wait_for_messages(7, 2)
        assert "刊发媒体（2）" in card.plain_text
        assert "• 北国网" in card.plain_text and "• 沈阳网" in card.plain_text
        linked = {e.get("url") for e in card.entities if e.get("type") == "text_link"}
        assert lnd.url(url[1]) in linked and syd.url(url[3]) in linked

        # A digest shows the story once too.
        bot_api.push_text(ADMIN_ID, "/subscribe", user_id=ADMIN_ID)
        sent = len(await bot_api.wait_for_messages(ADMIN_ID, attempt + 2))
        bot_api.push_text(ADMIN_ID, "/digest_now", user_id=ADMIN_ID)
        replies = await bot_api.wait_for_messages(ADMIN_ID, sent + 2)
        digest = "\n".join(r.plain_text for r in replies[sent:] if "每日摘要" in r.plain_text)
        assert (STORY_TITLE in digest) != (REPRINT_TITLE in digest), digest
        assert f"也见于：{also}" in digest
        assert SEPARATE_TITLE in digest and OTHER_TITLE in digest
