"""Every string a user reads is translated into Russian and Kazakh."""

from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parents[1] / "sitroom" / "locale"


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_catalogue_is_complete_and_compiled(language):
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in po if not e.translated() and not e.obsolete]
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    assert not missing, f"untranslated: {missing[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"
    mo = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))
    compiled = {(e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
                for e in mo}
    for entry in po.translated_entries():
        key = (entry.msgctxt, entry.msgid)
        assert key in compiled, f"{entry.msgid!r} is not in django.mo: run compilemessages"
        assert compiled[key] == (entry.msgstr, tuple(sorted(entry.msgstr_plural.items()))), \
            f"django.mo is older than django.po for {entry.msgid!r}: run compilemessages"


def test_no_user_facing_string_is_missing_from_the_catalogue(tmp_path):
    """makemessages over a copy of the code finds nothing the catalogue lacks."""
    import os
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "sitroom"
    shutil.copytree(LOCALE.parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env["SITROOM_HOME"] = str(tmp_path / "home")
    subprocess.run([sys.executable, "-m", "django", "makemessages", "-l", "ru",
                    "--settings", "sitroom.settings"], cwd=copy, env=env, check=True,
                   capture_output=True)
    fresh = {e.msgid for e in polib.pofile(str(copy / "locale/ru/LC_MESSAGES/django.po"))}
    ours = {e.msgid for e in polib.pofile(str(LOCALE / "ru/LC_MESSAGES/django.po"))
            if not e.obsolete}
    assert sorted(fresh - ours) == []


def test_system_journal_lines_name_things_in_the_readers_language(world):
    """A line the system writes ("Almaty: Metro — Not operating") is stored once, in
    English, and each reader sees the area's and the component's names in their own
    language."""
    from django.utils import translation

    from sitroom.core.i18n import render
    from sitroom.core.models import JournalEntry
    from sitroom.lifelines.services import StatusDraft, load_components, report_statuses

    load_components(actor=world.users["director"], source="cli")
    report_statuses([StatusDraft(area="KZ-ALA", component="metro", status="red")],
                    actor=world.users["duty"], source="api")
    entry = JournalEntry.objects.filter(kind="lifeline").order_by("-seq").first()
    assert entry.summary == "Almaty: Metro — Not operating"
    with translation.override("ru"):
        russian = render(entry.summary, entry.payload)
    with translation.override("kk"):
        kazakh = render(entry.summary, entry.payload)
    assert russian == "Алматы: Метрополитен — Не работает"
    assert kazakh.startswith("Алматы: ") and "Metro" not in kazakh and kazakh != russian
