"""Turn fetched page bytes into text, whatever the page claims its encoding is."""

from __future__ import annotations

import codecs
import logging
import re

from charset_normalizer import from_bytes

from news.ingest.errors import DecodeError

logger = logging.getLogger(__name__)

# How far into the page to look for a <meta> charset: nen.com.cn puts ~6 KB of inline CSS in
# <head>, some pages put the meta after it.
_META_SCAN_BYTES = 32_768

_META_CHARSET = re.compile(
    rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)

# Simplified-Chinese encodings that servers mislabel: GB2312 pages routinely carry GBK-only
# characters (人名 like 镕, 堃), and GB18030 is a strict superset of both.
_GB_FAMILY = frozenset({"gb2312", "gbk", "cp936", "ms936", "gb18030", "euc-cn", "x-gbk"})

# Single-byte codecs decode any byte string, so "success" proves nothing: servers that default
# to ISO-8859-1 would otherwise turn every GBK page into mojibake. They are tried last.
_ANY_BYTES_CODECS = frozenset({"latin_1", "iso8859-1", "cp1252", "ascii"})

# Checked in this order: the UTF-32-LE BOM starts with the UTF-16-LE one.
# A page that is almost valid in a charset (a stray or truncated byte, common on the GBK pages of
# the 2000s) is still that page: accept up to this share of undecodable bytes, replaced by U+FFFD.
_MAX_BAD_SHARE = 0.001
_MIN_BAD_ALLOWED = 2

# What charset_normalizer may answer for a page of this region's sites. Any other guess (it
# reads a GB2312 forum page of bbs.zol.com.cn as the Kazakh ptcp154) loses to GB18030 when the
# bytes are nearly valid GB18030: every site this bot reads is Chinese.
_CJK_CODECS = frozenset(
    {"gb18030", "gbk", "gb2312", "big5", "big5hkscs", "cp950", "utf_8", "utf-8", "hz"}
)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _codec_name(label: str) -> str | None:
    """Map a declared charset label to a Python codec name, or None when unknown."""
    name = label.strip().strip("\"'").lower()
    if not name:
        return None
    if name in _GB_FAMILY or name.replace("_", "") in {"gb2312", "gb231280"}:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _declared_codecs(data: bytes, http_charset: str | None) -> list[str]:
    """Return the codecs the HTTP header and the <meta> tags name, in that order, deduplicated."""
    labels: list[str] = []
    if http_charset:
        labels.append(http_charset)
    for match in _META_CHARSET.finditer(data[:_META_SCAN_BYTES]):
        labels.append(match.group(1).decode("ascii", "replace"))
    result: list[str] = []
    for label in labels:
        name = _codec_name(label)
        if name is None:
            logger.debug("ignoring unknown charset label %r", label)
        elif name not in result:
            result.append(name)
    return result


def _nearly_decodable(data: bytes, names: list[str]) -> str | None:
    """Decode with the codec that needs the fewest replacements, if few enough are needed."""
    budget = max(_MIN_BAD_ALLOWED, int(len(data) * _MAX_BAD_SHARE))
    best: tuple[int, str] | None = None
    for name in dict.fromkeys(names):
        if name in _ANY_BYTES_CODECS:
            continue
        text = data.decode(name, errors="replace")
        bad = text.count("\ufffd") - data.decode(name, errors="ignore").count("\ufffd")
        if bad <= budget and (best is None or bad < best[0]):
            best = (bad, text)
    if best is not None:
        logger.debug("decoded with %d replaced bytes", best[0])
        return best[1]
    return None


def decode_html(data: bytes, http_charset: str | None = None) -> str:
    """Decode page bytes: strict UTF-8, then the declared charsets, then detection."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name)  # these codecs consume the BOM themselves
            except UnicodeDecodeError:
                break
    # A strict UTF-8 decode that succeeds is right even when the page says GB2312: people.com.cn
    # style templates (nen.com.cn 2019–2021) declare GB2312 over UTF-8 bytes.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _declared_codecs(data, http_charset)
    for name in declared:
        if name in _ANY_BYTES_CODECS or name == "utf-8":
            continue
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            logger.debug("bytes are not valid %s", name)
    # Before guessing, give the declared charset (or UTF-8) the benefit of a few bad bytes.
    nearly = _nearly_decodable(data, [*declared, "utf-8"])
    if nearly is not None:
        return nearly
    best = from_bytes(data).best()
    guess = (_codec_name(best.encoding) or best.encoding) if best and best.encoding else None
    if guess not in _CJK_CODECS:
        chinese = _nearly_decodable(data, ["gb18030"])
        if chinese is not None:
            return chinese
    if best is not None and guess:
        name = guess
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            return str(best)
    for name in declared:
        if name in _ANY_BYTES_CODECS:
            try:
                return data.decode(name)
            except UnicodeDecodeError:
                continue
    raise DecodeError(f"cannot decode {len(data)} bytes: not UTF-8, declared {declared or 'none'}")
