"""Accounts in bulk, for operators: a login with a random initial password for everyone of a township, a unit or
the county who has none; disabling and enabling a login (recorded: who, when, why); the list of who may log in.

An initial password is known to the operator who hands it out, so its account must change it at the first login
(`Account.must_change_password`). Hashing stays werkzeug's scrypt, as for every password: it is slow on purpose
(tenths of a second a password), so many passwords are hashed in parallel processes and the caller is told how
far it got.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Select, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import generate_password_hash

from engine.db import Base
from workflows.org.accounts import Account, AccountError, person_and_account
from workflows.org.login_sessions import end_sessions_of
from workflows.org.models import OrgUnit, Person, Position
from workflows.org.tree import UnknownUnit, chunks, find_unit

# No 0/O/o, 1/l/I: an initial password is read off a sheet of paper and typed.
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
INITIAL_PASSWORD_LENGTH = 12
MAX_REASON_LENGTH = 500


class AccountChange(Base):
    """One operator's change of an account (created with an initial password, disabled, enabled): who, when, why."""

    __tablename__ = "account_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]  # business time
    actor: Mapped[str] = mapped_column(String(120))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(MAX_REASON_LENGTH))

    person: Mapped[Person] = relationship()


@dataclass(frozen=True)
class Scope:
    """Whose accounts: the people with a position in a unit or below it, or (unit None) everyone."""

    unit: OrgUnit | None

    @property
    def label(self) -> str:
        return "全县" if self.unit is None else f"{self.unit.name}（{self.unit.code}）"


def find_scope(session: Session, township: str | None = None, unit: str | None = None) -> Scope:
    """The scope named by a township (code or name) or a unit code; everyone when neither is given."""
    try:
        if township:
            return Scope(find_unit(session, township, level="township"))
        if unit:
            return Scope(find_unit(session, unit))
    except UnknownUnit as exc:
        raise AccountError(str(exc)) from exc
    return Scope(None)


@dataclass(frozen=True)
class InitialLogin:
    """A new account's user name, who it is, where they work, and the initial password to hand them."""

    username: str
    display_name: str
    units: str
    password: str


def people_without_account(session: Session, scope: Scope, usernames: Sequence[str] | None = None) -> list[Person]:
    """Everyone in `scope` (and among `usernames`, if given) who has no account yet, by user name."""
    query = select(Person).where(~select(Account.id).where(Account.person_id == Person.id).exists())
    if usernames is not None:
        query = query.where(Person.username.in_(usernames))
    if scope.unit is not None:
        query = query.where(Person.id.in_(_people_in(scope.unit)))
    return list(session.scalars(query.order_by(Person.username)))


def _people_in(unit: OrgUnit) -> Select[int]:
    return (select(Position.person_id).join(OrgUnit, OrgUnit.id == Position.org_unit_id)
            .where(OrgUnit.path.startswith(unit.path, autoescape=True)))


def unit_names(session: Session, people: Sequence[Person]) -> dict[int, str]:
    """Each person's units, '、'-joined (in the order of their positions)."""
    found: dict[int, list[str]] = {}
    for chunk in chunks([person.id for person in people]):
        rows = session.execute(select(Position.person_id, OrgUnit.name)
                               .join(OrgUnit, OrgUnit.id == Position.org_unit_id)
                               .where(Position.person_id.in_(chunk)).order_by(Position.id))
        for person_id, name in rows:
            names = found.setdefault(person_id, [])
            if name not in names:
                names.append(name)
    return {person_id: "、".join(names) for person_id, names in found.items()}


