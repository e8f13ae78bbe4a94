"""Find the leaders named in a Chinese news article, what they did in it and what they said."""

# Pure and synchronous. The only I/O is reading data shipped with the package (the gazetteer and
# surname list under news/nlp/data, jieba's and OpenCC's dictionaries), once, on first use.
#
# How it reads an article: the text is converted to simplified characters, full-width punctuation is
# folded to ASCII (offsets stay the same, so titles and statements are cut from the simplified text
# as written), people are found by the gazetteer, by title-anchored rules (a title word such as
# 书记/市长/主任 followed by a two- or three-character name starting with a surname and then a role
# verb or a delimiter), inside attendee lists, in bare lists before 分别/先后 and right before a
# reporting verb (颜鲲表示, when a title, a unit, a clause start or jieba vouches for the name);
# every guess must pass the name check (a known surname, two or three characters, not a common word,
# not a place). Each occurrence then gets its title chain (the run of titles written before it), is
# grouped with names sharing its predicate (张雷，市长王新伟出席会议并讲话) and, when it is the
# subject of its clause, its predicate decides the roles: spoke, presided, attended, met; everyone
# else is mentioned.

from __future__ import annotations

import itertools
import json
import logging
import re
import threading
import unicodedata
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from pypinyin import Style, lazy_pinyin

from news.nlp.fold import to_halfwidth, to_simplified
from news.nlp.text import sentence_spans

ROLES: tuple[str, ...] = ("spoke", "presided", "attended", "met", "mentioned")


@dataclass(frozen=True, slots=True)
class Mention:
    """One person named in an article, with what they did in it."""

    name: str  # simplified Chinese
    roles: tuple[str, ...]  # in ROLES order; "mentioned" only when nothing else applies
    titles: tuple[str, ...]  # title chains as written before the name (省委常委、沈阳市委书记)
    statements: tuple[str, ...]  # what they said, for "spoke": text after 强调/指出/说…


# ---------------------------------------------------------------------------------------------
# Vocabulary. Title words, in the forms written right before a name.
_TITLE_WORDS: tuple[str, ...] = (
    "总书记", "副书记", "书记", "常委", "委员", "副主任", "主任", "副主席", "主席", "副省长",
    "省长", "副市长", "市长", "副区长", "区长", "副县长", "县长", "镇长", "乡长", "副部长", "部长",
    "局长", "厅长", "处长", "秘书长", "领导", "主委", "总经理", "经理", "董事长", "总裁", "巡视员",
    "院长", "检察长", "庭长", "司令员", "政委", "校长", "总理", "国务委员", "理事长", "会长",
    "社长", "总编辑", "代表", "成员", "组长", "行长", "馆长", "大使", "州长", "旗长", "盟长",
    "主任委员", "调研员", "专员", "总监",
    "工程师", "董事", "所长", "司长", "研究员", "教授", "理事", "科长", "队长", "站长", "台长",
    "署长", "负责人", "分析师", "主管", "总经济师", "总会计师", "副总", "合伙人", "首席",
)  # fmt: skip
_TITLE_RE = re.compile("|".join(sorted(set(_TITLE_WORDS), key=len, reverse=True)))
_TITLE_END_RE = re.compile("(?:" + _TITLE_RE.pattern + ")$")

# A reporting verb right after a name (after adverbs such as 明确/日前/上月曾): the name is the
# one speaking, whatever stands before it (泗水县文化市场综合执法局颜鲲表示).
_SPEECH_AFTER_NAME_RE = re.compile(
    r"(?:明确|同时|日前|近日|昨日|昨天|今天|上月|此前|曾经|曾|也|还|则|更|再次|进一步|对记者|"
    r"对本报记者|向记者|在接受[^,;:。]{0,16}?采访时|接受[^,;:。]{0,12}?采访时|在[^,;:。]{0,12}?上)*"
    r"(?:表示|指出|强调|介绍说|介绍|透露|坦言|说)"
)
# …unless the name is an object: 对王刚表示感谢, 向李明表示祝贺 (和/与 join two speakers).
_OBJECT_BEFORE_RE = re.compile(r"(?:对|向|为|给|让|请|代|替|采访了?|听取了?)$")
# Characters a title ends in, which a three-character guess must not start with (长王刚).
_TITLE_TAIL = frozenset("长记任席理授师员总董事监裁委人")

_REPORT_WORD_RE = re.compile(r"表示|指出|强调|介绍|透露|坦言|说")

# Titles written after a name: 习近平总书记, 郝鹏书记, 王沪宁同志.
_POST_TITLE_RE = re.compile(r"总书记|书记|同志")
# What may stand between a name and its predicate without being part of it.
_POST_NAME_RE = re.compile(r"(?:总书记|书记|同志)?(?:等(?:同志|人)?|一行)?")

# Characters that never stand in a given name here: function words, org, title and place
# characters. They stop 张雷在…/郝鹏主持… from being read as three-character names.
_NOT_IN_GIVEN_NAME = frozenset(
    "的了在和与是等对为到从把被将也都就还又并及或其这那个们上下后时年月日省市区县委组部局厅处室曾"
    "院会员记席持参见召说讲指示表致通作做要请让由向于以之而且但所该每此些你我他她它村镇乡街路桥港"
)
# The surname 于 against the preposition 于 (于近日/于本月), 任 against 任命/任务.
_SURNAME_NOT_BEFORE: dict[str, str] = {
    "于": "近今昨明本上下次会此是该当日月年周前后中去每同一二三四五六七八九十",
    "任": "命职期务何意",
}

