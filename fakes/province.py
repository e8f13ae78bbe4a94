"""A loopback province: seven Liaoning sites of different CMS families, ten years of articles.

Each site listens on its own port of 127.0.0.1 (so per-host politeness and robots.txt work as on
the real hosts) and stands for one source of the shipped catalogue, whose list paths it serves:

    async with Province(articles=300) as province:
        toml = province.sources_toml()          # the catalogue's entries, pointed at loopback
        province.base_url("lngov")              # http://127.0.0.1:PORT
        province.set_fault("trs", SiteFault(status=500))

Pages are generated on request from (seed, site, index), so 20,000 articles cost no memory
beyond their dates. Markup follows fakes/province_pages.py, which cites SOURCES.md.
Run by hand: `python -m fakes.province --articles 2000`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import re
import signal
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Any

from aiohttp import web

from fakes import province_pages as pages
from fakes.province_pages import FakeArticle
from news.ingest.sources import PROFILES
from news.ingest.sources_file import catalogue_text, parse_sources

HOST = "127.0.0.1"
DEFAULT_END = date(2026, 11, 30)


@dataclass(frozen=True, slots=True)
class SiteFault:
    """How a site misbehaves; `scope` says which of its pages ("list", "article", "all")."""

    scope: str = "list"
    status: int | None = None  # answer with this status
    delay: float = 0.0  # seconds before answering (a client timeout)
    garbage: bool = False  # answer a page of binary garbage with status 200
    fail_first: int | None = None  # misbehave on the first K matching requests only
    loop: bool = False  # the last list page's next page is the first one again
    endless: bool = False  # list pages never end; an e-paper has issues on every day, future too


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """One site of the province: the catalogue source it stands for and where it lists."""

    key: str  # also its CMS family
    source: str  # the catalogue [[source]] name
    host: str  # the real host it stands for
    list_path: str  # the first list page (the catalogue's list path)
    charset: str = "utf-8"


SITES: tuple[SiteSpec, ...] = (
    SiteSpec("lngov", "lngov-ywdt", "www.ln.gov.cn", "/web/ywdt/index.shtml"),
    SiteSpec(
        "epaper",
        "lnrb-epaper",
        "epaper.lnd.com.cn",
        "/lnrbepaper/pc/layout/{date:%Y%m/%d}/node_01.html",
    ),
    SiteSpec("trs", "shenyang-zwyw", "www.shenyang.gov.cn", "/zwgk/zwdt/zwyw/"),
    SiteSpec("enorth", "lnd-szyw", "liaoning.lnd.com.cn", "/szyw/index.shtml"),
    SiteSpec("founder", "dlxww", "www.dlxww.com", "/", charset="gb18030"),
    SiteSpec("glist", "anshan-jras", "www.anshan.gov.cn", "/asszf/jras/glist.html"),
    SiteSpec("epoint", "fushun-jrfs", "www.fushun.gov.cn", "/ywdt/001001/moreinfo.html"),
)
_REGION = {
    "lngov": "辽宁",
    "epaper": "辽宁",
    "trs": "沈阳",
    "enorth": "辽宁",
    "founder": "大连",
    "glist": "鞍山",
    "epoint": "抚顺",
}
_SOURCE_LABEL = {
    "lngov": "辽宁日报",
    "epaper": "辽宁日报",
    "trs": "沈阳日报",
    "enorth": "辽宁日报",
    "founder": "大连日报",
    "glist": "鞍山日报",
    "epoint": "抚顺日报",
}
_TITLE = {
    "lngov": "要闻动态",
    "trs": "政务要闻",
    "enorth": "时政要闻",
    "glist": "今日鞍山",
    "epoint": "今日抚顺",
}
# The e-paper prints each issue on this many pages (node_01 … node_NN).
EPAPER_PAGES = 2


def default_holidays(end: date, years: int) -> frozenset[date]:
    """Days without an e-paper issue: New Year's Day and the first three days of October."""
    days = set()
    for year in range(end.year - years - 1, end.year + 2):
        days.update({date(year, 1, 1), date(year, 10, 1), date(year, 10, 2), date(year, 10, 3)})
    return frozenset(days)


@dataclass
class _Site:
    spec: SiteSpec
    count: int
    times: list[datetime]
    paths: list[str]
    index_of: dict[str, int]
    per_page: int
    fault: SiteFault | None = None
    fault_hits: int = 0
    robots: tuple[int, str, str] | None = None  # (status, content type, body)
    hits: Counter[str] = field(default_factory=Counter)
    issues: dict[date, list[int]] = field(default_factory=dict)  # e-paper: day -> indexes
    runner: web.AppRunner | None = None
    base_url: str = ""


