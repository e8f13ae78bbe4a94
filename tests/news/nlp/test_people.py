"""Leader extraction on real sentences."""

# Texts under fakes/data/leaders/ are copied byte for byte from shared/corpus/leaders/ (pages of
# shenyang.gov.cn, big5.cri.cn, news.lnd.com.cn, liaoning.nen.com.cn and others, punctuation
# normalised to ASCII by the store they came from), with its labels.json; the seed under
# fakes/data/seed_*.txt is the 2018 nen.com.cn article the project started from.

from __future__ import annotations

import io
import json
from importlib import resources
from pathlib import Path

import pytest

from benchmarks.speakers import TARGET, run, score_leaders
from bot.speakers_cli import run as cli_run
from fakes import LEADERS
from fakes import SEED_ARTICLE as SEED
from news.nlp.fold import to_halfwidth, to_simplified
from news.nlp.people import (
    ROLES,
    Mention,
    extract_people,
    find_names,
    gazetteer_terms,
    name_pinyin,
    normalize_name,
    title_matches,
)
from news.nlp.text import sentence_spans, split_sentences

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def people(text: str) -> dict[str, Mention]:
    return {m.name: m for m in extract_people(text)}


def fixture_text(name: str) -> str:
    return (LEADERS / name).read_text(encoding="utf-8")


def spoke(text: str) -> set[str]:
    return {m.name for m in extract_people(text) if "spoke" in m.roles}


# -- title chains ---------------------------------------------------------------------------
def test_title_chain_before_the_name_presides_and_speaks() -> None:
    found = people("省委常委、市委书记王新伟主持会议并讲话。")
    assert found["王新伟"].titles == ("省委常委、市委书记",)
    assert found["王新伟"].roles == ("spoke", "presided")


def test_long_title_chain_is_kept_as_written() -> None:
    # baogaosu_dsj_2015-06.txt
    found = people(fixture_text("baogaosu_dsj_2015-06.txt"))
    assert found["潘利国"].titles[0] == "市委副书记、市政府党组书记、市长"
    assert found["顾春明"].titles == ("市委常委、市政府党组副书记、常务副市长",)
    assert found["顾春明"].roles == ("presided",)


def test_title_chain_stops_at_the_verb_before_it() -> None:
    # lnchinanews_2024-03-22: 传达学习省委书记、省人大常委会主任郝鹏在大连调研时指示精神
    found = people(fixture_text("lnchinanews_2024-03-22_xiongmaoping.txt"))
    assert "省委书记、省人大常委会主任" in found["郝鹏"].titles
    assert "spoke" not in found["郝鹏"].roles
    assert found["熊茂平"].roles == ("presided",)


def test_titles_of_people_listed_in_a_row() -> None:
    found = people(fixture_text("bjtitle_2023-05-13_haopeng.txt"))
    assert found["王新伟"].titles == ("辽宁省委常委、沈阳市委书记",)
    assert found["张成中"].titles == ("辽宁省委常委、秘书长",)
    assert found["陈向群"].titles == ("辽宁省人大常委会党组副书记、副主任",)
    assert found["陈绍旺"].titles == ("大连市市长",)
    assert all(found[n].roles == ("mentioned",) for n in ("王新伟", "张成中", "靳国卫"))


# -- several names, one predicate -----------------------------------------------------------
def test_two_speakers_share_one_verb() -> None:
    found = people("省委常委、市委书记张雷,市长王新伟出席会议并讲话。")
    assert found["张雷"].roles == ("spoke", "attended")
    assert found["王新伟"].roles == ("spoke", "attended")
    assert found["王新伟"].titles == ("市长",)


def test_each_leader_gets_his_own_verb() -> None:
    # bjtitle_2023-05-13_haopeng.txt
    found = people(
        "据当地媒体报道,辽宁省委书记郝鹏主持会议并讲话,省长李乐成出席会议并讲话,省政协主席周波出席会议。"
    )
    assert found["郝鹏"].roles == ("spoke", "presided")
    assert found["李乐成"].roles == ("spoke", "attended")
    assert found["周波"].roles == ("attended",)