# A role verb, a pronoun-like continuation or punctuation after a name confirms it is one.
_FOLLOWER_WORDS: tuple[str, ...] = (
    "主持", "出席", "参加", "列席", "陪同", "会见", "会谈", "会晤", "接见", "看望", "慰问", "座谈",
    "讲话", "强调", "指出", "要求", "表示", "说", "讲", "致辞", "通报", "作", "做", "发言", "发表",
    "提出", "宣布", "在", "到", "赴", "来到", "前往", "深入", "走进", "率", "带领", "调研", "考察",
    "检查", "一行", "等", "同志", "总书记", "书记", "对", "向", "与", "和", "同", "及", "以", "为",
    "代表", "听取", "首先", "随后", "还", "也", "仔细", "分别", "一同", "共同", "先后", "再次",
    "又", "就", "是", "曾", "担任", "任", "的", "指示", "批示", "主讲", "介绍", "宣读", "传达",
    "带队", "参观", "视察", "认为", "希望", "嘱咐", "叮嘱", "要", "已", "将", "并", "则", "均",
    "都", "从", "于", "被", "亲切", "专程", "应邀", "同时", "签署", "颁发", "揭牌", "率领", "当选",
    "解读", "推介", "相继", "依次", "提及", "作的", "所作",
)  # fmt: skip
_FOLLOWER_RE = re.compile("|".join(sorted(set(_FOLLOWER_WORDS), key=len, reverse=True)))
# Stricter than _FOLLOWER_RE: what confirms a name jieba guessed without any title.
_JIEBA_NAME_CONFIRM_RE = re.compile(
    r"(?:先生|女士|同志|书记|总书记)?(?:说|表示|认为|指出|强调|介绍|透露|告诉|坦言|解释|回忆|建议|"
    r"主持|出席|参加|会见|讲话|发言|致辞|通报|宣布|作[^,;:。]{0,10}?报告)"
)
_PUNCT = frozenset("、,;:。.!?()“”\"'《》—-|[]【】 \n\t·")
# Where a clause (and so a title chain) starts or ends.
_CLAUSE_BOUNDARY = frozenset(',;:。!?\n“”"《》()【】|—- \t')
_PREDICATE_END = frozenset(",;:。!?\n")

# jieba parts of speech that may make up a title chain (辽宁/省委/常委、市委/副/书记).
_CHAIN_FLAGS = frozenset({"n", "nt", "ns", "nz", "j", "b", "ng", "nrt", "an"})
_CHAIN_WORDS = frozenset(
    {"、", "代", "副", "原", "常务", "专职", "党组", "中共", "省", "市", "区"}
    | {"民革", "民盟", "民建", "民进", "农工党", "致公党", "九三学社", "台盟", "工商联"}
)

# What may stand before a clause's subject: dates and connectives, nothing verbal.
_SUBJECT_PREFIX_RE = re.compile(
    r"(?:同日|当天|当日|随后|会上|其中|期间|此外|另外|同时|之后|最后|首先|今天|昨天|日前|近日|"
    r"上午|下午|晚上|据悉|\d+月\d+日(?:上午|下午|晚上?)?|\d+日|[-—·\s])*"
)
# A clause that starts like this has a subject of its own: the previous subject stops there.
_NEW_SUBJECT_RE = re.compile(
    r"(?:会议|会上|大家|与会|全市|全省|我们|他们|她们|市委|省委|市政府|省政府|该|这|此|其中|"
    r"各级|各地|代表们|企业|群众)"
)

# Before a reporting verb: 在讲话中 / 在听取汇报后 / 到新民市调研时 / 还 / 同时 …
_PRE = (
    r"(?:(?:在[^,;:。]{0,40}?(?:中|时|上|后|期间|之际|之后)|[^,;:。]{0,30}?(?:后|时))?"
    r"(?:还|也|并|又|再|则|即|同时|首先|随后|最后|进一步|再次|特别|明确|着重|深刻|郑重|专门|"
    r"充分|高度|亲切|动情|坦言|直言|日前|近日|昨日|昨天|上月|此前|曾经|曾|对本报记者|对记者|"
    r"向记者|接受[^,;:。]{0,12}?采访时)*)"
)
# Reporting verbs that introduce what was said; their clause must end with them (他说，…) or a
# quotation must follow (他说“…”).
_REPORT_VERB = r"(?:强调指出|强调|指出|要求|表示|说道|说|讲道|讲|谈到|提出|认为|称)"
# A quotation right after the verb is a statement only after 说/表示: 提出“三个推进” names a policy.
_REPORT_END_RE = re.compile(
    rf"^{_PRE}(?:(?P<verb>{_REPORT_VERB})$|(?P<quoted>说道|说|讲道|表示)(?=[“\"]))"
)
# Strong reporting verbs may be followed by the statement without a comma (他强调要…).
_REPORT_DIRECT_RE = re.compile(rf"^{_PRE}(?P<verb>强调|指出|要求)(?!的|精神|下)")

