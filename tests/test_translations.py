"""Every zh-hans catalogue is complete and its compiled .mo matches the .po (`make messages`)."""

import gettext
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = sorted(ROOT.glob("*/locale/zh_Hans/LC_MESSAGES/django.po"))
ENTRY = re.compile(r'^msgid "(.+)"\nmsgstr "(.*)"$', re.MULTILINE)


def test_the_shared_and_accounts_catalogues_exist():
    names = {path.relative_to(ROOT).parts[0] for path in CATALOGUES}
    assert {"imserver", "accounts"} <= names


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda path: path.relative_to(ROOT).parts[0])
def test_every_message_is_translated_and_compiled(po_path: Path):
    entries = ENTRY.findall(po_path.read_text(encoding="utf-8"))
    assert entries
    untranslated = [msgid for msgid, msgstr in entries if not msgstr]
    assert untranslated == []
    with po_path.with_suffix(".mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = [
        msgid
        for msgid, msgstr in entries
        if catalogue.gettext(msgid.replace('\\"', '"')) != msgstr.replace('\\"', '"')
    ]
    assert stale == []