def test_hosts_and_guest_of_a_meeting() -> None:
    found = people(fixture_text("dalian-chuanpiao_2012-06-13_tangjun.txt"))
    assert "met" in found["唐军"].roles and "met" in found["李万才"].roles
    assert "met" in found["张新起"].roles  # 会见了张新起一行
    # 唐军、李万才对考察团一行来连表示欢迎 is not a statement; 唐军说，… is.
    assert "spoke" not in found["李万才"].roles
    assert found["唐军"].statements[0].startswith("青岛和大连区位相近")
    for name in ("曹爱华", "张世坤", "卢林", "栾庆伟", "骆东升"):
        assert found[name].roles == ("attended",), name
    assert found["卢林"].titles == ("先导区领导",)


def test_verbs_inside_the_object_are_not_the_subjects() -> None:
    # lnd_news_2026-01-27: 与出席省政协十三届四次会议的港澳委员和特邀列席人士进行座谈
    found = people(fixture_text("lnd_news_2026-01-27_030544224.txt"))
    assert found["周波"].roles == ("met",)
    assert found["许昆林"].roles == ("spoke", "met")


# -- presided and attended are not spoke ----------------------------------------------------
def test_presiding_without_speaking_is_not_spoke() -> None:
    found = people(fixture_text("syd-gov_dsj_2022-12.txt"))
    assert found["王新伟"].roles == ("presided",)
    assert found["吕志成"].roles == ("presided", "attended")


def test_attendee_list_after_a_title() -> None:
    found = people("市委副书记、市长吕志成主持会议。市领导李松林、于振明参加会议。")
    assert found["李松林"].roles == ("attended",)
    assert found["于振明"].roles == ("attended",)
    assert found["于振明"].titles == ("市领导",)


def test_attendee_list_after_you() -> None:
    for colon in (":", "："):
        found = people(f"会议由市长主持。应邀出席会议的市领导有{colon}李松林、于振明、周波。")
        assert list(found) == ["李松林", "于振明", "周波"]
        assert all(m.roles == ("attended",) for m in found.values())


def test_seed_presider_did_not_speak() -> None:
    found = people(SEED.read_text(encoding="utf-8"))
    assert found["于振明"].roles == ("presided",)
    assert "spoke" in found["易炼红"].roles
    assert "spoke" in found["姜有为"].roles


# -- follow-ups -----------------------------------------------------------------------------
def test_follow_up_by_pronoun_in_the_same_sentence() -> None:
    found = people(SEED.read_text(encoding="utf-8"))
    assert any(s.startswith("要奋力拼搏、大干实干") for s in found["易炼红"].statements)


def test_follow_up_by_pronoun_in_the_next_sentence() -> None:
    found = people(fixture_text("syd-gov_gzdt_2025-06-26_huobugang.txt"))
    assert found["霍步刚"].statements[0].startswith("要深入学习贯彻习近平总书记关于县域经济发展")


def test_follow_up_by_name() -> None:
    found = people(fixture_text("sccb2014_dsj_2021-02.txt"))
    assert found["张雷"].roles == ("spoke", "presided")
    assert found["张雷"].statements == (
        "强化问题导向,坚持举一反三,高标准高质量抓好农村改厕问题整改工作。",
    )
    assert found["王新伟"].roles == ("presided",)  # 研究部署 is not a speech
    assert found["潘利国"].roles == ("spoke", "attended")
    assert found["付忠伟"].roles == ("spoke", "presided")
    # 传达学习…省委书记张国清参加沈阳代表团联组审议时的讲话: his speech is only referred to.
    assert "spoke" not in found["张国清"].roles


def test_pronoun_goes_to_the_last_subject() -> None:
    found = people("省委常委、市委书记张雷出席会议。市长王新伟主持会议。他强调,要抓实抓细。")
    assert found["王新伟"].statements == ("要抓实抓细。",)
    assert "spoke" not in found["张雷"].roles


def test_statement_runs_on_through_the_paragraph() -> None:
    found = people(SEED.read_text(encoding="utf-8"))
    statement = next(s for s in found["易炼红"].statements if s.startswith("提升城市品质,认识"))
    assert statement.endswith("不断把各项工作推向深入。")
    jiang = found["姜有为"].statements
    assert jiang == (
        "提升城市品质,要以打造具有国际品质和辽沈文化标识、宜居宜业宜游的国际化现代化大都市"
        "为总目标,以精准规划、精致建设、精细管理为总要求,以“治改提创”为工作主线,"
        "以提升城市管理水平为切入点,重点组织实施城市管理水平提升、城市环境面貌提升、"
        "生态环境品质提升、公共服务品质提升、城市文明程度提升等五大工程,"
        "让全市人民生活得更加美好。",
    )