# Other ways of speaking, anywhere in the subject's predicate.
_WORD_BEFORE_ZUO = "工合创操写制协运动振著耕当看叫称杰佳大力习原"
_SPOKE_ANYWHERE: tuple[re.Pattern[str], ...] = (
    re.compile(r"发表了?[^,;:。的]{0,8}?(?:讲话|演讲|致辞|讲演|感言)"),
    re.compile(r"(?:^|并|和|后|上|即席|先后|分别)(?:作)?(?:重要|动员|总结|视频|书面)?讲话"
               r"(?!精神|稿|要点|内容|材料|的|人)"),
    re.compile(rf"(?<![{_WORD_BEFORE_ZUO}])作了?(?!为|用|品|者|风)"
               r"[^,;:。]{0,20}?(?:报告|部署|讲话|发言|动员|说明|总结)"),
    re.compile(r"[做作]出了?[^,;:。]{0,10}?部署"),
    re.compile(r"(?:进行|作|做)了?[^,;:。]{0,8}?安排部署"),
    re.compile(r"讲了?[^,;:。]{0,12}?党课"),
    re.compile(r"(?<!的)致(?:辞|词|欢迎辞|欢迎词|贺辞|贺词|开幕辞|开幕词|闭幕辞|闭幕词|答谢辞|答谢词)"),
    re.compile(r"(?<![的和况作])通报(?!会|精神|批评|表扬)"),  # not 听取情况通报
    re.compile(r"提出(?!的)[^,;:。的]{0,12}?要求"),
    re.compile(r"(?<!的)发言(?!人|稿|材料|权)"),
    re.compile(r"(?<!的)演讲"),
    # Presenting for a city or unit: 分别代表沈阳市进行推介 / 作推介 / 介绍了情况.
    re.compile(r"(?:进行|作|做)了?[^,;:。]{0,8}?推介"),
    re.compile(r"分别代表[^;:。]{0,30}?(?:推介|介绍|发言|讲话|致辞)"),
    re.compile(r"(?:^|并|还|分别|先后|相继|依次|详细|具体)介绍(?:了)?(?!信|人|下)"),
    re.compile(r"(?:^|并|还|分别|先后)(?:宣读|解读)(?:了)?"),
    re.compile(r"(?:^|并|还|分别|先后|原原本本地?|认真)传达(?:了)?[^,;:。]{0,40}?(?:精神|讲话|指示|批示)"),
)  # fmt: skip
# What a person named as an object did: 听取了市政协副主席X作的提案工作报告.
_MADE_REPORT_RE = re.compile(r"(?:所)?[作做]的[^,;:。]{0,20}?(?:报告|讲话|发言|说明|部署|推介)")
# Org words that head a title chain even where jieba tags them as names: 宣传部部长.
_ORG_END_RE = re.compile(
    r"(?:部|委|局|厅|办|院|会|处|室|署|中心|政府|党组|工委|政协|人大|学校|大学|公司|集团|省|市|"
    r"区|县|镇|乡|街道|社区|村)$"
)
# A unit's name right before a name stands for its title: 泗水县文化市场综合执法局颜鲲表示.
_UNIT_END_RE = re.compile(r"(?:局|厅|委|办|院|所|处|中心|公司|集团|协会|学会|银行|部)$")
# 王刚、陈强、刘伟分别代表…: a list of names without titles, confirmed by what follows it.
_BARE_LIST_RE = re.compile(
    r"((?:[\u4e00-\u9fff]{2,3}、)+[\u4e00-\u9fff]{2,3})(?:同志)?(?=(?:等)?(?:分别|先后|相继|依次))"
)
_PRESIDED_RE = re.compile(r"(?<!的)主持(?!人|下|的)")
_ATTENDED_RE = re.compile(r"(?:出席|参加|列席|陪同|参会)(?!人士|人员|代表|名单|证|者|的)")
# 参加会见 is attending someone else's meeting, not meeting.
_MET_RE = re.compile(r"(?<!参加|出席|陪同|列席)(?:会见|会谈|接见|会晤|看望|慰问|见面|座谈(?!会))")
_PREPOSITION_START_RE = re.compile(r"^(?:与|同|和|跟|向|对|为|给)")
# The object of 会见: 唐军会见了张新起一行.
_MET_OBJECT_PREFIX_RE = re.compile(r"(?:会见|会谈|接见|会晤|看望|慰问)了?$")
# Attendee lists: 应邀出席会议的市领导有：…  /  参加会议的还有…
_ATTENDEE_LIST_PREFIX_RE = re.compile(r"(?:出席|参加|列席|陪同)[^。!?]*(?:有|包括|是|为):?$")
_LIST_INTRO_RE = re.compile(r"(?:出席|参加|列席|陪同)[^。!?\n]{0,40}?(?:有|包括|名单如下|是)[:]?")
_LIST_GAPS = frozenset({"", "、", "和", "及", "以及", "与", "同"})
_GROUP_GAPS = _LIST_GAPS | {",", ";"}
# A sentence starting like this tells what happened next rather than going on quoting.
_NARRATION_RE = re.compile(r"随后|之后|接着|此后|会上|会后|会议|同日|当天|期间|最后,")
_PRONOUN_RE = re.compile(r"(?<![其吉])[他她](?![们人国乡日])")
# A headline saying who said what: 易炼红：沈阳就是我新的家乡.
_HEADLINE_START = frozenset("\n-—《 \t")

