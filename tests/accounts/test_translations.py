"""The Simplified Chinese catalogue: every string in locale/zh_Hans is translated and compiled,
and pages render in Chinese when the browser or the language switcher asks for it.

The .po file is read with a small reader below (no gettext tools or polib needed), so a fresh
machine checks the committed django.po against the committed django.mo.
"""

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

PO_PATH = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|\{\w*\}|<[^>]*>|&\w+;")  # %-format, brace-format, tags, entities


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0


def _unquote(text: str) -> str:
    """One quoted .po string, C escapes included, as Python text."""
    return ast.literal_eval(text)


def read_po(path: Path) -> list[Entry]:
    """The active (not obsolete) entries of a .po file, header included as msgid ""."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None  # which field continuation lines extend

    def flush() -> None:
        nonlocal entry, target
        if target is not None:
            entries.append(entry)
        entry, target = Entry(), None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("#~"):
            continue  # obsolete entry: not used by gettext
        elif line.startswith("#,"):
            if target is not None and "msgstr" in target[0]:
                flush()
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            if target is not None and "msgstr" in target[0]:
                flush()
        else:
            keyword, _, rest = line.partition(" ")
            if line.startswith('"'):
                assert target is not None, f"{path}:{number}: string outside an entry"
                value = _unquote(line)
                name, index = target
                if name == "msgstr":
                    entry.msgstr[index] += value
                else:
                    setattr(entry, name, (getattr(entry, name) or "") + value)
                continue
            if keyword in ("msgctxt", "msgid") and target is not None and target[0] == "msgstr":
                flush()
            match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            if keyword == "msgstr" or match:
                index = int(match.group(1)) if match else 0
                entry.msgstr[index] = _unquote(rest)
                target = ("msgstr", index)
            elif keyword in ("msgid", "msgid_plural", "msgctxt"):
                if keyword == "msgid":
                    entry.line = number
                setattr(entry, keyword, _unquote(rest))
                target = (keyword, 0)
            else:
                raise AssertionError(f"{path}:{number}: cannot read {raw!r}")
    flush()
    return entries


ENTRIES = read_po(PO_PATH)
MESSAGES = [e for e in ENTRIES if e.msgid]


def _label(entry: Entry) -> str:
    return f"line {entry.line}: {entry.msgid[:60]!r}"


def test_catalogue_exists_and_is_compiled():
    assert PO_PATH.exists() and MO_PATH.exists()
    assert len(MESSAGES) > 100


def test_header_declares_chinese_plural_forms_and_is_not_fuzzy():
    header = next(e for e in ENTRIES if e.msgid == "")
    assert "fuzzy" not in header.flags
    assert "Plural-Forms: nplurals=1; plural=0;" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]


def test_no_entry_is_empty_or_fuzzy():
    fuzzy = [_label(e) for e in MESSAGES if "fuzzy" in e.flags]
    empty = [_label(e) for e in MESSAGES if not e.msgstr or not all(s.strip() for s in e.msgstr.values())]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not empty, f"untranslated entries: {empty}"


def test_chinese_has_one_plural_form():
    plurals = [e for e in MESSAGES if e.msgid_plural is not None]
    assert plurals
    for entry in plurals:
        assert set(entry.msgstr) == {0}, _label(entry)


def test_translations_keep_placeholders_and_markup():
    wrong = []
    for entry in MESSAGES:
        if entry.msgid_plural is None:
            expected = sorted(PLACEHOLDER.findall(entry.msgid))
            if sorted(PLACEHOLDER.findall(entry.msgstr[0])) != expected:
                wrong.append(_label(entry))
        else:  # one Chinese form serves both English forms: it may use any of their placeholders
            allowed = set(PLACEHOLDER.findall(entry.msgid)) | set(PLACEHOLDER.findall(entry.msgid_plural))
            if not set(PLACEHOLDER.findall(entry.msgstr[0])) <= allowed:
                wrong.append(_label(entry))
    assert not wrong, f"placeholders or tags differ: {wrong}"


def test_compiled_catalogue_covers_every_message():
    """django.mo answers every msgid of django.po with that entry's msgstr (a stale or missing
    .mo after new strings were added fails here)."""
    untranslated, stale = [], []
    with translation.override("zh-hans"):
        for entry in MESSAGES:
            expected = entry.msgstr[0]
            if entry.msgid_plural is not None and entry.msgctxt:
                got = translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 2)
            elif entry.msgid_plural is not None:
                got = translation.ngettext(entry.msgid, entry.msgid_plural, 2)
            elif entry.msgctxt:
                got = translation.pgettext(entry.msgctxt, entry.msgid)
            else:
                got = translation.gettext(entry.msgid)
            if expected != entry.msgid and got == entry.msgid:
                untranslated.append(_label(entry))
            elif got != expected:
                stale.append(_label(entry))
    assert not untranslated, f"not in the compiled catalogue (run compilemessages): {untranslated}"
    assert not stale, f"compiled catalogue differs from django.po (run compilemessages): {stale}"


def test_english_stays_the_default():
    with translation.override("en"):
        assert translation.gettext("Customers") == "Customers"
    with translation.override("zh-hans"):
        assert translation.gettext("Customers") == "客户"


@pytest.mark.django_db
def test_login_page_in_chinese(client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="zh-hans">' in page
    for word in ("登录", "用户名", "密码"):
        assert word in page


@pytest.mark.django_db
def test_customer_list_in_chinese(marketer_client):
    response = marketer_client.get("/customers/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    for word in ("客户", "人群", "营销活动", "搜索", "会员等级", "退出登录", "没有符合筛选条件的客户"):
        assert word in page, word
    assert "Sign out" not in page


@pytest.mark.django_db
def test_import_page_in_chinese(marketer_client):
    response = marketer_client.get("/customers/import/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    for word in ("导入数据", "上传 CSV 文件", "导入", "订单明细", "行为事件", "文件内容"):
        assert word in page, word


@pytest.mark.django_db
def test_language_switcher_sets_chinese_for_later_pages(marketer_client):
    assert "Customers" in marketer_client.get("/customers/").content.decode()
    response = marketer_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/customers/"})
    assert response.status_code == 302
    page = marketer_client.get("/customers/").content.decode()
    assert "客户" in page and "退出登录" in page