def initial_password() -> str:
    """A random password of `INITIAL_PASSWORD_LENGTH` characters without look-alikes (≈ 70 bits)."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(INITIAL_PASSWORD_LENGTH))


def hash_passwords(passwords: Sequence[str], jobs: int, progress: Callable[[int], None] | None = None) -> list[str]:
    """The scrypt hashes (werkzeug's default, as `set_password`) of `passwords`, in order, on `jobs` processes;
    `progress(done)` is called as they come."""
    if jobs <= 1 or len(passwords) < 2:
        hashes = []
        for password in passwords:
            hashes.append(generate_password_hash(password))
            if progress:
                progress(len(hashes))
        return hashes
    hashes = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for hashed in pool.map(generate_password_hash, passwords, chunksize=8):
            hashes.append(hashed)
            if progress and len(hashes) % 50 == 0:
                progress(len(hashes))
    if progress:
        progress(len(hashes))
    return hashes


def create_accounts(session: Session, people: Sequence[Person], passwords: Sequence[str], hashes: Sequence[str],
                    actor: str, now: datetime) -> list[InitialLogin]:
    """Give each person an account with the given password (and its hash), to be changed at the first login;
    return what to hand out (the caller commits)."""
    units = unit_names(session, people)
    logins = []
    for person, password, hashed in zip(people, passwords, hashes, strict=True):
        session.add(Account(person=person, password_hash=hashed, created_at=now, must_change_password=True))
        session.add(AccountChange(at=now, actor=actor, person=person, action="created", reason=""))
        logins.append(InitialLogin(person.username, person.display_name, units.get(person.id, ""), password))
    session.flush()
    return logins


def disable_account(session: Session, username: str, reason: str, actor: str, now: datetime) -> int:
    """Stop `username` from logging in: its sessions end and its API token is dropped; return how many sessions
    ended (the caller commits). Other web workers may serve a token they remember for a few seconds more
    (`web.viewer_cache.TTL`)."""
    if not reason.strip():
        raise AccountError("--reason: say why the account is disabled")
    account = _account(session, username)
    if account.disabled_at is not None:
        raise AccountError(f"{username}: the account is already disabled")
    account.disabled_at = now
    account.api_token_hash = None
    _record(session, account, "disabled", reason, actor, now)
    return end_sessions_of(session, account.person.username)


def enable_account(session: Session, username: str, actor: str, now: datetime, reason: str = "") -> None:
    """Let `username` log in again with its password (a new API token must be asked for; the caller commits)."""
    account = _account(session, username)
    if account.disabled_at is None:
        raise AccountError(f"{username}: the account is not disabled")
    account.disabled_at = None
    _record(session, account, "enabled", reason, actor, now)


def _account(session: Session, username: str) -> Account:
    _, account = person_and_account(session, username)
    if account is None:
        raise AccountError(f"{username} has no account")
    return account


def _record(session: Session, account: Account, action: str, reason: str, actor: str, now: datetime) -> None:
    if len(reason) > MAX_REASON_LENGTH:
        raise AccountError(f"--reason: at most {MAX_REASON_LENGTH} characters")
    session.add(AccountChange(at=now, actor=actor, person=account.person, action=action, reason=reason.strip()))
    session.flush()


@dataclass(frozen=True)
class AccountRow:
    """One person as the account list shows them."""

    username: str
    display_name: str
    has_account: bool
    must_change: bool
    disabled: bool


def account_rows(session: Session, scope: Scope, disabled_only: bool = False) -> list[AccountRow]:
    """Everyone in `scope` with the standing of their login, by user name."""
    query = (select(Person.username, Person.display_name, Account.id, Account.must_change_password,
                    Account.disabled_at).outerjoin(Account, Account.person_id == Person.id))
    if scope.unit is not None:
        query = query.where(Person.id.in_(_people_in(scope.unit)))
    if disabled_only:
        query = query.where(Account.disabled_at.is_not(None))
    rows = session.execute(query.order_by(Person.username))
    return [AccountRow(username, name, account_id is not None, bool(must_change), disabled_at is not None)
            for username, name, account_id, must_change, disabled_at in rows]


def changes_of(session: Session, username: str) -> list[AccountChange]:
    """The recorded changes of `username`'s account, oldest first."""
    return list(session.scalars(select(AccountChange).join(Person).where(Person.username == username)
                                .order_by(AccountChange.id)))