def test_statement_stops_where_someone_else_is_named() -> None:
    found = people(fixture_text("baogaosu_2015-07_zengwei_hunnan.txt"))
    first = found["曾维"].statements[0]
    assert first.endswith("注入强大的动力。")
    assert "马占春" not in first


def test_headline_name_colon_statement() -> None:
    found = people(fixture_text("78911_2018_yilianhong.txt"))
    assert found["易炼红"].roles == ("spoke",)
    assert found["易炼红"].statements == ("沈阳就是我新的家乡",)
    assert found["易炼红"].titles == ("辽宁省委常委、沈阳市委书记",)


# -- ways of speaking -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sentence", "name"),
    [
        ("市长姜有为作工作部署,市领导于振明主持会议。", "姜有为"),  # seed
        ("市长王新伟作政府工作报告。", "王新伟"),
        ("副市长于春晖作表态发言。", "于春晖"),
        ("省长李乐成致辞。", "李乐成"),
        # big5cri_2018-07-27
        ("市长姜有为通报了今年上半年全市经济社会发展情况和下半年重点工作安排。", "姜有为"),
        ("省委书记郝鹏对下步工作提出要求。", "郝鹏"),
        ("市人大常委会主任潘利国出席会议并讲话。", "潘利国"),  # sccb2014
        ("省委书记、省人大常委会主任陈求发出席会议并讲话。", "陈求发"),  # shifen
        # nen_liaoning_2023-09-12
        (
            "9月7日,习近平总书记在黑龙江省哈尔滨市主持召开新时代推动东北全面振兴座谈会"
            "并发表重要讲话。",
            "习近平",
        ),
        ("在认真听取大家发言后,陈求发指出,过去一年很不平凡。", "陈求发"),  # shifen
        ("易炼红在讲话中指出,提升城市品质,认识必须再深化。", "易炼红"),  # seed
        ("姜有为在通报时说,今年以来,全市经济社会实现持续平稳健康发展。", "姜有为"),  # big5cri
        ("曾维仔细听取了项目负责人的介绍后表示,要进一步加强与东北大学开展全方位合作。", "曾维"),
        ("霍步刚到新民市辽中区调研时强调", "霍步刚"),  # headline
        ("吕志成主持并讲话", "吕志成"),  # headline
        ("市委书记王新伟在会上发言。", "王新伟"),
    ],
)  # fmt: skip
def test_ways_of_speaking(sentence: str, name: str) -> None:
    assert spoke(sentence) == {name}


def test_speakers_listed_before_xianhou_fayan() -> None:
    found = people(fixture_text("shifen_2019-02_chenqiufa.txt"))
    for name in ("温雪琼", "唱贺奇", "曲道奎"):
        assert found[name].roles == ("spoke",), name
    assert found["唱贺奇"].titles == ("九三学社省委专职副主委",)
    assert found["曲道奎"].titles == ("无党派人士代表",)


@pytest.mark.parametrize(
    "sentence",
    [
        # lvzhicheng: the speech referred to is Xi's, and 要求 here is a noun.
        "市委副书记、市长、市政府党组书记吕志成主持召开市政府党组(扩大)会议,传达学习习近平总书记在辽宁考察时"
        "重要讲话精神,按照市委常委会(扩大)会议的要求,研究政府系统贯彻落实工作。",
        # syd-gov_dsj_2022-12: 传达省委有关要求 is not 要求.
        "12月2日 省委常委、市委书记王新伟主持召开市委常委会会议,传达省委有关要求,"
        "研究部署近期市委重点工作。",
        "唐军、李万才对考察团一行来连表示欢迎。",
        "市人大常委会召开座谈会,市人大常委会主任潘利国出席。",
    ],
)  # fmt: skip
def test_not_speaking(sentence: str) -> None:
    assert spoke(sentence) == set()


