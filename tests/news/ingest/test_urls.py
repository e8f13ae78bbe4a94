"""URL normal forms, dedup keys and the nen.com.cn article URL patterns."""

from __future__ import annotations

from datetime import date

import pytest

from news.ingest.urls import (
    date_from_url,
    enorth_page_number,
    is_article_url,
    normalize_url,
    url_key,
)

CURRENT = (
    "http://video.nen.com.cn/network/nenvideo/nenbenwangyc/2024/10/27/705091445031179944.shtml"
)
ENORTH = "http://liaoning.nen.com.cn/system/2018/03/02/020390512.shtml"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("HTTP://Liaoning.NEN.com.cn:80/system/2018/03/02/020390512.shtml", ENORTH),
        (f"{ENORTH}#comments", ENORTH),
        (
            f"{CURRENT}?utm_source=wechat&utm_medium=x&from=singlemessage&isappinstalled=0&spm=1.2",
            CURRENT,
        ),
        (
            "https://news.nen.com.cn:443/a.shtml?id=7&from=timeline",
            "https://news.nen.com.cn/a.shtml?id=7",
        ),
        ("http://127.0.0.1:8123/x/?b=2&a=1", "http://127.0.0.1:8123/x/?b=2&a=1"),
        ("http://www.nen.com.cn", "http://www.nen.com.cn/"),
        # An Enorth continuation page is the same article as its first page.
        ("http://liaoning.nen.com.cn/system/2018/03/02/020390512_01.shtml", ENORTH),
        ("http://liaoning.nen.com.cn/system/2018/03/02/020390512_02.shtml", ENORTH),
    ],
)
def test_normalize_url(raw: str, normal: str) -> None:
    assert normalize_url(raw) == normal


def test_kept_query_keeps_its_encoding() -> None:
    assert normalize_url("http://a.cn/s?q=%E8%BE%BD%E5%AE%81&utm_campaign=x") == (
        "http://a.cn/s?q=%E8%BE%BD%E5%AE%81"
    )


def test_non_enorth_underscore_pages_are_left_alone() -> None:
    # ifeng's 14526474_0.shtml is its own page, not an Enorth continuation.
    url = "http://nb.ifeng.com/a/20200911/14526474_0.shtml"
    assert normalize_url(url) == url


def test_url_key_ignores_scheme_but_normalize_keeps_it() -> None:
    https = ENORTH.replace("http://", "https://")
    assert normalize_url(https).startswith("https://")
    assert (
        url_key(https)
        == url_key(ENORTH)
        == "//liaoning.nen.com.cn/system/2018/03/02/020390512.shtml"
    )
    assert url_key(ENORTH.replace(".shtml", "_01.shtml")) == url_key(ENORTH)
    assert url_key(CURRENT) != url_key(CURRENT.replace("video.", "news."))


@pytest.mark.parametrize(
    "url",
    [
        CURRENT,
        "https://liaoning.nen.com.cn/network/liaoningnews/lnnewsyuanchuang/2023/12/05/586651035934660109.shtml",
        ENORTH,
        "http://liaoning.nen.com.cn/system/2018/03/02/020390512_01.shtml",
        "http://127.0.0.1:8123/system/2018/03/02/020390512.shtml",
        "http://www.gaxww.com/system/2017/10/19/016478629.shtml",
    ],
)
def test_article_urls(url: str) -> None:
    assert is_article_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://video.nen.com.cn/network/nenvideo/nenbenwangyc/index.shtml",
        "http://liaoning.nen.com.cn/network/liaoningnews/lnnewskejiao/list/indexHome.shtml",
        "http://liaoning.nen.com.cn/szyw_new/index.shtml",
        "http://www.gaxww.com/system/count//0088001/000000000000/000/000/c0088001000000000000_000000304.shtml",
        "http://culture.people.com.cn/n1/2019/0615/c1013-31153719.html",
    ],
)
def test_not_article_urls(url: str) -> None:
    assert not is_article_url(url)


@pytest.mark.parametrize(
    ("url", "day"),
    [
        (CURRENT, date(2024, 10, 27)),
        (ENORTH, date(2018, 3, 2)),
        ("http://www.xinhuanet.com/world/2019-12/10/c_1125327450.htm", date(2019, 12, 10)),
        ("http://culture.people.com.cn/n1/2019/0615/c1013-31153719.html", date(2019, 6, 15)),
        ("http://sy.wenming.cn/gdtp/202101/t20210105_6892806.html", date(2021, 1, 5)),
        ("http://liaoning.nen.com.cn/system/2018/02/30/020390512.shtml", None),
        ("http://www.nen.com.cn/", None),
    ],
)
def test_date_from_url(url: str, day: date | None) -> None:
    assert date_from_url(url) == day


def test_enorth_page_number() -> None:
    assert enorth_page_number(ENORTH) == 0
    assert enorth_page_number(ENORTH.replace(".shtml", "_02.shtml")) == 2
    assert enorth_page_number(CURRENT) is None
