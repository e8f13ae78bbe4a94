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
    },
    "en": {
        "welcome": (
            "👋 Hello! I serve regional news from <b>东北新闻网</b> (nen.com.cn), Liaoning.\n\n"
            "• /latest newest headlines\n"
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