# -- names ----------------------------------------------------------------------------------
def test_two_character_names() -> None:
    found = people(fixture_text("sccb2014_dsj_2021-02.txt"))
    assert "张雷" in found
    found = people(fixture_text("bjtitle_2023-05-13_haopeng.txt"))
    assert "郝鹏" in found and "郝鹏曾" not in found
    found = people(fixture_text("baogaosu_dsj_2015-06.txt"))
    assert found["祁鸣"].roles == ("attended",)


def test_surname_yu_against_preposition_yu() -> None:
    found = people("会议于3月1日召开,副市长于近日调研。市领导于海洋出席会议。")
    assert list(found) == ["于海洋"]
    assert found["于海洋"].roles == ("attended",)


def test_name_that_is_also_a_word() -> None:
    found = people("副市长唐宋出席会议并讲话。唐宋强调,要传承文化。\n唐宋诗词源远流长。")
    assert found["唐宋"].roles == ("spoke", "attended")
    assert found["唐宋"].statements == ("要传承文化。",)
    assert people("唐宋诗词源远流长,唐宋八大家名垂千古。") == {}


def test_common_words_after_titles_are_not_names() -> None:
    text = (
        "会议由副市长主持,副市长强调,要落实。市长明确要求加快进度。领导干部,领导班子成员参加会议。"
    )
    assert people(text) == {}


def test_order_of_first_appearance() -> None:
    names = [m.name for m in extract_people(SEED.read_text(encoding="utf-8"))]
    assert names[:3] == ["易炼红", "姜有为", "于振明"]


# -- character sets and punctuation ---------------------------------------------------------
def test_traditional_characters_are_simplified() -> None:
    # big5cri_2018-07-27: 市長姜有為通報了…瀋陽市政協主席韓東太主持會議並講話。
    found = people(fixture_text("big5cri_2018-07-27_jiangyouwei.txt"))
    assert found["姜有为"].roles == ("spoke",)
    assert found["韩东太"].roles == ("spoke", "presided")
    assert found["韩东太"].titles == ("沈阳市政协主席",)
    assert found["姜有为"].statements[0].startswith("今年以来,在市委的正确领导下")


def test_full_width_and_ascii_punctuation_read_the_same() -> None:
    ascii_text = "省委常委、市委书记张雷,市长王新伟出席会议并讲话。张雷强调:要抓实抓细。"
    full_text = "省委常委、市委书记张雷，市长王新伟出席会议并讲话。张雷强调：要抓实抓细。"
    as_ascii = extract_people(ascii_text)
    as_full = extract_people(full_text)
    assert [(m.name, m.roles, m.titles) for m in as_ascii] == [
        (m.name, m.roles, m.titles) for m in as_full
    ]
    # Statements are cut from the text as written.
    assert people(full_text)["张雷"].statements == ("要抓实抓细。",)


def test_empty_and_nameless_text() -> None:
    assert extract_people("") == []
    assert extract_people("   \n") == []
    assert extract_people("今天天气很好,会议于上午召开。") == []


def test_roles_are_known_and_ordered() -> None:
    for path in sorted(LEADERS.glob("*.txt")):
        for mention in extract_people(path.read_text(encoding="utf-8")):
            assert mention.roles, path
            assert set(mention.roles) <= set(ROLES)
            assert list(mention.roles) == sorted(mention.roles, key=ROLES.index)
            assert "mentioned" not in mention.roles or mention.roles == ("mentioned",)


# -- helpers --------------------------------------------------------------------------------
def test_to_simplified() -> None:
    assert to_simplified("瀋陽市長姜有為") == "沈阳市长姜有为"
    assert to_simplified("") == ""


def test_normalize_name() -> None:
    assert normalize_name(" 姜有為 ") == "姜有为"
    assert normalize_name("張　雷，") == "张雷"
    assert normalize_name("易炼红") == "易炼红"


@pytest.mark.parametrize(
    ("name", "pinyin"),
    [("易炼红", "yilianhong"), ("姜有為", "jiangyouwei"), ("曾维", "zengwei"), ("郝鹏", "haopeng"),
     ("于振明", "yuzhenming"), ("单雷", "shanlei")],
)  # fmt: skip
def test_name_pinyin(name: str, pinyin: str) -> None:
    assert name_pinyin(name) == pinyin