_SURNAME_READINGS: dict[str, str] = {
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "查": "zha", "盖": "ge", "朴": "piao",
    "乐": "yue", "覃": "qin", "区": "ou", "缪": "miao", "华": "hua", "任": "ren", "翟": "zhai",
    "尉迟": "yuchi", "万俟": "moqi", "长孙": "zhangsun", "燕": "yan",
}  # fmt: skip

_NON_NOUN_TAGS = frozenset("vadpcrmqufli")  # jieba tag initials of non-nominal words
_WORDLIKE_MIN_FREQ = 500  # jieba frequency above which a non-name word is not read as a name
_BARE_COLLISION_MIN_FREQ = 100  # …and above which a word straddling a bare name rejects it


# ---------------------------------------------------------------------------------------------
# Shipped data, loaded once.
@dataclass(frozen=True, slots=True)
class _Lexicon:
    aliases: dict[str, str]  # written form, simplified -> canonical name
    surnames: frozenset[str]
    compound_surnames: frozenset[str]


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    data = resources.files("news.nlp.data")
    aliases: dict[str, str] = {}
    for entry in _gazetteer():
        name = str(entry["name"])
        for form in (name, *entry.get("aliases", ())):
            aliases[to_simplified(str(form))] = name
            aliases[str(form)] = name
    singles: set[str] = set()
    compounds: set[str] = set()
    for line in data.joinpath("surnames.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        for surname in line.split():
            (compounds if len(surname) > 1 else singles).add(surname)
    return _Lexicon(aliases, frozenset(singles), frozenset(compounds))


@dataclass(frozen=True, slots=True)
class _Jieba:
    posseg: Any  # jieba.posseg.POSTokenizer over a private jieba.Tokenizer
    tags: dict[str, str]  # jieba's part-of-speech tag of each dictionary word
    freq: dict[str, int]

    def pos(self, text: str) -> list[tuple[str, str]]:
        return [(pair.word, pair.flag) for pair in self.posseg.cut(text)]

    def is_word(self, text: str, min_freq: int) -> bool:
        """Return whether text is a dictionary word other than a person's name."""
        # Verbs, adjectives and function words count from a tenth of min_freq on: 查验 after 班主任
        # is a verb, while a rare noun such as 唐宋 may well be someone's name.
        tag = self.tags.get(text)
        if tag is None or tag.startswith("nr"):
            return False
        freq = self.freq.get(text, 0)
        return freq >= min_freq or (tag[0] in _NON_NOUN_TAGS and freq >= min_freq // 10)


_JIEBA_LOCK = threading.Lock()
_JIEBA: list[_Jieba] = []


def _jieba() -> _Jieba:
    if _JIEBA:
        return _JIEBA[0]
    with _JIEBA_LOCK:
        if not _JIEBA:
            _JIEBA.append(_load_jieba())
    return _JIEBA[0]


def _load_jieba() -> _Jieba:
    with warnings.catch_warnings():
        # jieba 0.42 imports pkg_resources, which recent setuptools deprecate with a warning.
        warnings.simplefilter("ignore")
        import jieba
        import jieba.posseg
    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    # Build the prefix dictionary from the dict.txt jieba ships, as initialize() would, but
    # without initialize()'s read and write of a cache file in the temporary directory.
    tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(tokenizer.get_dict_file())
    tokenizer.initialized = True
    posseg = jieba.posseg.POSTokenizer(tokenizer)
    tags: dict[str, str] = dict(posseg.word_tag_tab)
    freq: dict[str, int] = dict(tokenizer.FREQ)
    for name in set(_lexicon().aliases.values()):
        tokenizer.add_word(name, freq=1000, tag="nr")
    return _Jieba(posseg, tags, freq)


# ---------------------------------------------------------------------------------------------
# Public helpers.
def normalize_name(s: str) -> str:
    """Return a person's name in simplified characters, without spaces or punctuation."""
    folded = to_halfwidth(to_simplified(s))
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PSZC")


def title_matches(held: str, query: str) -> bool:
    """Return whether a held title chain answers a title query: 辽宁省省长 for 省长."""
    # Each single title of the chain (split at 、) must be the query or end with it, and not as a
    # deputy's title: 副省长 and 常务副市长 do not answer 省长 or 市长.
    query = query.replace(" ", "")
    if not query:
        return False
    for part in held.replace(",", "、").split("、"):
        part = part.strip()
        if part == query:
            return True
        if part.endswith(query) and not part[: -len(query)].endswith("副"):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Term:
    """A title a gazetteer leader held, and the years it is known to span (to: None = open)."""

    name: str
    title: str
    first_year: int
    last_year: int | None


def gazetteer_terms(query: str, first_year: int, last_year: int) -> list[Term]:
    """Return the gazetteer's terms of a title matching query that overlap the years given."""
    found: list[Term] = []
    for entry in _gazetteer():
        for term in entry.get("titles", ()):
            start = int(term["from"])
            end = term.get("to")
            stop = int(end) if end is not None else None
            overlaps = start <= last_year and (stop is None or stop >= first_year)
            if overlaps and title_matches(str(term["title"]), query):
                found.append(Term(str(entry["name"]), str(term["title"]), start, stop))
    found.sort(key=lambda t: (-(t.last_year or 9999), -t.first_year, t.name))
    return found


def gazetteer_names() -> frozenset[str]:
    """Return the canonical names of the gazetteer's leaders."""
    return frozenset(str(entry["name"]) for entry in _gazetteer())


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, Any], ...]:
    data = resources.files("news.nlp.data").joinpath("leaders.json").read_text(encoding="utf-8")
    return tuple(json.loads(data)["leaders"])


