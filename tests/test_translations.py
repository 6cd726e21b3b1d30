"""The zh-hans catalogue is complete and its compiled .mo matches the .po (run `make messages`)."""

import gettext
import re
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parent.parent / "imserver/locale/zh_Hans/LC_MESSAGES"
ENTRY = re.compile(r'^msgid "(.+)"\nmsgstr "(.*)"$', re.MULTILINE)


def test_every_message_is_translated_and_compiled():
    entries = ENTRY.findall((CATALOGUE / "django.po").read_text(encoding="utf-8"))
    assert entries
    untranslated = [msgid for msgid, msgstr in entries if not msgstr]
    assert untranslated == []
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = [
        msgid
        for msgid, msgstr in entries
        if catalogue.gettext(msgid.replace('\\"', '"')) != msgstr.replace('\\"', '"')
    ]
    assert stale == []