def test_gazetteer_is_consistent() -> None:
    data = resources.files("news.nlp.data")
    leaders = json.loads(data.joinpath("leaders.json").read_text(encoding="utf-8"))["leaders"]
    surnames = data.joinpath("surnames.txt").read_text(encoding="utf-8")
    assert {
        "易炼红",
        "姜有为",
        "陈求发",
        "张国清",
        "郝鹏",
        "李乐成",
        "王新伟",
        "张雷",
        "胡玉亭",
    } <= {entry["name"] for entry in leaders}
    for entry in leaders:
        assert normalize_name(entry["name"]) == entry["name"]
        assert entry["name"][0] in surnames, entry["name"]
        for alias in entry["aliases"]:
            assert to_simplified(alias) == entry["name"], alias
        for title in entry["titles"]:
            assert title["to"] is None or title["from"] <= title["to"], entry["name"]


def test_find_names_is_broader() -> None:
    text = (
        "彭小军认为,国内银行现在走的是台湾的发卡模式。市长王新伟出席会议。"  # CLUENER dev, line 1
    )
    names = find_names(text)
    assert "彭小军" in names and "王新伟" in names


def test_text_helpers() -> None:
    assert to_halfwidth("，：；！？（Ａ１）\u3000") == ",:;!?(A1) "
    text = "他说:“好。”然后走了!第二句;第三句\n\n第四句"
    assert split_sentences(text) == ["他说:“好。”", "然后走了!", "第二句;", "第三句", "第四句"]
    assert split_sentences(text, semicolons=False)[2] == "第二句;第三句"
    for start, end in sentence_spans(text):
        assert text[start:end].strip() == text[start:end]


# -- the labelled set, the benchmark and the command -----------------------------------------
def test_whole_labelled_set() -> None:
    score = score_leaders(LEADERS)
    assert len(score.files) == 15
    assert score.false == 0, [f.false for f in score.files if f.false]
    assert score.precision >= TARGET
    assert score.recall >= TARGET, [f.missed for f in score.files if f.missed]


