"""Accounts for operators: initial logins for a township, disabling and enabling (recorded), the account list."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from tests.conftest import START
from workflows.org.account_admin import (
    PASSWORD_ALPHABET,
    account_rows,
    changes_of,
    create_accounts,
    disable_account,
    enable_account,
    find_scope,
    hash_passwords,
    initial_password,
    people_without_account,
)
from workflows.org.accounts import (
    Account,
    AccountDisabled,
    AccountError,
    authenticate,
    issue_api_token,
    set_password,
)
from workflows.org.login_sessions import live_session_count, save_session

T02 = ["t02.cadre", "t02.leader1", "t02v01.secretary", "t02v02.secretary"]


def test_initial_passwords_are_random_and_free_of_look_alikes() -> None:
    passwords = {initial_password() for _ in range(200)}
    assert len(passwords) == 200
    for password in passwords:
        assert len(password) == 12 and set(password) <= set(PASSWORD_ALPHABET)
        assert not set(password) & set("0O1lI")


def test_a_township_gets_logins_for_everyone_without_one_that_must_be_changed(small_org) -> None:
    session = small_org
    set_password(session, "t02.cadre", "already-has-one", START)
    scope = find_scope(session, township="云岭乡")
    people = people_without_account(session, scope)
    assert [p.username for p in people] == ["t02.leader1", "t02v01.secretary", "t02v02.secretary"]
    passwords = [initial_password() for _ in people]
    seen: list[int] = []
    hashes = hash_passwords(passwords, 1, seen.append)
    assert seen[-1] == 3 and all(h.startswith("scrypt:") for h in hashes)  # the hash set_password uses
    logins = create_accounts(session, people, passwords, hashes, "admin1", START)
    session.commit()
    assert [(x.username, x.units) for x in logins] == [
        ("t02.leader1", "云岭乡"), ("t02v01.secretary", "栗垄村"), ("t02v02.secretary", "茶湾村")]
    assert authenticate(session, "t02v01.secretary", logins[1].password).username == "t02v01.secretary"
    assert people_without_account(session, scope) == []
    rows = {row.username: row for row in account_rows(session, scope)}
    assert set(rows) == set(T02)
    assert not rows["t02.cadre"].must_change and rows["t02.leader1"].must_change and rows["t02.leader1"].has_account
    assert [c.action for c in changes_of(session, "t02.leader1")] == ["created"]
    assert changes_of(session, "t02.leader1")[0].actor == "admin1"
    everyone = people_without_account(session, find_scope(session))
    assert "t01.cadre" in {p.username for p in everyone} and "t02.leader1" not in {p.username for p in everyone}


def test_a_unit_scope_takes_the_units_below_it_and_unknown_names_are_refused(small_org) -> None:
    scope = find_scope(small_org, unit="t01v01")
    assert [p.username for p in people_without_account(small_org, scope)] == ["t01v01.secretary", "t01v01g01.worker"]
    with pytest.raises(AccountError, match="no township unit with code or name 'nowhere'"):
        find_scope(small_org, township="nowhere")


def test_an_operators_password_must_be_changed_and_drops_the_token_the_owners_own_clears_the_mark(small_org) -> None:
    session = small_org
    set_password(session, "t01.cadre", "first-secret-1", START)
    issue_api_token(session, "t01.cadre")
    account = set_password(session, "t01.cadre", "reset-by-admin", START, by_operator=True)
    assert account.must_change_password and account.api_token_hash is None
    assert not set_password(session, "t01.cadre", "mine-at-last", START).must_change_password


def test_a_disabled_account_cannot_log_in_its_sessions_and_token_end_and_both_changes_are_recorded(small_org) -> None:
    session = small_org
    set_password(session, "t01.cadre", "first-secret-1", START)
    issue_api_token(session, "t01.cadre")
    save_session(session, "s" * 43, {"user": "t01.cadre"}, START, new=True)
    with pytest.raises(AccountError, match="--reason"):
        disable_account(session, "t01.cadre", "  ", "admin1", START)
    assert disable_account(session, "t01.cadre", "调离", "admin1", START) == 1
    assert live_session_count(session, "t01.cadre") == 0
    assert session.scalar(select(Account.api_token_hash).join(Account.person)) is None
    assert authenticate(session, "t01.cadre", "wrong password") is None  # a stranger learns nothing
    with pytest.raises(AccountDisabled):
        authenticate(session, "t01.cadre", "first-secret-1")
    with pytest.raises(AccountError, match="disabled"):
        issue_api_token(session, "t01.cadre")
    with pytest.raises(AccountError, match="already disabled"):
        disable_account(session, "t01.cadre", "again", "admin1", START)
    assert [r.username for r in account_rows(session, find_scope(session), disabled_only=True)] == ["t01.cadre"]
    enable_account(session, "t01.cadre", "admin2", START, "回原岗")
    assert authenticate(session, "t01.cadre", "first-secret-1").username == "t01.cadre"
    assert [(c.action, c.actor, c.reason) for c in changes_of(session, "t01.cadre")] == [
        ("disabled", "admin1", "调离"), ("enabled", "admin2", "回原岗")]
    with pytest.raises(AccountError, match="not disabled"):
        enable_account(session, "t01.cadre", "admin2", START)
    with pytest.raises(AccountError, match="has no account"):
        disable_account(session, "t02.cadre", "left", "admin1", START)


def test_hashing_on_several_processes_keeps_the_order(small_org) -> None:
    passwords = ["first-password", "second-password", "third-password"]
    hashes = hash_passwords(passwords, 2)
    assert [check_password_hash(h, p) for h, p in zip(hashes, passwords, strict=True)] == [True] * 3
    assert generate_password_hash("x").split("$")[0] == hashes[0].split("$")[0]