class Province:
    """Serve the loopback province; see the module docstring."""

    def __init__(
        self,
        articles: int = 140,
        *,
        years: int = 10,
        end: date = DEFAULT_END,
        seed: int = 24,
        per_page: int = 20,
        holidays: frozenset[date] | None = None,
        sites: tuple[str, ...] | None = None,
    ) -> None:
        specs = [spec for spec in SITES if sites is None or spec.key in sites]
        if not specs:
            raise ValueError("Province needs at least one site")
        self.years, self.end, self.seed = years, end, seed
        self.holidays = default_holidays(end, years) if holidays is None else holidays
        self._sites: dict[str, _Site] = {}
        share, extra = divmod(articles, len(specs))
        for number, spec in enumerate(specs):
            count = share + (1 if number < extra else 0)
            self._sites[spec.key] = self._build(spec, count, per_page)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    # --- building ---------------------------------------------------------------------------

    def _build(self, spec: SiteSpec, count: int, per_page: int) -> _Site:
        if spec.key == "epaper":
            return self._build_epaper(spec, count, per_page)
        times = pages.spread(count, self.end, self.years, self.seed, spec.key)
        paths = [self._article_path(spec.key, n, when) for n, when in enumerate(times)]
        index_of = {path: n for n, path in enumerate(paths)}
        return _Site(spec, count, times, paths, index_of, per_page)

    def _build_epaper(self, spec: SiteSpec, count: int, per_page: int) -> _Site:
        """Give each issue day (newest first, holidays skipped) per_issue articles."""
        per_issue = max(1, math.ceil(count / (self.years * 365 - len(self.holidays))))
        per_issue = max(per_issue, 2)
        times: list[datetime] = []
        issues: dict[date, list[int]] = {}
        day = self.end
        while len(times) < count:
            if day not in self.holidays:
                for slot in range(min(per_issue, count - len(times))):
                    issues.setdefault(day, []).append(len(times))
                    times.append(datetime(day.year, day.month, day.day, 5, slot))
            day -= timedelta(days=1)
        paths = [self._article_path(spec.key, n, when) for n, when in enumerate(times)]
        index_of = {path: n for n, path in enumerate(paths)}
        return _Site(spec, count, times, paths, index_of, per_page, issues=issues)

    def _article_path(self, key: str, n: int, when: datetime) -> str:
        serial = 100000 + n
        if key == "lngov":
            return f"/web/ywdt/jrln/wzxx2018/{when:%Y%m%d%H%M%S}{n % 100000:05d}/index.shtml"
        if key == "epaper":
            return f"/lnrbepaper/pc/con/{when:%Y%m/%d}/content_{300000 + n}.html"
        if key == "trs":
            return f"/zwgk/zwdt/zwyw/{when:%Y%m}/t{when:%Y%m%d}_{4000000 + n}.html"
        if key == "enorth":
            return f"/system/{when:%Y/%m/%d}/030{400000 + n:06d}.shtml"
        if key == "founder":
            return f"/news/{when:%Y-%m/%d}/content_{serial}.htm"
        if key == "glist":
            return f"/html/ASSZF/{when:%Y%m}/{1176672950590130 + n}.html"
        if key == "epoint":
            return f"/ywdt/001007/{when:%Y%m%d}/{n:08x}-6f1c-4b2a-9d3e-{serial:012x}.html"
        raise ValueError(key)

    # --- the public API -----------------------------------------------------------------------

    @property
    def keys(self) -> tuple[str, ...]:
        """Return the keys (families) of the sites served."""
        return tuple(self._sites)

    def base_url(self, key: str) -> str:
        """Return http://127.0.0.1:PORT of one running site."""
        site = self._sites[key]
        if not site.base_url:
            raise RuntimeError("Province is not started")
        return site.base_url

    def source_name(self, key: str) -> str:
        """Return the catalogue source a site stands for."""
        return self._sites[key].spec.source

    def list_url(self, key: str) -> str:
        """Return a site's first list URL (an e-paper's holds a {date:…} placeholder)."""
        return self.base_url(key) + self._sites[key].spec.list_path

    def article(self, key: str, index: int) -> FakeArticle:
        """Return a site's article by index (0 = newest)."""
        site = self._sites[key]
        return pages.make_article(
            key,
            _REGION[key],
            _SOURCE_LABEL[key],
            index,
            site.times[index],
            site.paths[index],
            self.seed,
        )

    def articles(self, key: str) -> list[FakeArticle]:
        """Return every article of a site, newest first."""
        return [self.article(key, n) for n in range(self._sites[key].count)]

    def article_count(self, key: str | None = None) -> int:
        """Return how many articles a site (or the whole province) has."""
        if key is not None:
            return self._sites[key].count
        return sum(site.count for site in self._sites.values())

    def article_url(self, key: str, index: int) -> str:
        """Return the absolute URL of a site's article."""
        return self.base_url(key) + self._sites[key].paths[index]

    def issue_days(self) -> list[date]:
        """Return the e-paper's issue days, newest first."""
        return sorted(self._sites["epaper"].issues, reverse=True)

    def issue(self, day: date) -> list[int]:
        """Return the e-paper's article indexes of one day (empty: no issue that day)."""
        return list(self._sites["epaper"].issues.get(day, []))

    def set_fault(self, key: str, fault: SiteFault | None) -> None:
        """Make one site misbehave (None: behave again)."""
        site = self._sites[key]
        site.fault, site.fault_hits = fault, 0

    def set_robots(
        self, key: str, body: str, *, status: int = 200, content_type: str = "text/plain"
    ) -> None:
        """Serve this robots.txt on a site (by default a site has none: 404)."""
        self._sites[key].robots = (status, content_type, body)

    def hits(self, key: str, path: str | None = None) -> int:
        """Return how many requests reached a site (or one path of it)."""
        counter = self._sites[key].hits
        return counter[path] if path is not None else sum(counter.values())

    def hit_paths(self, key: str) -> Counter[str]:
        """Return a copy of a site's request counts by path."""
        return Counter(self._sites[key].hits)

    def sources_toml(
        self,
        *,
        interval_minutes: float = 60,
        max_pages: int = 3,
        keys: tuple[str, ...] | None = None,
    ) -> str:
        """Return the catalogue's [[source]] tables of the sites served, pointed at loopback."""
        catalogue = {s.name: s for s in parse_sources(catalogue_text(), "catalogue", PROFILES)}
        tables = []
        for key in keys or self.keys:
            source = catalogue[self._sites[key].spec.source]
            lists = ", ".join(f'"{self.rewrite(url)}"' for url in source.lists)
            tables.append(
                "[[source]]\n"
                f'name = "{source.name}"\n'
                f'title = "{source.title}"\n'
                f'region = "{source.region}"\n'
                f'kind = "{source.kind}"\n'
                f'profile = "{source.profile}"\n'
                f"lists = [{lists}]\n"
                f"interval_minutes = {interval_minutes}\n"
                f"max_pages = {max_pages}\n"
            )
        header = "# The loopback province (fakes/province.py): catalogue sources on 127.0.0.1.\n"
        return header + "\n".join(tables)

    def rewrite(self, url: str) -> str:
        """Point a URL of a real host this province stands for at its loopback site."""
        for site in self._sites.values():
            for scheme in ("https://", "http://"):
                prefix = scheme + site.spec.host
                if url.startswith(prefix) and site.base_url:
                    return site.base_url + url[len(prefix) :]
        return url

    # --- serving ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start every site on its own loopback port."""
        self._stopping = asyncio.Event()
        try:
            for site in self._sites.values():
                app = web.Application()
                app.router.add_get("/{tail:.*}", self._handler(site))
                runner = web.AppRunner(
                    app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
                )
                await runner.setup()
                tcp = web.TCPSite(runner, HOST, 0)
                await tcp.start()
                site.runner = runner
                site.base_url = f"http://{HOST}:{runner.addresses[0][1]}"
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop every site."""
        if self._stopping is not None:
            self._stopping.set()
        for site in self._sites.values():
            runner, site.runner = site.runner, None
            if runner is not None:
                await runner.cleanup()
            site.base_url = ""

    async def __aenter__(self) -> Province:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def run_in_thread(self) -> None:
        """Serve from a daemon thread with its own event loop (for synchronous callers)."""
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def main() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop())
                loop.close()

        thread = threading.Thread(target=main, name="fake-province", daemon=True)
        thread.start()
        ready.wait()
        if failure:
            thread.join()
            raise failure[0]
        self._thread, self._loop = thread, loop

    def stop_thread(self, timeout: float = 5.0) -> None:
        """Stop a province started with run_in_thread()."""
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._thread = self._loop = None

    def _handler(self, site: _Site) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._handle(site, request)

        return handle

    async def _handle(self, site: _Site, request: web.Request) -> web.StreamResponse:
        path = request.path
        site.hits[request.path_qs] += 1
        if path == "/robots.txt":
            if site.robots is None:
                raise web.HTTPNotFound()
            status, content_type, body = site.robots
            return web.Response(status=status, body=body.encode(), content_type=content_type)
        is_article = path in site.index_of
        fault = site.fault
        if fault is not None and fault.scope in ("all", "article" if is_article else "list"):
            site.fault_hits += 1
            if fault.fail_first is None or site.fault_hits <= fault.fail_first:
                answer = await self._misbehave(fault)
                if answer is not None:
                    return answer
        if is_article:
            article = self.article(site.spec.key, site.index_of[path])
            return self._html(site, _ARTICLE_RENDERERS[site.spec.key](article))
        if site.spec.key == "enorth" and path.endswith(".js"):
            return web.Response(
                text=pages.enorth_count_script(self._enorth_maxpage(site)),
                content_type="application/javascript",
            )
        page = self._list_page(site, request)
        if page is None:
            raise web.HTTPNotFound()
        number = self._list_number(site, request)
        if (
            site.fault is not None
            and site.fault.loop
            and number is not None
            and site.spec.key != "epaper"
            and self._next_page(site, number) == 0
        ):
            # The last page's pager leads back to the first (a CMS that wraps around).
            loop_link = f'<a href="{self._first_list_href(site)}">下一页</a>'
            page = page.replace("</body>", loop_link + "</body>")
        return self._html(site, page)

    async def _misbehave(self, fault: SiteFault) -> web.StreamResponse | None:
        if fault.delay > 0:
            assert self._stopping is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), fault.delay)
        if fault.status is not None:
            return web.Response(status=fault.status, text=f"fault {fault.status}\n")
        if fault.garbage:
            noise = bytes((n * 97 + 13) % 256 for n in range(4096))
            return web.Response(body=noise, content_type="text/html")
        return None

    def _html(self, site: _Site, text: str) -> web.Response:
        charset = site.spec.charset
        return web.Response(
            body=text.encode(charset, errors="xmlcharrefreplace"),
            headers={"Content-Type": f"text/html; charset={charset}"},
        )

    # --- list pages of each family --------------------------------------------------------------

    def _page_items(self, site: _Site, page: int) -> list[FakeArticle]:
        start = page * site.per_page
        stop = min(site.count, start + site.per_page)
        return [self.article(site.spec.key, n) for n in range(start, stop)]

    def _pages(self, site: _Site) -> int:
        return max(1, math.ceil(site.count / site.per_page))

    def _next_page(self, site: _Site, page: int) -> int | None:
        """Return the list page after `page`, as the site's faults bend it."""
        fault = site.fault
        if page + 1 < self._pages(site):
            return page + 1
        if fault is not None and fault.endless:
            return page + 1
        if fault is not None and fault.loop:
            return 0
        return None

    def _enorth_maxpage(self, site: _Site) -> int:
        # index.shtml is page 0; archive page N (1 = oldest) holds list page pages - N.
        return max(1, self._pages(site) - 1)

    def _list_page(self, site: _Site, request: web.Request) -> str | None:
        key, path = site.spec.key, request.path
        number = self._list_number(site, request)
        if number is None:
            return None
        if key == "epaper":
            return self._epaper_page(site, path)
        total = self._pages(site)
        fault = site.fault
        if number >= total and not (fault is not None and fault.endless):
            return None
        items = self._page_items(site, number)
        following = self._next_page(site, number)
        title = _TITLE.get(key, "")
        if key == "lngov":
            next_path = self._lngov_path(following) if following else None
            return pages.lngov_list(items, next_path, title)
        if key == "trs":
            shown = total if following is None or following > number else number + 1
            if fault is not None and fault.endless:
                shown = number + 2
            return pages.trs_list(items, number, shown, title)
        if key == "enorth":
            return pages.enorth_list(items, title, with_count_script=number == 0)
        if key == "founder":
            base = "news/" if path == "/" else ""
            href = None
            if following:
                href = f"{base}node_7_{following + 1}.htm"
            return pages.founder_list(items, href, total, base)
        if key == "glist":
            shown = total if not (fault is not None and fault.endless) else number + 2
            return pages.glist_list(items, number, shown, title)
        if key == "epoint":
            shown = total if not (fault is not None and fault.endless) else number + 2
            return pages.epoint_list(items, number + 1, shown, title)
        return None

    def _first_list_href(self, site: _Site) -> str:
        """Return the href of a site's first list page (where a looping pager leads)."""
        key = site.spec.key
        return {
            "lngov": "/web/ywdt/index.shtml",
            "trs": "/zwgk/zwdt/zwyw/index.html",
            "founder": "/news/node_7.htm",
            "glist": "/asszf/jras/glist.html",
            "epoint": "/ywdt/001001/moreinfo.html?categoryNum=001001&amp;pageIndex=1",
        }.get(key, site.spec.list_path)

    def _lngov_path(self, number: int) -> str:
        return "/web/ywdt/index.shtml" if number == 0 else f"/web/ywdt/5b93cb3c-{number + 1}.shtml"

    def _list_number(self, site: _Site, request: web.Request) -> int | None:
        """Return which list page a path asks for (0 = the first), None for no list page."""
        key, path = site.spec.key, request.path
        if key == "lngov":
            if path == "/web/ywdt/index.shtml":
                return 0
            match = re.fullmatch(r"/web/ywdt/5b93cb3c-(\d+)\.shtml", path)
            return int(match[1]) - 1 if match and int(match[1]) >= 2 else None
        if key == "epaper":
            return (
                0
                if re.fullmatch(r"/lnrbepaper/pc/layout/\d{6}/\d{2}/node_\d{2}\.html", path)
                else None
            )
        if key == "trs":
            if path in ("/zwgk/zwdt/zwyw/", "/zwgk/zwdt/zwyw/index.html"):
                return 0
            match = re.fullmatch(r"/zwgk/zwdt/zwyw/index_(\d+)\.html", path)
            return int(match[1]) if match else None
        if key == "enorth":
            if path == "/szyw/index.shtml":
                return 0
            match = re.fullmatch(
                r"/system/count//\d{7}/\d{12}/\d{3}/\d{3}/c\d{19}_(\d{9})\.shtml", path
            )
            if match is None:
                return None
            archive = int(match[1])
            maxpage = self._enorth_maxpage(site)
            return maxpage - archive + 1 if 1 <= archive <= maxpage else None
        if key == "founder":
            if path in ("/", "/news/node_7.htm"):
                return 0
            match = re.fullmatch(r"/news/node_7_(\d+)\.htm", path)
            return int(match[1]) - 1 if match and int(match[1]) >= 2 else None
        if key == "glist":
            if path == "/asszf/jras/glist.html":
                return 0
            match = re.fullmatch(r"/asszf/jras/glist_(\d+)\.html", path)
            return int(match[1]) - 1 if match and int(match[1]) >= 2 else None
        if key == "epoint":
            if path != "/ywdt/001001/moreinfo.html":
                return None
            raw = request.query.get("pageIndex", "1")
            return int(raw) - 1 if raw.isdigit() and int(raw) >= 1 else None
        return None

    def _epaper_page(self, site: _Site, path: str) -> str | None:
        match = re.fullmatch(
            r"/lnrbepaper/pc/layout/(\d{4})(\d{2})/(\d{2})/node_(\d{2})\.html", path
        )
        if match is None:
            return None
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
        number = int(match[4])
        indexes = site.issues.get(day)
        fault = site.fault
        if indexes is None:
            if fault is not None and fault.endless:
                indexes = []  # a calendar that answers any day, the future too
            else:
                return None  # no issue that day (a holiday, or outside the archive)
        if not 1 <= number <= EPAPER_PAGES:
            return None
        mine = indexes[number - 1 :: EPAPER_PAGES]
        items = [self.article("epaper", n) for n in mine]
        return pages.epaper_layout(day, items, number, EPAPER_PAGES)


_ARTICLE_RENDERERS: dict[str, Callable[[FakeArticle], str]] = {
    "lngov": pages.lngov_article,
    "epaper": pages.epaper_article,
    "trs": pages.trs_article,
    "enorth": pages.enorth_article,
    "founder": pages.founder_article,
    "glist": pages.glist_article,
    "epoint": pages.epoint_article,
}


async def _serve_forever(articles: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Province(articles) as province:
        for key in province.keys:
            print(f"{key:8} {province.list_url(key)}", flush=True)
        print(province.sources_toml(), flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    """Serve the loopback province until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=2000)
    args = parser.parse_args(argv)
    asyncio.run(_serve_forever(args.articles))


if __name__ == "__main__":
    main()