def test_benchmark_without_a_corpus_fails(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run(tmp_path, out, leaders=tmp_path / "leaders") == 1
    assert "not found" in out.getvalue()


def test_benchmark_prints_a_table_and_passes() -> None:
    out = io.StringIO()
    assert run(FIXTURES, out) == 0
    report = out.getvalue()
    assert "sccb2014_dsj_2021-02.txt" in report
    assert "precision 1.000" in report and "recall 1.000" in report
    assert "name recall skipped" in report  # no ner/ folder among the fixtures


def test_cli_reads_gbk_html(tmp_path: Path) -> None:
    page = tmp_path / "page.shtml"
    html = (
        "<html><head><script>var x = '市长王某某讲话';</script></head><body>"
        "<p>省委常委、市委书记<b>王新伟</b>主持会议并讲话。</p><p>他强调,要抓实抓细。</p></body></html>"
    )
    page.write_bytes(html.encode("gb18030"))
    out = io.StringIO()
    assert cli_run(page, out) == 0
    result = json.loads(out.getvalue())
    assert result == [
        {
            "name": "王新伟",
            "roles": ["spoke", "presided"],
            "titles": ["省委常委、市委书记"],
            "statements": ["要抓实抓细。"],
        }
    ]


def test_cli_reads_plain_text(tmp_path: Path) -> None:
    out = io.StringIO()
    assert cli_run(LEADERS / "syd-gov_zwyw_2022-08-21_lvzhicheng.txt", out) == 0
    result = json.loads(out.getvalue())
    assert result[0]["name"] == "吕志成"
    assert set(result[0]) == {"name", "roles", "titles", "statements"}
    assert cli_run(tmp_path / "missing.txt", io.StringIO()) == 2


# -- every speech act, people outside the gazetteer -----------------------------------------
# Sentences written after these patterns (「市政协副主席X作…工作报告」,
# 「A、B、C分别代表…进行推介」, title chains, lists after one title); the names are made up.
SPEECH_ACTS = [
    ("会议听取了市政协副主席李明作的提案工作报告。", {"李明": "spoke"}),
    ("市政协副主席李明作提案工作报告。", {"李明": "spoke"}),
    (
        "沈阳市副市长王刚、大连市副市长陈强、鞍山市副市长刘伟分别代表本市进行推介。",
        {"王刚": "spoke", "陈强": "spoke", "刘伟": "spoke"},
    ),
    (
        "王刚、陈强、刘伟分别代表各自城市作推介发言。",
        {"王刚": "spoke", "陈强": "spoke", "刘伟": "spoke"},
    ),
    (
        "副市长张华、李强、赵宇出席会议。",
        {"张华": "attended", "李强": "attended", "赵宇": "attended"},
    ),
    ("区委书记刘洋主持会议。", {"刘洋": "presided"}),
    ("市委常委、宣传部部长孙立平作动员讲话。", {"孙立平": "spoke"}),
    ("市委副书记杨波宣读了表彰决定。", {"杨波": "spoke"}),
    ("市纪委书记周涛通报了有关案件情况。", {"周涛": "spoke"}),
    ("市发改委主任吴敏解读了相关政策。", {"吴敏": "spoke"}),
    ("市长赵刚传达了全国两会精神。", {"赵刚": "spoke"}),
    ("省委书记郝鹏会见了客人。", {"郝鹏": "met"}),
    ("县委书记刘洋作工作部署。", {"刘洋": "spoke"}),
    ("王新伟提出要求。", {"王新伟": "spoke"}),
    ("市委书记姜有爲出席。", {"姜有为": "attended"}),
    ("党委书记强调,沈阳市要抓好落实。", {}),
    ("会上,市委常委、组织部部长高峰作总结讲话。", {"高峰": "spoke"}),
    (
        "市政协主席韩东太致辞。副市长王玲、刘伟和市政协副主席杨洁参加活动。",
        {"韩东太": "spoke", "王玲": "attended", "刘伟": "attended", "杨洁": "attended"},
    ),
    ("市委常委、秘书长李松林在会上提及此事。", {"李松林": "mentioned"}),
    ("省政府副省长陈刚作政府工作报告。", {"陈刚": "spoke"}),
    ("市教育局局长马丽作辅导报告。", {"马丽": "spoke"}),
    ("市委书记王新伟、市长吕志成分别发言。", {"王新伟": "spoke", "吕志成": "spoke"}),
    ("沈阳市委副书记王成介绍了情况。", {"王成": "spoke"}),
]


@pytest.mark.parametrize(("text", "want"), SPEECH_ACTS)
def test_speech_acts_and_roles(text: str, want: dict[str, str]) -> None:
    got = {m.name: m.roles for m in extract_people(text)}
    assert set(got) == set(want), got
    for name, role in want.items():
        assert role in got[name], (name, got[name])


def test_people_outside_the_gazetteer_keep_their_title_chain() -> None:
    [person] = extract_people("市委常委、宣传部部长孙立平作动员讲话。")
    assert person.titles == ("市委常委、宣传部部长",)
    listed = extract_people("副市长张华、李强、赵宇出席会议。")
    assert [m.titles for m in listed] == [("副市长",)] * 3


@pytest.mark.parametrize(
    "text",
    ["党委书记强调,要抓好落实。", "沈阳市强调,要抓好落实。", "铁西区委书记指出,要抓好落实。"],
)
def test_titles_and_places_never_become_people(text: str) -> None:
    assert extract_people(text) == []


def test_a_gazetteer_alias_is_the_same_person() -> None:
    [traditional] = extract_people("瀋陽市市長姜有爲講話。")
    [simplified] = extract_people("沈阳市市长姜有为讲话。")
    assert traditional.name == simplified.name == "姜有为"


def test_title_matching_skips_deputies() -> None:
    assert title_matches("辽宁省省长", "省长")
    assert title_matches("省委常委、沈阳市委书记", "沈阳市委书记")
    assert not title_matches("辽宁省副省长", "省长")
    assert not title_matches("沈阳市委常委、常务副市长", "市长")
    assert not title_matches("沈阳市委副书记", "书记")


def test_gazetteer_terms_by_year() -> None:
    assert [t.name for t in gazetteer_terms("省长", 2024, 2024)] == ["李乐成"]
    assert {t.name for t in gazetteer_terms("省长", 2025, 2025)} == {"李乐成", "王新伟"}
    assert gazetteer_terms("省长", 1990, 1990) == []
