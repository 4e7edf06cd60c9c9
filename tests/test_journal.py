"""The journal: validation, scope, idempotency, the hash chain and its verification."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from sitroom.core.actors import Actor
from sitroom.core.errors import InvalidInput, NotAllowed
from sitroom.core.models import JournalEntry
from sitroom.core.services import EntryDraft, record_entries, record_entry

T0 = datetime(2022, 1, 5, 6, 0, tzinfo=UTC)


def note(users, areas, who="duty", area="KZ-ALA", **kw):
    kw.setdefault("summary", "Crowd gathering on Republic Square")
    return record_entry(actor=users[who], source="web", kind="note", area=areas[area], **kw)


def test_entry_keeps_both_times_actor_and_area(users, areas):
    entry = note(users, areas, occurred_at=T0)
    assert entry.occurred_at == T0
    assert entry.recorded_at > T0
    assert entry.actor_label == "duty"
    assert entry.area_path == "KZ/KZ-ALA/"


def test_bad_input_names_each_field_and_writes_nothing(users, areas):
    before = JournalEntry.objects.count()
    with pytest.raises(InvalidInput) as exc:
        record_entry(actor=users["duty"], source="web", kind="gossip", summary="  ",
                     occurred_at=datetime(2022, 1, 5, 12, 0), area=areas["KZ-ALA"])
    assert set(exc.value.errors) == {"kind", "summary", "occurred_at"}
    assert "time-zone offset" in exc.value.errors["occurred_at"][0]
    assert JournalEntry.objects.count() == before


def test_future_and_server_stamped_times_are_refused(users, areas):
    with pytest.raises(InvalidInput) as exc:
        note(users, areas, occurred_at=datetime.now(UTC) + timedelta(days=1),
             recorded_at=T0)
    assert set(exc.value.errors) == {"occurred_at", "recorded_at"}


def test_batch_is_all_or_nothing_and_names_the_item(users, areas):
    before = JournalEntry.objects.count()
    drafts = [EntryDraft(kind="note", summary="ok", area=areas["KZ-ALA"]),
              EntryDraft(kind="note", summary="", area=areas["KZ-ALA"])]
    with pytest.raises(InvalidInput) as exc:
        record_entries(drafts, actor=users["duty"], source="api")
    assert list(exc.value.errors) == ["items[1].summary"]
    assert JournalEntry.objects.count() == before


def test_reporter_cannot_write_outside_scope_and_viewer_cannot_write(users, areas):
    note(users, areas, who="reporter", area="KZ751110")  # inside Almaty: allowed
    with pytest.raises(NotAllowed):
        note(users, areas, who="reporter", area="KZ-MAN")
    with pytest.raises(NotAllowed):
        note(users, areas, who="viewer")


def test_same_external_id_is_recorded_once(users, areas):
    first = note(users, areas, external_id="device-7:42")
    again = note(users, areas, external_id="device-7:42", summary="retry")
    assert again.seq == first.seq
    assert JournalEntry.objects.filter(external_id="device-7:42").count() == 1


def test_chain_links_each_entry_to_the_previous(users, areas):
    a = note(users, areas)
    b = note(users, areas)
    assert b.seq == a.seq + 1
    assert b.prev_hash == a.hash


def _verify_fails_with(capsys, text):
    with pytest.raises(SystemExit) as exc:
        call_command("journal", "verify")
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert text in err, err


def test_verify_passes_on_an_untouched_journal(users, areas, capsys):
    note(users, areas)
    call_command("journal", "verify")
    assert "chain intact" in capsys.readouterr().out


def test_verify_names_an_edited_entry(users, areas, capsys):
    note(users, areas)
    victim = note(users, areas, summary="12 injured")
    note(users, areas)
    JournalEntry.objects.filter(seq=victim.seq).update(summary="2 injured")
    _verify_fails_with(capsys, f"entry #{victim.seq} was altered")


def test_verify_names_a_deleted_entry(users, areas, capsys):
    note(users, areas)
    victim = note(users, areas)
    note(users, areas)
    JournalEntry.objects.filter(seq=victim.seq).delete()
    _verify_fails_with(capsys, f"entry #{victim.seq} is missing")


def test_verify_names_an_entry_inserted_out_of_order(users, areas, capsys):
    first = note(users, areas)
    second = note(users, areas)
    # Forge an entry between the two: renumber the second and slot a copy of it in.
    with connection.cursor() as cur:
        table = JournalEntry._meta.db_table
        cur.execute(f"UPDATE {table} SET seq = seq + 1 WHERE seq = %s", [second.seq])
    forged = JournalEntry.objects.get(seq=second.seq + 1)
    forged.seq, forged.summary = second.seq, "forged"
    forged.hash = "f" * 64
    forged.save(force_insert=True)
    _verify_fails_with(capsys, f"entry #{second.seq}")
    assert first.seq < second.seq


def test_system_actor_is_named(world):
    entry = record_entry(actor=Actor.system_actor("import-job"), source="import", kind="note",
                         summary="archive", area=world.areas["KZ"])
    assert entry.actor_label == "system:import-job"
    assert entry.actor is None
