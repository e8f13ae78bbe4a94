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
        "speaker",
        "姓名|职务 [年月]|拼音",
        "某位领导出现的文章（讲话、主持、出席…），最新在前；职务加年月查当时的任职者",
        "every article a leader appears in, newest first; a title and a month finds who held it",
    ),
    Command("speakers", "", "近 7 天讲话最多的领导", "who spoke most in the last 7 days"),
    Command(
        "chart",
        "姓名",
        "某位领导近两年每月的活动图",
        "a leader's appearances per month, as a chart",
    ),
    Command(
        "trend",
        "词语 [2023-01..2024-06]",
        "某个词每月出现在多少篇文章里（图）",
        "how many articles a month contain a word (chart)",
    ),
    Command(
        "subscribe",
        "[HH:MM] [时区]",
        "每日摘要，默认 08:00 北京时间",
        "daily digest, 08:00 Beijing time by default",
    ),
    Command("unsubscribe", "", "取消每日摘要", "stop the daily digest"),
    Command(
        "settings", "", "摘要时间、时区、栏目和语言", "digest time, time zone, channels, language"
    ),
    Command("follow", "姓名", "某位领导讲话时推送", "a push when a leader speaks"),
    Command("unfollow", "姓名", "取消关注领导", "stop following a leader"),
    Command("following", "", "我关注的领导和关键词", "the leaders and words you follow"),
    Command("keyword", "词语", "标题出现该词时推送", "a push when a word is in a new title"),
    Command("unkeyword", "词语", "取消关注关键词", "stop following a word"),
    Command("help", "", "所有命令及用法", "every command and how to use it"),
    Command("start", "", "欢迎与简介", "welcome and what the bot does"),
    Command(
        "digest_now",
        "[chat_id]",
        "立即发送一次摘要（管理员）",
        "send a digest now (admins)",
        admin=True,
    ),
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
        "error_store": "抱歉，数据库暂时无法写入（管理员已收到记录）。浏览新闻仍可使用，请稍后再试。",
        "status_store_trouble": "⛔ 数据库暂时无法写入：",
        "never": "从未",
        "prev": "⬅️ 上一页",
        "next": "下一页 ➡️",
        "summary_button": "摘要 {n}",
        "by_relevance": "按相关度",
        "relevance_capped": "按相关度排列的是最新的 {cap} 篇",
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
        "related": "相关新闻",
        "search_usage": (
            "用法：/search 词语 [日期范围]，例如 /search 营商环境 或 "
            "/search 营商环境 2023-01..2024-06（最多 {max} 个词，共 {chars} 字以内）"
        ),
        "search_none": "没有找到包含“{query}”的文章。",
        "search_title": "<b>搜索“{query}”</b>：共 {total} 篇",
        "speaker_usage": "用法：/speaker 姓名、职务或拼音，例如 /speaker 易炼红、/speaker 沈阳市委书记、/speaker yilianhong；职务加年月查当时的任职者：/speaker 省长 2024-03",
        "speaker_not_found": "没有找到“{query}”。",
        "speaker_suggest": "你是不是要找：{names}",
        "speaker_profile": "<b>{name}</b>{title}\n共 {count} 篇文章提到 · 首见 {first} · 最近 {last}",
        "speaker_no_speech": "还没有收录 {name} 的讲话。",
        "speaker_statements": "<b>讲话</b>（第 {page}/{pages} 页）",
        "speaker_appearances": "<b>全部文章</b>（第 {page}/{pages} 页）",
        "speaker_only_speeches": "只看讲话",
        "speaker_everything": "全部文章",
        "role_spoke": "讲话",
        "role_presided": "主持",
        "role_attended": "出席",
        "role_met": "会见",
        "role_mentioned": "提及",
        "title_at": "<b>{period} 的{query}</b>：{names}",
        "title_at_none": "没有找到 {period} 担任“{query}”的人。",
        "title_at_not_stored": "（{names} 还没有收录文章）",
        "title_holders": "<b>担任过“{query}”的人</b>（最近在前）",
        "speakers_title": "<b>近 7 天讲话最多的领导</b>",
        "speakers_none": "近 7 天还没有收录到领导讲话。",
        "articles_unit": "篇",
        "digest_title": "<b>📰 东北新闻网 每日摘要</b> · {day}",
        "digest_empty": "今天没有新文章。",
        "digest_more": "还有 {n} 篇 /latest",
        "alert_title": "<b>🔔 你关注的新闻</b>（{n} 篇）",
        "group_admins_only": "在群组中，只有群管理员可以修改订阅。",
        "subscribe_usage": "用法：/subscribe [HH:MM] [时区]，例如 /subscribe 08:00 或 /subscribe 07:30 Asia/Shanghai",
        "subscribed": "✅ 已订阅：每天 {time}（{tz}）推送摘要。下一次：{next}。用 /settings 修改，/unsubscribe 取消。",
        "unsubscribed": "已取消每日摘要。",
        "not_subscribed": "这个聊天还没有订阅每日摘要。发送 /subscribe 08:00 订阅。",
        "settings_title": "<b>设置</b>",
        "settings_body": "摘要时间：{time}（{tz}）\n下一次：{next}\n栏目：{channels}\n语言：{language}\n无新文章时：{empty}",
        "settings_none": "尚未订阅每日摘要（/subscribe 08:00）。语言：{language}",
        "all_channels": "全部",
        "empty_send": "也发送",
        "empty_skip": "不发送",
        "follow_usage": "用法：/follow 姓名，例如 /follow 易炼红",
        "unfollow_usage": "用法：/unfollow 姓名，例如 /unfollow 易炼红",
        "followed": "✅ 已关注 {name}：有新讲话时推送。",
        "already_followed": "已经在关注 {name}。",
        "unfollowed": "已取消关注 {name}。",
        "not_followed": "你没有关注 {name}。",
        "follow_ambiguous": "“{query}”对应多人：{names}。请写全名。",
        "keyword_usage": "用法：/keyword 词语（1 到 20 个字），例如 /keyword 营商环境",
        "unkeyword_usage": "用法：/unkeyword 词语",
        "keyword_added": "✅ 新文章标题出现“{word}”时推送。",
        "keyword_removed": "已取消关注“{word}”。",
        "keyword_missing": "你没有关注“{word}”。",
        "following_title": "<b>我的关注</b>",
        "following_none": "还没有关注任何领导或关键词。试试 /follow 易炼红 或 /keyword 振兴。",
        "following_people": "领导：{names}",
        "following_words": "关键词：{words}",
        "digest_now_usage": "用法：/digest_now [chat_id]",
        "digest_now_done": "已为聊天 {chat} 生成摘要，账本状态：{result}",
        # Charts (/chart, /trend, the 活动图 button) and inline mode.
        "chart_usage": "用法：/chart 姓名、职务或拼音，例如 /chart 易炼红",
        "chart_button": "📊 活动图",
        "chart_pick": "<b>“{query}”对应多人</b>，请选择要画图的人：",
        "chart_nothing": "{first}–{last} 没有文章提到 {name}，没有可画的图。",
        "chart_title": "{name}：每月出现的文章数（{first}–{last}）",
        "chart_caption": "<b>{name}</b> {first}–{last}：共 {total} 篇（{parts}），最多在 {busiest}（{most} 篇）",
        "chart_axis": "文章数",
        "role_other": "其他",
        "trend_usage": "用法：/trend 词语 [日期范围]，例如 /trend 振兴 或 /trend 营商环境 2023-01..2024-06（默认最近两年，最长 {years} 年）",
        "trend_nothing": "{first}–{last} 没有文章包含“{query}”，没有可画的图。",
        "trend_title": "包含“{query}”的文章数（每月，{first}–{last}）",
        "trend_caption": "<b>“{query}”</b> {first}–{last}：共 {total} 篇，最多在 {busiest}（{most} 篇）",
        "trend_speakers": "。讲话最多：{names}",
        "trend_speakers_newest": "。最近 {cap} 篇中讲话最多：{names}",
        "inline_help_button": "用法：输入领导姓名或词语，如 易炼红、营商环境",
        "inline_bad_query": "无法搜索这个查询，点此查看用法",
        # Limits per user and per chat.
        "over_limit": "你发得太快了：每人每分钟最多 {per_minute} 个请求。请稍等一会儿再试。",
        "follow_cap": "一个聊天最多关注 {cap} 位领导。请先用 /unfollow 取消一些（/following 查看）。",
        "keyword_cap": "一个聊天最多关注 {cap} 个关键词。请先用 /unkeyword 取消一些（/following 查看）。",
        "search_expired": "这个搜索已过期：每个聊天只保留最近 {cap} 次搜索。请重新发送 /search。",
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
        "error_store": "Sorry, the database cannot be written to right now (the admin has been told). Reading still works; please try again later.",
        "status_store_trouble": "⛔ The database cannot be written to:",
        "never": "never",
        "prev": "⬅️ Previous",
        "next": "Next ➡️",
        "summary_button": "Summary {n}",
        "by_relevance": "By relevance",
        "relevance_capped": "ranked by relevance among the newest {cap}",
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
        "related": "Related",
        "search_usage": (
            "Usage: /search WORDS [DATES], e.g. /search 营商环境 or "
            "/search 营商环境 2023-01..2024-06 (at most {max} words, {chars} characters)"
        ),
        "search_none": "No article contains “{query}”.",
        "search_title": "<b>Search “{query}”</b>: {total} articles",
        "speaker_usage": "Usage: /speaker NAME, TITLE or PINYIN, e.g. /speaker 易炼红, /speaker 沈阳市委书记, /speaker yilianhong; a title and a month or year finds who held it then: /speaker 省长 2024-03",
        "speaker_not_found": "Nobody called “{query}” is known.",
        "speaker_suggest": "Did you mean: {names}",
        "speaker_profile": "<b>{name}</b>{title}\nnamed in {count} articles · first {first} · last {last}",
        "speaker_no_speech": "No statements by {name} are stored yet.",
        "speaker_statements": "<b>Statements</b> (page {page}/{pages})",
        "speaker_appearances": "<b>All articles</b> (page {page}/{pages})",
        "speaker_only_speeches": "Speeches only",
        "speaker_everything": "All articles",
        "role_spoke": "spoke",
        "role_presided": "presided",
        "role_attended": "attended",
        "role_met": "met",
        "role_mentioned": "named",
        "title_at": "<b>{query} in {period}</b>: {names}",
        "title_at_none": "Nobody is known to have held “{query}” in {period}.",
        "title_at_not_stored": "(no articles of {names} stored yet)",
        "title_holders": "<b>Who held “{query}”</b> (most recent first)",
        "speakers_title": "<b>Who spoke most in the last 7 days</b>",
        "speakers_none": "No leader statements stored in the last 7 days.",
        "articles_unit": "articles",
        "digest_title": "<b>📰 nen.com.cn daily digest</b> · {day}",
        "digest_empty": "No new articles today.",
        "digest_more": "{n} more: /latest",
        "alert_title": "<b>🔔 News you follow</b> ({n})",
        "group_admins_only": "In groups only the group's admins may change subscriptions.",
        "subscribe_usage": "Usage: /subscribe [HH:MM] [TIME ZONE], e.g. /subscribe 08:00 or /subscribe 07:30 Europe/Berlin",
        "subscribed": "✅ Subscribed: a digest every day at {time} ({tz}). Next: {next}. /settings to change, /unsubscribe to stop.",
        "unsubscribed": "Daily digest stopped.",
        "not_subscribed": "This chat has no daily digest. Send /subscribe 08:00 to start one.",
        "settings_title": "<b>Settings</b>",
        "settings_body": "Digest time: {time} ({tz})\nNext: {next}\nChannels: {channels}\nLanguage: {language}\nWhen nothing is new: {empty}",
        "settings_none": "No daily digest yet (/subscribe 08:00). Language: {language}",
        "all_channels": "all",
        "empty_send": "send anyway",
        "empty_skip": "send nothing",
        "follow_usage": "Usage: /follow NAME, e.g. /follow 易炼红",
        "unfollow_usage": "Usage: /unfollow NAME, e.g. /unfollow 易炼红",
        "followed": "✅ Following {name}: you get a push when they speak.",
        "already_followed": "Already following {name}.",
        "unfollowed": "Stopped following {name}.",
        "not_followed": "You do not follow {name}.",
        "follow_ambiguous": "“{query}” matches several people: {names}. Please write the full name.",
        "keyword_usage": "Usage: /keyword WORD (1 to 20 characters), e.g. /keyword 营商环境",
        "unkeyword_usage": "Usage: /unkeyword WORD",
        "keyword_added": "✅ You get a push when a new title contains “{word}”.",
        "keyword_removed": "Stopped following “{word}”.",
        "keyword_missing": "You do not follow “{word}”.",
        "following_title": "<b>You follow</b>",
        "following_none": "You follow nobody and no word yet. Try /follow 易炼红 or /keyword 振兴.",
        "following_people": "Leaders: {names}",
        "following_words": "Words: {words}",
        "digest_now_usage": "Usage: /digest_now [chat_id]",
        "digest_now_done": "Digest for chat {chat}, ledger status: {result}",
        # Charts (/chart, /trend, the 活动图 button) and inline mode.
        "chart_usage": "Usage: /chart NAME, TITLE or PINYIN, e.g. /chart 易炼红",
        "chart_button": "📊 Chart",
        "chart_pick": "<b>“{query}” matches several people</b>; whose chart?",
        "chart_nothing": "No article names {name} from {first} to {last}: nothing to chart.",
        "chart_title": "{name}: articles per month ({first} – {last})",
        "chart_caption": "<b>{name}</b> {first} – {last}: {total} articles ({parts}), most in {busiest} ({most})",
        "chart_axis": "articles",
        "role_other": "other",
        "trend_usage": "Usage: /trend WORD [DATES], e.g. /trend 振兴 or /trend 营商环境 2023-01..2024-06 (the last two years by default, {years} years at most)",
        "trend_nothing": "No article from {first} to {last} contains “{query}”: nothing to chart.",
        "trend_title": "Articles containing “{query}” per month ({first} – {last})",
        "trend_caption": "<b>“{query}”</b> {first} – {last}: {total} articles, most in {busiest} ({most})",
        "trend_speakers": ". Spoke most: {names}",
        "trend_speakers_newest": ". Spoke most in the newest {cap}: {names}",
        "inline_help_button": "Type a leader's name or a word, e.g. 易炼红, 营商环境",
        "inline_bad_query": "This query cannot be searched; tap for help",
        # Limits per user and per chat.
        "over_limit": "You are sending too fast: at most {per_minute} requests a minute each. Please wait a moment.",
        "follow_cap": "A chat may follow at most {cap} leaders. /unfollow some first (/following lists them).",
        "keyword_cap": "A chat may follow at most {cap} words. /unkeyword some first (/following lists them).",
        "search_expired": "This search has expired: a chat keeps its {cap} most recent searches. Please send /search again.",
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
