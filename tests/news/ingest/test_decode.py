"""decode_html on the corpus pages whose declared charset lies, and on the usual traps."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest

from fakes import SEED_ARTICLE
from news.ingest.decode import decode_html
from news.ingest.errors import DecodeError


def test_utf8_page_declaring_gb2312_is_read_as_utf8(fixtures: Path) -> None:
    # corpus nen/gne_people_1.html: <meta charset=GB2312> over UTF-8 bytes (people.com.cn template).
    text = decode_html((fixtures / "nen" / "gne_people_1.html").read_bytes())
    assert "<h1>女儿出嫁，郑板桥画了几笔兰花当嫁妆</h1>" in text


def test_utf8_page_declaring_gb2312_is_read_as_utf8_even_if_http_says_gb2312(
    fixtures: Path,
) -> None:
    text = decode_html((fixtures / "nen" / "gne_people_1.html").read_bytes(), "GB2312")
    assert "郑板桥" in text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # corpus pages/: both really are GB2312 bytes.
        ("cwce_people-js_b26fbb82.html", "<title>江苏多地要求中高风险地区师生员工暂不返校</title>"),
        ("cwce_chinaneast-xinhuanet_a0cb0242.html", "农机专家李金泽：为农机行业搭建现代化信息平台"),
    ],
)
def test_real_gb2312_pages(fixtures: Path, name: str, expected: str) -> None:
    assert expected in decode_html((fixtures / "pages" / name).read_bytes())


def test_synthetic_enorth_gbk_page(fixtures: Path) -> None:
    data = (fixtures / "nen" / "synthetic_enorth_2018-03-02_yilianhong.html").read_bytes()
    text = decode_html(data)
    assert "易炼红在沈阳市城市品质提升工作部署会议上强调" in text


def test_gbk_only_character_under_a_gb2312_label_decodes_as_gb18030() -> None:
    # 镕 is in GBK but not in GB2312: Python's gb2312 codec would fail on it.
    data = '<meta charset="gb2312"><p>朱镕基同志</p>'.encode("gbk")
    assert decode_html(data) == '<meta charset="gb2312"><p>朱镕基同志</p>'
    assert decode_html(data, "gbk").endswith("<p>朱镕基同志</p>")


def test_http_charset_is_tried_before_meta() -> None:
    data = '<meta charset="gb2312"><p>東北新聞網</p>'.encode("big5")
    assert decode_html(data, "big5") == '<meta charset="gb2312"><p>東北新聞網</p>'


def test_http_equiv_content_charset() -> None:
    page = '<meta http-equiv="Content-Type" content="text/html; charset=GBK"><p>辽宁</p>'
    assert decode_html(page.encode("gbk")).endswith("<p>辽宁</p>")


def test_latin1_http_default_does_not_mangle_a_gbk_page() -> None:
    # Servers default text/html to ISO-8859-1; a single-byte codec "decodes" anything.
    page = '<meta charset="gb2312"><p>东北新闻网</p>'
    assert decode_html(page.encode("gbk"), "ISO-8859-1").endswith("<p>东北新闻网</p>")


def test_undeclared_gbk_is_detected(fixtures: Path) -> None:
    seed = SEED_ARTICLE.read_text("utf-8")
    assert decode_html(seed.encode("gbk")) == seed


def test_unknown_declared_charset_is_ignored() -> None:
    assert decode_html('<meta charset="x-nonsense">中文'.encode(), "bogus") == (
        '<meta charset="x-nonsense">中文'
    )


def test_bom_is_stripped() -> None:
    assert decode_html(b"\xef\xbb\xbf<html>\xe4\xb8\xad</html>") == "<html>中</html>"
    assert decode_html("<p>辽宁</p>".encode("utf-16")) == "<p>辽宁</p>"


def test_a_stray_byte_does_not_lose_the_page(fixtures: Path) -> None:
    # Old GBK pages carry the odd broken or truncated byte; one must not make the page unreadable.
    data = (fixtures / "nen" / "synthetic_enorth_2018-03-02_yilianhong.html").read_bytes()
    text = decode_html(data[:3000] + b"\xff" + data[3000:])
    assert "易炼红在沈阳市城市品质提升工作部署会议上强调" in text
    assert 1 <= text.count("\ufffd") <= 3
    truncated = decode_html(data[:-1] + b"\xb6")
    assert truncated.endswith("\ufffd")


def test_utf8_page_with_a_stray_byte_stays_utf8() -> None:
    sentence = "辽宁省召开城市品质提升工作会议。"
    page = ('<meta charset="gb2312"><p>' + sentence * 40 + "</p>").encode()
    text = decode_html(page[:200] + b"\xff" + page[200:])
    assert text.count("\ufffd") == 1
    assert sentence in text


def test_binary_garbage_raises_decode_error() -> None:
    with pytest.raises(DecodeError, match="cannot decode"):
        decode_html(b"\x81\x00" * 300)


def test_random_bytes_never_raise_anything_else() -> None:
    data = random.Random(2018).randbytes(2000)
    with contextlib.suppress(DecodeError):
        decode_html(data)
