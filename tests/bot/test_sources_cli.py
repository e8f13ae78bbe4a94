"""`newsbot sources check` and `newsbot sources probe` against the loopback province."""

from __future__ import annotations

import asyncio
import os
import sys
import tomllib
from pathlib import Path

from fakes.province import Province, SiteFault
from news.ingest.sources import PROFILES
from news.ingest.sources_file import parse_sources


async def newsbot(tmp_path: Path, province: Province, *args: str) -> tuple[int, str, str]:
    sources = tmp_path / "sources.toml"
    sources.write_text(province.sources_toml(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(NEWSBOT_DB=str(tmp_path / "s.db"), NEWSBOT_SOURCES=str(sources))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "sources", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_check_prints_a_row_per_source_and_fails_on_a_broken_one(tmp_path: Path) -> None:
    async with Province(articles=200, years=2) as province:
        code, out, _err = await newsbot(tmp_path, province, "check")
        assert code == 0, out
        lines = out.splitlines()
        assert lines[0].split()[:5] == ["source", "region", "list", "links", "next"]
        rows = {line.split()[0]: line for line in lines[1:-1]}
        assert set(rows) == {province.source_name(k) for k in province.keys}
        for row in rows.values():
            assert row.rstrip().endswith("ok"), row
            assert " 200 " in row and "2026-11-" in row, row
        assert lines[-1] == "7 of 7 sources work"
        newest = province.article("trs", 0).title
        assert newest[:10] in rows["shenyang-zwyw"]

        province.set_fault("glist", SiteFault(status=500))
        province.set_fault("trs", SiteFault(scope="article", status=404))
        code, out, err = await newsbot(
            tmp_path, province, "check", "anshan-jras", "shenyang-zwyw", "lnd-szyw"
        )
        assert code == 1 and "Traceback" not in err
        rows = {line.split()[0]: line for line in out.splitlines()[1:-1]}
        assert "FAIL: list: HTTP 500" in rows["anshan-jras"]
        assert "FAIL: article: HTTP 404" in rows["shenyang-zwyw"]
        assert rows["lnd-szyw"].rstrip().endswith("ok")
        assert out.splitlines()[-1] == "1 of 3 sources work"


async def test_check_names_an_unknown_source_in_one_line(tmp_path: Path) -> None:
    async with Province(articles=10, years=1, sites=("trs",)) as province:
        code, _out, err = await newsbot(tmp_path, province, "check", "nope")
    assert code == 2 and err.strip() == "newsbot sources check: no source named nope"


async def test_probe_prints_a_source_table_that_loads_and_reads_the_site(tmp_path: Path) -> None:
    async with Province(articles=100, years=2) as province:
        for key in ("trs", "glist", "founder", "epoint"):
            code, out, err = await newsbot(tmp_path, province, "probe", province.list_url(key))
            assert code == 0, err
            table = tomllib.loads(out)["source"][0]
            assert table["profile"] == key, out
            assert table["lists"] == [province.list_url(key)]
            assert "# Sample: " + province.article(key, 0).title in out
            # The table is a valid source as printed.
            [source] = parse_sources(out, "probe", PROFILES)
            assert source.profile == key


async def test_probe_says_in_one_line_why_it_cannot(tmp_path: Path) -> None:
    async with Province(articles=20, years=1, sites=("trs",)) as province:
        base = province.base_url("trs")
        code, out, err = await newsbot(tmp_path, province, "probe", base + "/missing.html")
        assert code == 1 and out == ""
        assert err.strip().startswith("newsbot sources probe: cannot read the page")
        assert "404" in err and len(err.strip().splitlines()) == 1
        article = province.article_url("trs", 0)
        code, _out, err = await newsbot(tmp_path, province, "probe", article)
        assert code == 1 and "no article links found" in err
        code, _out, err = await newsbot(tmp_path, province, "probe", "ftp://x.cn/")
        assert code == 2 and "not an http(s) URL" in err