def name_pinyin(name: str) -> str:
    """Return the toneless pinyin of a name as one lowercase word, e.g. 易炼红 -> yilianhong."""
    name = normalize_name(name)
    if not name:
        return ""
    lexicon = _lexicon()
    surname = name[:2] if name[:2] in lexicon.compound_surnames else name[:1]
    head = _SURNAME_READINGS.get(surname)
    if head is None:
        head = "".join(lazy_pinyin(surname, style=Style.NORMAL))
    tail = "".join(lazy_pinyin(name[len(surname) :], style=Style.NORMAL))
    return (head + tail).lower()


# ---------------------------------------------------------------------------------------------
# Occurrences of people in one text.
@dataclass(slots=True)
class _Occurrence:
    name: str
    start: int
    end: int
    chain_start: int
    chain: str  # the title chain as written in the simplified text, "" when none
    after: int  # where the predicate may start: past 书记/同志/等/一行
    post_title: str = ""
    pronoun: bool = False


@dataclass(slots=True)
class _Person:
    roles: set[str] = field(default_factory=set)
    titles: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)


class _Reader:
    """Reads one article: `work` is the analysed form, `simp` the text titles are cut from."""

    def __init__(self, text: str) -> None:
        self.simp = to_simplified(text)
        self.work = to_halfwidth(self.simp)
        self.lexicon = _lexicon()
        self.jieba = _jieba()
        self.sentences = sentence_spans(self.work, semicolons=False)
        self.people: dict[str, _Person] = {}
        self.consumed: list[tuple[int, int]] = []  # statement spans: names inside are mentioned

    # -- names ----------------------------------------------------------------------------
    def plausible_name(self, cand: str) -> bool:
        if not 2 <= len(cand) <= 4 or not all("\u4e00" <= ch <= "\u9fff" for ch in cand):
            return False
        lexicon = self.lexicon
        if cand in lexicon.aliases:
            return True
        if cand[:2] in lexicon.compound_surnames and len(cand) in (3, 4):
            given = cand[2:]
        elif cand[0] in lexicon.surnames and len(cand) in (2, 3):
            given = cand[1:]
        else:
            return False
        # jieba's dictionary knows some people by name (钱其琛): its word wins over the list.
        known_person = self.jieba.tags.get(cand, "").startswith("nr")
        if not known_person and any(ch in _NOT_IN_GIVEN_NAME for ch in given):
            return False
        if given[0] in _SURNAME_NOT_BEFORE.get(cand[0], ""):
            return False
        # A place is not a person, however rare the word: 沈阳, 铁西, 浑南.
        if self.jieba.tags.get(cand, "").startswith("ns"):
            return False
        # 明确要求 / 单位 / 高度重视 read as 明确 etc.: common words are not names.
        return not (
            self.jieba.is_word(cand, _WORDLIKE_MIN_FREQ)
            or self.jieba.is_word(cand[:2], _WORDLIKE_MIN_FREQ)
        )

    def known_name(self, word: str) -> bool:
        return word in self.lexicon.aliases

    def follower_ok(self, pos: int) -> bool:
        work = self.work
        if pos >= len(work) or work[pos] in _PUNCT or work[pos].isdigit():
            return True
        return _FOLLOWER_RE.match(work, pos) is not None

    def name_at(self, pos: int) -> str | None:
        """Return the name starting at pos when a role verb or a delimiter follows it."""
        for length in (3, 2):
            # A known name wins over a longer guess: 郝鹏曾在… is 郝鹏, not 郝鹏曾.
            cand = self.work[pos : pos + length]
            if cand in self.lexicon.aliases and self.follower_ok(pos + length):
                return cand
        for length in (4, 3, 2):
            cand = self.work[pos : pos + length]
            if len(cand) == length and self.plausible_name(cand) and self.follower_ok(pos + length):
                return cand
        return None

    def discover(self) -> set[str]:
        """Return the names in the text: gazetteer names, titled names, attendee lists."""
        work = self.work
        names = {name for alias, name in self.lexicon.aliases.items() if alias in work}
        for match in _TITLE_RE.finditer(work):
            names.update(self.name_list_at(match.end()))
        for match in _LIST_INTRO_RE.finditer(work):
            names.update(self.name_list_at(match.end()))
        pos = 0
        for word, flag in self.jieba.pos(work):
            # jieba's own person names, when a role verb confirms them: 彭小军表示，…
            if (
                flag == "nr"
                and 2 <= len(word) <= 3
                and self.plausible_name(word)
                and _JIEBA_NAME_CONFIRM_RE.match(work, pos + len(word))
            ):
                names.add(word)
            pos += len(word)
        for match in _REPORT_WORD_RE.finditer(work):
            name = self.speaker_before(match.start(), match.end())
            if name:
                names.add(name)
        for match in _BARE_LIST_RE.finditer(work):
            for member in match.group(1).split("、"):
                for cand in (member, member[-2:]) if len(member) == 3 else (member,):
                    if self.plausible_name(cand):
                        names.add(cand)
                        break
        for match in _POST_TITLE_RE.finditer(work):
            name = self.name_before(match.start())
            if name:
                names.add(name)
        return names

    def name_list_at(self, pos: int) -> list[str]:
        found: list[str] = []
        while True:
            name = self.name_at(pos)
            if name is None:
                return found
            found.append(name)
            pos += len(name)
            if not self.work.startswith("、", pos):
                return found
            pos += 1

    def speaker_before(self, verb: int, verb_end: int) -> str | None:
        """Return the name written right before a reporting verb (and its adverbs), if any."""
        work = self.work
        # The adverbs the verb may carry go first, the longest run of them: 冀岩上月曾表示.
        for start in range(max(0, verb - 24), verb + 1):
            if not _SPEECH_AFTER_NAME_RE.fullmatch(work, start, verb_end):
                continue
            for length in (3, 2):
                cand = work[start - length : start]
                if len(cand) != length or not self.plausible_name(cand):
                    continue
                # Nothing vouches for this name but the verb: any dictionary word is out, and
                # so is a guess that is neither after a title, at a clause's start, nor read as
                # a name by jieba in its context (据省政府官网介绍).
                if self.jieba.is_word(cand, 1) or not self.vouched(start - length, start):
                    continue
                if length == 3 and cand[0] in _TITLE_TAIL and self.plausible_name(cand[1:]):
                    continue
                if _OBJECT_BEFORE_RE.search(work, max(0, start - length - 4), start - length):
                    return None
                return cand
        return None

    def vouched(self, start: int, end: int) -> bool:
        """Return whether a title, a clause start or jieba's reading supports a name guess."""
        work = self.work
        if start == 0 or work[start - 1] in _CLAUSE_BOUNDARY:
            return True
        if _TITLE_END_RE.search(work, max(0, start - 6), start) or _UNIT_END_RE.search(
            work, max(0, start - 6), start
        ):
            return True
        pos = max(0, start - 6)
        for word, flag in self.jieba.pos(work[pos : end + 2]):
            if pos == start:
                return word == work[start:end] and flag.startswith("nr")
            pos += len(word)
            if pos > start:
                return False
        return False

    def speaks_right_after(self, occ: _Occurrence) -> bool:
        """Return whether a reporting verb follows the name and the name is not an object."""
        if not _SPEECH_AFTER_NAME_RE.match(self.work, occ.after):
            return False
        before = self.work[max(0, occ.chain_start - 4) : occ.chain_start]
        return _OBJECT_BEFORE_RE.search(before) is None

    def name_before(self, end: int) -> str | None:
        """Return the name jieba sees right before a post-title (郝鹏书记), if any."""
        window = self.work[max(0, end - 8) : end]
        tokens = self.jieba.pos(window)
        if not tokens:
            return None
        word, flag = tokens[-1]
        if flag.startswith("nr") and self.plausible_name(word):
            return word
        return None

    def occurrences(self, names: set[str]) -> list[_Occurrence]:
        """Return every occurrence of the names and of 他/她, in text order."""
        work = self.work
        forms = {alias: name for alias, name in self.lexicon.aliases.items() if name in names}
        forms.update({name: name for name in names})
        spans: list[tuple[int, int, str]] = []
        if forms:
            pattern = re.compile("|".join(sorted(map(re.escape, forms), key=len, reverse=True)))
            spans = [(m.start(), m.end(), forms[m.group()]) for m in pattern.finditer(work)]
        found: list[_Occurrence] = []
        previous_end = 0
        for start, end, name in spans:
            occ = self.make_occurrence(name, start, end, previous_end)
            if occ is not None:
                found.append(occ)
                previous_end = end
        taken = [(o.start, o.end) for o in found]
        for match in _PRONOUN_RE.finditer(work):
            start = match.start()
            if not any(s <= start < e for s, e in taken):
                found.append(_Occurrence("", start, start + 1, start, "", start + 1, pronoun=True))
        found.sort(key=lambda o: o.start)
        for prev, occ in itertools.pairwise(found):
            # List members share the list head's title: 市领导曹爱华、张世坤.
            if (
                not occ.chain
                and not occ.pronoun
                and not prev.pronoun
                and work[prev.after : occ.start] == "、"
                and prev.chain
            ):
                occ.chain = prev.chain
        return found

    def make_occurrence(
        self, name: str, start: int, end: int, previous_end: int
    ) -> _Occurrence | None:
        work = self.work
        chain_start, chain = self.title_chain(start, previous_end)
        post = _POST_NAME_RE.match(work, end)
        after = post.end() if post else end
        post_title_match = _POST_TITLE_RE.match(work, end)
        post_title = post_title_match.group() if post_title_match else ""
        listed = start > 0 and work[start - 1] == "、"
        if not (chain or listed or post_title or self.follower_ok(end)):
            # A bare name: refuse the common-word reading (唐宋诗词, 周波动, 张雷鸣).
            if self.jieba.is_word(name, _BARE_COLLISION_MIN_FREQ):
                return None
            if len(name) == 2 and self.straddles_word(start, end):
                return None
        return _Occurrence(name, start, end, chain_start, chain, after, post_title)

    def straddles_word(self, start: int, end: int) -> bool:
        work = self.work
        before = work[start - 1 : start + 1] if start > 0 else ""
        after = work[end - 1 : end + 1] if end < len(work) else ""
        return any(
            len(w) == 2 and self.jieba.is_word(w, _BARE_COLLISION_MIN_FREQ) for w in (before, after)
        )

    def clause_start(self, pos: int) -> int:
        while pos > 0 and self.work[pos - 1] not in _CLAUSE_BOUNDARY:
            pos -= 1
        return pos

    def title_chain(self, name_start: int, floor: int) -> tuple[int, str]:
        """Return where the title chain before a name starts, and the chain as written."""
        # The chain never reaches back past floor, the end of the previous name.
        left = max(self.clause_start(name_start), floor)
        segment = self.work[left:name_start]
        if not segment or not _TITLE_END_RE.search(segment):
            return name_start, ""
        taken = 0
        for word, flag in reversed(self.jieba.pos(segment)):
            if (
                word in _CHAIN_WORDS
                or flag in _CHAIN_FLAGS
                or _TITLE_END_RE.search(word)
                or (len(word) >= 2 and _ORG_END_RE.search(word) and not self.known_name(word))
            ):
                taken += len(word)
            else:
                break
        chain_start = name_start - taken
        while chain_start < name_start and self.work[chain_start] == "、":
            chain_start += 1
        chain = self.work[chain_start:name_start]
        if not chain or not _TITLE_END_RE.search(chain):
            return name_start, ""
        return chain_start, self.simp[chain_start:name_start]

    # -- predicates -----------------------------------------------------------------------
    def is_subject(self, occ: _Occurrence) -> bool:
        prefix = self.work[self.clause_start(occ.chain_start) : occ.chain_start]
        if _SUBJECT_PREFIX_RE.fullmatch(prefix) is not None:
            return True
        return not occ.pronoun and self.speaks_right_after(occ)

    def is_agent(self, occ: _Occurrence) -> bool:
        """Return whether 由 introduces the name as the doer: 会议由市长王新伟主持."""
        prefix = self.work[self.clause_start(occ.chain_start) : occ.chain_start]
        return prefix.endswith("由")

    def clause_end(self, pos: int, limit: int) -> int:
        work = self.work
        while pos < limit and work[pos] not in _PREDICATE_END:
            pos += 1
        return pos

    def predicate(
        self, start: int, sent_end: int, occurrences: list[_Occurrence]
    ) -> tuple[set[str], tuple[int, int] | None]:
        """Return the roles the predicate starting at start gives, and what was said if any."""
        roles: set[str] = set()
        pos = start
        first = True
        while pos < sent_end:
            end = self.clause_end(pos, sent_end)
            others = [o.chain_start for o in occurrences if not o.pronoun and pos <= o.start < end]
            if others and not first:
                break
            if others:
                # 唐军会见了张新起: the predicate stops where the next name's title starts.
                end = min(others)
            clause = self.work[pos:end]
            if not first and _NEW_SUBJECT_RE.match(clause):
                break
            ends_with_verb = _REPORT_END_RE.match(clause)
            report = ends_with_verb or _REPORT_DIRECT_RE.match(clause)
            # The one group that matched is the verb (either "verb" or "quoted").
            verb_start = report.start(report.lastindex or 0) if report is not None else 0
            if report is not None and not clause[:verb_start].endswith("的"):
                roles |= self.clause_roles(clause[:verb_start])
                roles.add("spoke")
                # Only 他强调，… introduces a paragraph of what was said; 要求抓紧… is one clause.
                whole = ends_with_verb is not None and (
                    report.end() < len(clause) or self.work[end : end + 1] in (",", ":")
                )
                span = self.statement_span(pos + report.end(), sent_end, occurrences, whole)
                return roles, span
            roles |= self.clause_roles(clause)
            if others:
                break
            first = False
            pos = end + 1
        return roles, None

    def clause_roles(self, clause: str) -> set[str]:
        roles: set[str] = set()
        if any(p.search(clause) for p in _SPOKE_ANYWHERE):
            roles.add("spoke")
        # 与出席会议的港澳委员座谈: verbs inside the object's modifier are not the subject's.
        scope = clause
        if _PREPOSITION_START_RE.match(clause) and "的" in clause:
            scope = clause[clause.rindex("的") + 1 :]
        if _PRESIDED_RE.search(scope):
            roles.add("presided")
        if _ATTENDED_RE.search(scope):
            roles.add("attended")
        if _MET_RE.search(scope):
            roles.add("met")
        return roles

    def statement_span(
        self, start: int, sent_end: int, occurrences: list[_Occurrence], paragraph: bool
    ) -> tuple[int, int] | None:
        """Return the statement after a reporting verb: the rest of its sentence, and more."""
        # With paragraph set, the paragraph's next sentences belong to the statement too, up to
        # one that names someone or narrates.
        work = self.work
        while start < sent_end and work[start] in ",:; ":
            start += 1
        end = sent_end
        for s_start, s_end in self.sentences if paragraph else ():
            if s_start < end:
                continue
            if (
                "\n" in work[end:s_start]
                or _NARRATION_RE.match(work, s_start)
                or any(
                    s_start <= o.start < s_end and (o.pronoun or self.is_subject(o))
                    for o in occurrences
                )
            ):
                break
            end = s_end
        return (start, end) if start < end else None

    def headline_statement(self, occ: _Occurrence) -> tuple[int, int] | None:
        """Return what a 'name: words' headline attributes to the name, if occ heads one."""
        work = self.work
        if not work.startswith(":", occ.end) or occ.chain_start != self.clause_start(
            occ.chain_start
        ):
            return None
        left = occ.chain_start
        if left > 0 and work[left - 1] not in _HEADLINE_START:
            return None
        start = occ.end + 1
        end = work.find("\n", start)
        end = len(work) if end == -1 else end
        while end > start and work[end - 1] in "》)]】” \t":
            end -= 1
        return (start, end) if end - start >= 2 else None

    # -- assembly -------------------------------------------------------------------------
    def person(self, name: str) -> _Person:
        if name not in self.people:
            self.people[name] = _Person()
        return self.people[name]

    def note(self, occ: _Occurrence, name: str) -> None:
        person = self.person(name)
        # 同志 after a name is a form of address, not a title.
        post_title = occ.post_title if occ.post_title != "同志" and not occ.chain else ""
        for title in (occ.chain, post_title):
            if title and title not in person.titles:
                person.titles.append(title)

    def add_statement(self, name: str, span: tuple[int, int] | None) -> None:
        if span is None:
            return
        self.consumed.append(span)
        text = self.simp[span[0] : span[1]].strip()
        person = self.person(name)
        if text and text not in person.statements:
            person.statements.append(text)

    def in_statement(self, pos: int) -> bool:
        return any(s <= pos < e for s, e in self.consumed)

    def read(self) -> list[Mention]:
        occurrences = self.occurrences(self.discover())
        last_subject = ""
        for sent_start, sent_end in self.sentences:
            here = [o for o in occurrences if sent_start <= o.start < sent_end]
            index = 0
            while index < len(here):
                occ = here[index]
                if occ.pronoun:
                    index += 1
                    if last_subject and not self.in_statement(occ.start) and self.is_subject(occ):
                        self.apply_predicate([occ], last_subject, sent_end, occurrences)
                    continue
                group = self.group_from(here, index)
                index += len(group)
                for member in group:
                    self.note(member, member.name)
                if any(self.in_statement(member.start) for member in group):
                    continue
                subject = self.is_subject(group[0]) or self.is_agent(group[0])
                self.apply_context_roles(group, sent_start, subject)
                if not subject:
                    continue
                last_subject = group[-1].name
                headline = self.headline_statement(group[0]) if len(group) == 1 else None
                if headline is not None:
                    self.person(group[0].name).roles.add("spoke")
                    self.add_statement(group[0].name, headline)
                else:
                    self.apply_predicate(group, "", sent_end, occurrences)
        return [self.mention(name, person) for name, person in self.people.items()]

    def group_from(self, here: list[_Occurrence], index: int) -> list[_Occurrence]:
        """Return the names from here[index] on that share one predicate (张雷，市长王新伟…)."""
        group = [here[index]]
        # Only a subject runs on past a comma: in 会见了张三,市领导李四参加 李四 starts anew.
        gaps = _GROUP_GAPS if self.is_subject(group[0]) else _LIST_GAPS
        for occ in here[index + 1 :]:
            if occ.pronoun or self.work[group[-1].after : occ.chain_start] not in gaps:
                break
            group.append(occ)
        return group

    def apply_predicate(
        self, group: list[_Occurrence], name: str, sent_end: int, occurrences: list[_Occurrence]
    ) -> None:
        roles, span = self.predicate(group[-1].after, sent_end, occurrences)
        for member in group:
            who = name or member.name
            self.person(who).roles.update(roles)
            if span is not None:
                self.add_statement(who, span)

    def apply_context_roles(self, group: list[_Occurrence], sent_start: int, subject: bool) -> None:
        """Give the roles the words before the names imply: 会见了… (met), 出席…的有: (attended)."""
        first = group[0]
        clause_prefix = self.work[self.clause_start(first.chain_start) : first.chain_start]
        sentence_prefix = self.work[sent_start : first.chain_start]
        roles: set[str] = set()
        if not subject and _MET_OBJECT_PREFIX_RE.search(clause_prefix):
            roles.add("met")
        if _ATTENDEE_LIST_PREFIX_RE.search(sentence_prefix):
            roles.add("attended")
        if not subject and _MADE_REPORT_RE.match(self.work, group[-1].after):
            roles.add("spoke")
        for member in group:
            self.person(member.name).roles.update(roles)

    def mention(self, name: str, person: _Person) -> Mention:
        roles = tuple(r for r in ROLES if r in person.roles) or ("mentioned",)
        return Mention(name, roles, tuple(person.titles), tuple(person.statements))


def extract_people(text: str) -> list[Mention]:
    """Return every person named in text with their roles, title chains and statements."""
    if not text.strip():
        return []
    return _Reader(text).read()


def find_names(text: str) -> list[str]:
    """Return the distinct person names in text: extract_people's plus those jieba tags as names."""
    # Broader and less precise than extract_people: for name recall, not for who spoke.
    names = [m.name for m in extract_people(text)]
    seen = set(names)
    reader_text = to_halfwidth(to_simplified(text))
    for word, flag in _jieba().pos(reader_text):
        if flag.startswith("nr") and len(word) >= 2 and word not in seen:
            seen.add(word)
            names.append(word)
    return names
