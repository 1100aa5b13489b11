"""The record of every exchange, after real conversations through the webhook: `flask --app bot
verify-log` finds an edited, deleted or forged record, and `rotate-keys` re-encrypts everything so
the old key can go."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import delete, insert, select, text, update

from storage.crypto import DataCipher, UndecryptableError, generate_key
from storage.models import Exchange, ExchangeChainHead, PhoneNumber
from storage.phones import find_phone
from tests.conftest import DATA_KEY
from tests.webhooks.conftest import (
    NEVER_OPTED_IN,
    NOT_ON_FILE,
    OPTED_OUT,
    UNVERIFIED,
    VERIFIED_EN,
    VERIFIED_ES,
    consent_label,
    ensure_chain_head,
    exchange_rows,
    reply,
)
from tests.webhooks.wording import assert_says

CONVERSATION = [
    (VERIFIED_EN, "when is my next payment due"),
    (UNVERIFIED, "did you get my payment"),
    (UNVERIFIED, "0118"),
    (VERIFIED_ES, "¿cuándo es mi próximo pago?"),
    (NEVER_OPTED_IN, "hello there"),
    (OPTED_OUT, "are you still there"),  # silence: an inbound record with no reply
    (VERIFIED_EN, "please stop texting me"),
    (NOT_ON_FILE, "START"),
]


def converse(client) -> int:  # noqa: ANN001
    """Send the conversation; return how many records it should have logged."""
    records = 0
    for number, body in CONVERSATION:
        records += 1 if reply(client, number, body) is None else 2
    return records


def verify_log(app: Flask) -> Result:
    return app.test_cli_runner().invoke(args=["verify-log"])


def assert_intact(result: Result, records: int) -> None:
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"exchange log intact: {records} records, chain verified"


def assert_broken(result: Result, *expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert "exchange log is NOT intact" in result.output
    for part in expected:
        assert part in result.output, f"{part!r} not in {result.output!r}"


def record_at(app: Flask, seq: int) -> Exchange:
    with app.extensions["database"].session() as session:
        return session.scalars(select(Exchange).where(Exchange.chain_seq == seq)).one()


def named(record: Exchange) -> str:
    return f"record #{record.chain_seq} (id {record.id},"


@pytest.fixture
def logged(demo_app: Flask, demo_client) -> int:  # noqa: ANN001
    """The demo app after a conversation; the number of records, checked intact."""
    records = converse(demo_client)
    assert len(exchange_rows(demo_app)) == records
    assert_intact(verify_log(demo_app), records)
    return records


def test_verify_log_on_an_empty_log_is_intact(app: Flask) -> None:
    ensure_chain_head(app.extensions["database"])
    assert_intact(verify_log(app), 0)


def test_verify_log_after_a_conversation_is_intact(demo_app: Flask, logged: int) -> None:
    rows = exchange_rows(demo_app)
    assert [row.chain_seq for row in rows] == list(range(1, logged + 1))
    assert all(row.prev_hash == before.record_hash for before, row in zip(rows, rows[1:], strict=False))
    with demo_app.extensions["database"].session() as session:
        head = session.get(ExchangeChainHead, 1)
        assert (head.seq, head.last_hash) == (logged, rows[-1].record_hash)


def _edit(app: Flask, seq: int, **values: object) -> None:
    with app.extensions["database"].transaction() as session:
        session.execute(update(Exchange.__table__).where(Exchange.chain_seq == seq).values(**values))


def test_an_edited_record_is_named(demo_app: Flask, logged: int) -> None:
    seq = 3  # UNVERIFIED's question: an inbound record with a reply after it
    record = record_at(demo_app, seq)
    assert record.direction == "inbound"
    cipher: DataCipher = demo_app.extensions["cipher"]
    with demo_app.extensions["database"].session() as session:
        other_phone = find_phone(session, cipher, VERIFIED_EN).id
    edits = {
        # A well-formed ciphertext of another text, under the right key: only the chain can tell.
        "body_enc": cipher.encrypt("I never sent this"),
        "intent": "question",
        "occurred_at": record.occurred_at - timedelta(seconds=1),
        "template_id": "next_due_date",
        "consent_state": "opted_in_verified",
        "phone_number_id": other_phone,
        "message_sid": "SM" + "0" * 32,
        "direction": "outbound",
        "reply_to_seq": 1,
    }
    for column, new_value in edits.items():
        original = getattr(record, column)
        assert original != new_value, column
        _edit(demo_app, seq, **{column: new_value})
        result = verify_log(demo_app)
        assert result.exit_code == 1, f"{column}: {result.output}"
        assert_broken(result, named(record), "altered")
        # Put back, the chain is whole again: the edit alone was what verify-log found.
        _edit(demo_app, seq, **{column: original})
        assert_intact(verify_log(demo_app), logged)


def test_a_body_that_no_longer_decrypts_is_named(demo_app: Flask, logged: int) -> None:
    record = record_at(demo_app, 5)
    _edit(demo_app, 5, body_enc=record.body_enc[:-8] + "AAAAAAA=")
    assert_broken(verify_log(demo_app), named(record), "cannot be decrypted")


def test_a_changed_delivery_status_is_allowed(demo_app: Flask, logged: int) -> None:
    # The only field that may change after writing (status callbacks): outside the hash on purpose.
    _edit(demo_app, 2, delivery_status="delivered")
    assert_intact(verify_log(demo_app), logged)


def test_a_deleted_middle_record_is_named(demo_app: Flask, logged: int) -> None:
    record = record_at(demo_app, 4)
    assert record.direction == "outbound"
    with demo_app.extensions["database"].transaction() as session:
        session.execute(text("DELETE FROM exchanges WHERE chain_seq = 4"))
    assert_broken(verify_log(demo_app), "record #4 deleted", "the chain jumps to record #5")


def test_a_deleted_exchange_pair_is_named(demo_app: Flask, logged: int) -> None:
    with demo_app.extensions["database"].transaction() as session:
        session.execute(delete(Exchange).where(Exchange.chain_seq == 2))  # the reply first (foreign key)
        session.execute(delete(Exchange).where(Exchange.chain_seq == 1))
    assert_broken(verify_log(demo_app), "records #1..#2 deleted", "the chain jumps to record #3")


def test_deleted_last_records_are_found(demo_app: Flask, logged: int) -> None:
    for count in (1, 2):
        with demo_app.extensions["database"].transaction() as session:
            session.execute(delete(Exchange).where(Exchange.chain_seq > logged - count))
        result = verify_log(demo_app)
        gone = f"record #{logged}" if count == 1 else f"records #{logged - count + 1}..#{logged}"
        assert_broken(result, f"{gone} deleted from the end")


def _forge(app: Flask, seq: int) -> None:
    """Insert a record copied from the last one, as someone without the key would have to."""
    last = record_at(app, max(row.chain_seq for row in exchange_rows(app)))
    with app.extensions["database"].transaction() as session:
        session.execute(
            insert(Exchange.__table__).values(
                chain_seq=seq,
                direction="outbound",
                occurred_at=last.occurred_at,
                message_sid=None,
                phone_number_id=last.phone_number_id,
                body_enc=app.extensions["cipher"].encrypt("We have waived your arrears."),
                intent=None,
                template_id="next_due_date",
                consent_state="opted_in_verified",
                delivery_status="twiml",
                prev_hash=last.record_hash,
                record_hash="ab" * 32,
                key_id=last.key_id,
            )
        )


def test_a_forged_record_after_the_last_is_found(demo_app: Flask, logged: int) -> None:
    _forge(demo_app, logged + 1)
    assert_broken(verify_log(demo_app), f"record #{logged + 1}", "altered")


def test_a_forged_record_before_the_first_is_found(demo_app: Flask, logged: int) -> None:
    _forge(demo_app, 0)
    assert_broken(verify_log(demo_app), "#0")


def test_swapped_records_are_found(demo_app: Flask, logged: int) -> None:
    # Renumbering is blocked by the reply_to_seq foreign key, so swap everything else of #5 and #6.
    moved = (
        "direction",
        "occurred_at",
        "message_sid",
        "body_enc",
        "intent",
        "template_id",
        "consent_state",
        "prev_hash",
        "record_hash",
        "key_id",
    )
    fifth, sixth = record_at(demo_app, 5), record_at(demo_app, 6)
    with demo_app.extensions["database"].transaction() as session:
        for target, source in ((5, sixth), (6, fifth)):
            session.execute(
                update(Exchange.__table__)
                .where(Exchange.chain_seq == target)
                .values({name: getattr(source, name) for name in moved})
            )
    assert_broken(verify_log(demo_app), "record #5", "does not follow the record before it")


def test_an_altered_chain_head_is_found(demo_app: Flask, logged: int) -> None:
    with demo_app.extensions["database"].transaction() as session:
        session.execute(update(ExchangeChainHead.__table__).values(head_mac="00" * 32))
    assert_broken(verify_log(demo_app), "chain head was altered")


def _cut_tail(app: Flask, logged: int, **head: object) -> None:
    """Delete the last record and move the chain head back to the one before it."""
    before_last = record_at(app, logged - 1)
    with app.extensions["database"].transaction() as session:
        session.execute(delete(Exchange).where(Exchange.chain_seq == logged))
        session.execute(
            update(ExchangeChainHead.__table__).values(
                seq=logged - 1, last_hash=before_last.record_hash, **head
            )
        )


def test_a_cut_tail_with_the_head_moved_back_is_found(demo_app: Flask, logged: int) -> None:
    _cut_tail(demo_app, logged)  # the head's MAC still signs the old end
    assert_broken(verify_log(demo_app), "chain head was altered")


def test_a_cut_tail_with_the_head_mac_removed_is_found(demo_app: Flask, logged: int) -> None:
    _cut_tail(demo_app, logged, head_mac=None, key_id=None)
    assert_broken(verify_log(demo_app), "chain head")


# --- key rotation ----------------------------------------------------------------------------------


def test_rotate_keys_lets_the_old_key_go(
    demo_app: Flask,
    demo_client,
    make_app: Callable[..., Flask],  # noqa: ANN001
) -> None:
    records = converse(demo_client)
    with demo_app.extensions["database"].session() as session:
        phones_before = session.scalars(select(PhoneNumber.number_enc)).all()
    new_key = generate_key()

    both = make_app(DATA_KEYS=f"{new_key},{DATA_KEY}")
    # While both keys are listed, old records read and new ones are written with the new key.
    assert_says(reply(both.test_client(), VERIFIED_ES, "hola"), "greet", "es")
    records += 2
    assert_intact(verify_log(both), records)

    # Dropping the old key before rotating is found, and rotate-keys itself is what fixes it.
    only_new = make_app(DATA_KEYS=new_key)
    assert_broken(verify_log(only_new), "record #1 ", "DATA_KEYS")

    result = both.test_cli_runner().invoke(args=["rotate-keys"])
    assert result.exit_code == 0, result.output
    phones = len(phones_before) + 0
    assert f"{phones} phone numbers" in result.output
    assert f"{records} exchange records" in result.output

    assert_intact(verify_log(only_new), records)
    old: DataCipher = DataCipher([DATA_KEY])
    new: DataCipher = only_new.extensions["cipher"]
    rows = exchange_rows(only_new)
    bodies = [new.decrypt(row.body_enc) for row in rows]
    for _, body in CONVERSATION:
        assert body in bodies
    for row in rows:
        with pytest.raises(UndecryptableError):
            old.decrypt(row.body_enc)
    with only_new.extensions["database"].session() as session:
        for stored in session.scalars(select(PhoneNumber)):
            with pytest.raises(UndecryptableError):
                old.decrypt(stored.number_enc)
            assert stored.lookup_hash == new.lookup_hash(new.decrypt(stored.number_enc))
        for number in (VERIFIED_EN, VERIFIED_ES, OPTED_OUT, UNVERIFIED, NEVER_OPTED_IN, NOT_ON_FILE):
            assert find_phone(session, new, number) is not None, number
        assert len(session.scalars(select(PhoneNumber.id)).all()) == phones

    # The webhook, with only the new key, still knows every number's consent state.
    client = only_new.test_client()
    assert consent_label(only_new, VERIFIED_EN) == "opted_out"  # texted "please stop texting me"
    assert reply(client, VERIFIED_EN, "when is my next payment due") is None
    assert reply(client, OPTED_OUT, "when is my next payment due") is None
    assert_says(reply(client, UNVERIFIED, "when is my next payment due"), "next_due_date", "en")  # verified
    assert_says(reply(client, VERIFIED_ES, "hola"), "greet", "es")
    assert_says(reply(client, NEVER_OPTED_IN, "hello"), "enroll", "en")
    assert_says(reply(client, NOT_ON_FILE, "hello"), "verify_unknown", "en")
    with only_new.extensions["database"].session() as session:
        assert len(session.scalars(select(PhoneNumber.id)).all()) == phones  # no number made twice
    assert_intact(verify_log(only_new), records + 10)


def test_a_key_removed_too_early_is_reported_as_a_missing_key_not_as_tampering(
    demo_app: Flask, logged: int, make_app: Callable[..., Flask]
) -> None:
    result = verify_log(make_app(DATA_KEYS=generate_key()))
    assert_broken(result, "record #1 ", "no longer in DATA_KEYS")
    assert "altered" not in result.output


def test_rotate_keys_refuses_a_log_that_is_not_intact(
    demo_app: Flask, logged: int, make_app: Callable[..., Flask]
) -> None:
    _edit(demo_app, 2, intent="tampered")
    before = [(row.body_enc, row.record_hash) for row in exchange_rows(demo_app)]
    both = make_app(DATA_KEYS=f"{generate_key()},{DATA_KEY}")
    result = both.test_cli_runner().invoke(args=["rotate-keys"])
    assert result.exit_code == 1
    assert "refusing to rotate" in result.output
    assert "record #2 " in result.output
    assert [(row.body_enc, row.record_hash) for row in exchange_rows(demo_app)] == before
