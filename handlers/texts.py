"""Every string the bot shows a user, in Chinese (default) and English."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Command:
    """A command in the menu and in /help."""

    name: str
    args: str
    zh: str
    en: str
    admin: bool = False


# The order here is the order of the Telegram menu and of /help.
COMMANDS: tuple[Command, ...] = (
    Command(
        "latest",
        "[n]",
        "最新新闻（默认 10 条，最多 30 条）",
        "newest headlines (10 by default, 30 at most)",
    ),
    Command(
        "search",
        "词语 [2023-01..2024-06]",
        "全文搜索，可加日期范围",
        "full-text search, optional date range",
    ),
    Command("summary", "编号", "文章摘要及讲话领导", "an article's summary and who spoke"),
    Command("article", "编号", "阅读全文", "read the whole article"),
    Command(
        "speaker", "姓名|职务|拼音", "某位领导的讲话，最新在前", "what a leader said, newest first"
    ),
    Command("speakers", "", "近 7 天讲话最多的领导", "who spoke most in the last 7 days"),
    Command("help", "", "所有命令及用法", "every command and how to use it"),
    Command("start", "", "欢迎与简介", "welcome and what the bot does"),
    Command(
        "status",
        "",
        "各新闻源的抓取状态（管理员）",
        "health of each news source (admins)",
        admin=True,
    ),
)

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "welcome": (
            "👋 你好！我是<b>东北新闻网</b>（nen.com.cn）新闻机器人，为你送上辽宁本地新闻。\n\n"
            "• /latest 最新新闻\n"
            "• /search 全文搜索，如 /search 振兴\n"
            "• /speaker 领导讲话，如 /speaker 易炼红\n"
            "• /help 全部命令\n\n"
            "新闻来自东北新闻网的公开页面，定时更新。"
        ),
        "help_title": "<b>命令列表</b>",
        "latest_title": "<b>最新新闻</b>",
        "latest_empty": "暂时还没有新闻。新闻会定时从东北新闻网抓取，请稍后再试。",
        "latest_usage": "用法：/latest [n]，n 为 1 到 {max} 之间的整数，例如 /latest 5",
        "error": "抱歉，处理你的请求时出了点问题。我们已经记录下来，请稍后再试。",
        "admin_only": "此命令仅限管理员使用。",
        "status_title": "<b>新闻源状态</b>",
        "status_empty": "还没有配置任何新闻源。",
        "never": "从未",
        "prev": "⬅️ 上一页",
        "next": "下一页 ➡️",
        "summary_button": "摘要 {n}",
        "by_relevance": "按相关度",
        "by_date": "按时间",
        "page": "第 {page}/{pages} 页",
        "stale": "这个按钮已失效，请重新发送命令。",
        "not_found_article": "找不到编号为 {id} 的文章。用 /latest 或 /search 查看文章编号。",
        "summary_usage": "用法：/summary 编号，例如 /summary 12（编号见 /latest 中每条新闻前的 #）",
        "article_usage": "用法：/article 编号，例如 /article 12",
        "summary_none": "（这篇文章暂无摘要）",
        "spoke_label": "讲话",
        "source_label": "来源",
        "read_more": "阅读全文：/article {id}",
        "search_usage": (
            "用法：/search 词语 [日期范围]，例如 /search 营商环境 或 "
            "/search 营商环境 2023-01..2024-06（最多 {max} 个词，共 {chars} 字以内）"
        ),
        "search_none": "没有找到包含“{query}”的文章。",
        "search_title": "<b>搜索“{query}”</b>：共 {total} 篇",
        "speaker_usage": "用法：/speaker 姓名、职务或拼音，例如 /speaker 易炼红、/speaker 沈阳市委书记、/speaker yilianhong",
        "speaker_not_found": "没有找到“{query}”。",
        "speaker_suggest": "你是不是要找：{names}",
        "speaker_profile": "<b>{name}</b>{title}\n共 {count} 篇文章提到 · 首见 {first} · 最近 {last}",
        "speaker_no_speech": "还没有收录 {name} 的讲话。",
        "speaker_statements": "<b>讲话</b>（第 {page}/{pages} 页）",
        "title_holders": "<b>担任过“{query}”的人</b>（最近在前）",
        "speakers_title": "<b>近 7 天讲话最多的领导</b>",
        "speakers_none": "近 7 天还没有收录到领导讲话。",
        "articles_unit": "篇",
    },
    "en": {
        "welcome": (
            "👋 Hello! I serve regional news from <b>东北新闻网</b> (nen.com.cn), Liaoning.\n\n"
            "• /latest newest headlines\n"
            "• /search full-text search, e.g. /search 振兴\n"
            "• /speaker what a leader said, e.g. /speaker 易炼红\n"
            "• /help every command\n\n"
            "Articles are collected from nen.com.cn's public pages on a schedule."
        ),
        "help_title": "<b>Commands</b>",
        "latest_title": "<b>Latest news</b>",
        "latest_empty": "No news stored yet. Articles are fetched from nen.com.cn on a schedule; "
        "please try again later.",
        "latest_usage": "Usage: /latest [n], n a whole number from 1 to {max}, e.g. /latest 5",
        "error": "Sorry, something went wrong while handling your request. It has been logged; "
        "please try again later.",
        "admin_only": "This command is for admins only.",
        "status_title": "<b>News sources</b>",
        "status_empty": "No news sources are configured.",
        "never": "never",
        "prev": "⬅️ Previous",
        "next": "Next ➡️",
        "summary_button": "Summary {n}",
        "by_relevance": "By relevance",
        "by_date": "By date",
        "page": "page {page}/{pages}",
        "stale": "This button has expired; please send the command again.",
        "not_found_article": "No article #{id}. /latest and /search show article numbers.",
        "summary_usage": "Usage: /summary ID, e.g. /summary 12 (the # before each headline in /latest)",
        "article_usage": "Usage: /article ID, e.g. /article 12",
        "summary_none": "(no summary for this article yet)",
        "spoke_label": "Spoke",
        "source_label": "Source",
        "read_more": "Read it all: /article {id}",
        "search_usage": (
            "Usage: /search WORDS [DATES], e.g. /search 营商环境 or "
            "/search 营商环境 2023-01..2024-06 (at most {max} words, {chars} characters)"
        ),
        "search_none": "No article contains “{query}”.",
        "search_title": "<b>Search “{query}”</b>: {total} articles",
        "speaker_usage": "Usage: /speaker NAME, TITLE or PINYIN, e.g. /speaker 易炼红, /speaker 沈阳市委书记, /speaker yilianhong",
        "speaker_not_found": "Nobody called “{query}” is known.",
        "speaker_suggest": "Did you mean: {names}",
        "speaker_profile": "<b>{name}</b>{title}\nnamed in {count} articles · first {first} · last {last}",
        "speaker_no_speech": "No statements by {name} are stored yet.",
        "speaker_statements": "<b>Statements</b> (page {page}/{pages})",
        "title_holders": "<b>Who held “{query}”</b> (most recent first)",
        "speakers_title": "<b>Who spoke most in the last 7 days</b>",
        "speakers_none": "No leader statements stored in the last 7 days.",
        "articles_unit": "articles",
    },
}


def language_of(code: str | None) -> str:
    """Map a Telegram language_code to one of our languages: English if it says so, else Chinese."""
    if code and code.lower().startswith("en"):
        return "en"
    return "zh"


def text(lang: str, key: str, **values: object) -> str:
    """Return the string `key` in `lang` (falling back to Chinese), formatted with values."""
    template = TEXTS.get(lang, TEXTS["zh"]).get(key) or TEXTS["zh"][key]
    return template.format(**values) if values else template
