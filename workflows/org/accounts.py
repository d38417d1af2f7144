"""Staff accounts: a login for a person, with a hashed password and an optional hashed API token.

Passwords are hashed with werkzeug.security (scrypt); API tokens are random and stored as SHA-256 digests, so
neither can be read back from the database. The demo accounts give one person per role of the demo county a
known password, so that a demo can be walked through every route.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, false, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from engine.db import Base
from workflows import DomainError
from workflows.cases.routing import RoutingError, choose_handling_unit, load_routing_rules, responsible_leader
from workflows.org.login_sessions import end_sessions_of
from workflows.org.models import OrgUnit, Person, Position, RotaEntry
from workflows.org.roles import BY_CODE, FOUR_TEAMS
from workflows.org.throttle import check_allowed, forget_failures, record_failure, throttle_key
from workflows.org.tree import UnknownPerson, get_person, holders

DEMO_PASSWORD = "xupu-demo-2022"
MIN_PASSWORD_LENGTH = 8
# Failed logins allowed before the back-off starts: per address (an office may share one), per account.
ADDRESS_FREE_TRIES, ACCOUNT_FREE_TRIES = 10, 5
# Checked when a username has no account, so that a wrong username takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("no such account, only here to spend the same time")


class AccountError(DomainError):
    """An account cannot be created or changed as asked."""


class AccountDisabled(AccountError):
    """The right password of an account an operator has disabled (`account_admin.disable_account`)."""

    def __init__(self) -> None:
        super().__init__("此账号已停用，请联系系统管理员")


class PasswordChangeNeeded(AccountError):
    """The account still has the password an operator gave it: its owner must choose their own first."""

    def __init__(self) -> None:
        super().__init__("请先登录网页（/account/password）修改初始密码，然后再申请 API 令牌")


class Account(Base):
    """The login of one person."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    # Set by an operator's password (`account create`, `account password`); its owner's own change clears it.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    disabled_at: Mapped[datetime | None]  # business time; None while the account may log in

    person: Mapped[Person] = relationship()


def set_password(session: Session, username: str, password: str, now: datetime,
                 by_operator: bool = False) -> Account:
    """Create the account of `username`, or change its password, ending its sessions (the caller commits).

    A password set `by_operator` is known to someone else: its owner must change it at the next login, and the
    account's API token ends with it. The owner's own change clears that mark.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    account = _store_hash(session, username, generate_password_hash(password), now)
    account.must_change_password = by_operator
    if by_operator:
        account.api_token_hash = None
    end_sessions_of(session, account.person.username)  # a cookie from before the change opens nothing
    return account


def person_and_account(session: Session, username: str) -> tuple[Person, Account | None]:
    """The person `username` (AccountError when there is none) and their account, if they have one."""
    try:
        person = get_person(session, username)
    except UnknownPerson as exc:
        raise AccountError(str(exc)) from exc
    return person, session.scalar(select(Account).where(Account.person_id == person.id))


def _store_hash(session: Session, username: str, password_hash: str, now: datetime) -> Account:
    person, account = person_and_account(session, username)
    if account is None:
        account = Account(person=person, password_hash=password_hash, created_at=now)
        session.add(account)
    else:
        account.password_hash = password_hash
    session.flush()
    return account


def authenticate(session: Session, username: str, password: str) -> Person | None:
    """Return the person when `password` is theirs, else None (same work for unknown names).

    Raises AccountDisabled for the right password of a disabled account: only who knows the password learns that
    the account is disabled; a wrong password gets the same None as ever.
    """
    account = _checked_account(session, username, password)
    return None if account is None else account.person


def _checked_account(session: Session, username: str, password: str) -> Account | None:
    account = session.scalar(select(Account).join(Person).where(Person.username == username.strip()))
    if account is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(account.password_hash, password):
        return None
    if account.disabled_at is not None:
        raise AccountDisabled()
    return account


def log_in_checked(session: Session, username: str, password: str, client: str, now: datetime) -> Account | None:
    """Authenticate as `authenticate` does, slowing down an address or an account that failed lately; return the
    account (whose `must_change_password` the caller honours).

    Raises TooManyAttempts while either must wait (see `workflows.org.throttle`); a failure is counted under both
    (the caller commits it even when it answers 401); a success forgets the account's failures.
    """
    keys = {throttle_key("login-addr", client): ADDRESS_FREE_TRIES,
            throttle_key("login-account", username.strip().lower()): ACCOUNT_FREE_TRIES}
    check_allowed(session, keys, now, "登录")
    account = _checked_account(session, username, password) if username and password else None
    if account is None:
        record_failure(session, keys, now)
    else:
        forget_failures(session, throttle_key("login-account", username.strip().lower()))
    return account


def issue_api_token(session: Session, username: str) -> str:
    """Give the account of `username` a new API token and return it; only its digest is stored."""
    account = session.scalar(select(Account).join(Person).where(Person.username == username))
    if account is None:
        raise AccountError(f"{username} has no account: set a password first")
    if account.disabled_at is not None:
        raise AccountError(f"{username}: the account is disabled (doorstep account enable {username})")
    token = secrets.token_urlsafe(32)
    account.api_token_hash = _token_digest(token)
    session.flush()
    return token


def authenticate_token(session: Session, token: str) -> Person | None:
    """Return the person whose API token this is, else None."""
    if not token:
        return None
    digest = _token_digest(token)
    account = session.scalar(select(Account).where(Account.api_token_hash == digest))
    if account is None or account.api_token_hash is None or not hmac.compare_digest(account.api_token_hash, digest):
        return None
    return account.person


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class DemoAccount:
    """A demo login: who, in which role and where, and the password."""

    username: str
    display_name: str
    role: str
    role_name: str
    place: str
    password: str
    note: str = ""


# The claim category the demo route uses: its leader and handling unit get the demo accounts.
DEMO_CATEGORY = "social_security"


def ensure_demo_accounts(session: Session, day: date, now: datetime,
                         password: str = DEMO_PASSWORD) -> list[DemoAccount]:
    """Give one person per role a known password; the duty secretary is the one on duty on `day` (or after).
    Everyone on the rota gets the same password, so the desk of any later day can be walked through too.

    The people are chosen from the stored org: the first township with a rota entry on `day` is the demo
    township; its leader for social security claims and the unit that handles them take part in the demo route.
    """
    picks: list[tuple[str, Person, str, str]] = []  # role, person, place, note
    # On a day without duty (a weekend), the secretary of the next workday with a rota.
    entry = session.scalar(select(RotaEntry).join(OrgUnit, OrgUnit.id == RotaEntry.township_id)
                           .where(RotaEntry.day >= day).order_by(RotaEntry.day, OrgUnit.code).limit(1))
    if entry is None:
        raise AccountError(f"nobody is on duty on or after {day}: generate the rota before the demo accounts")
    town = entry.township
    picks.append(("duty_secretary", entry.secretary, town.name, f" {entry.day} 在{town.name}接访室坐班"))
    picks.append(("township_cadre", entry.cadre, town.name, f" {entry.day} 在{town.name}接访室值班"))
    rules = load_routing_rules()
    category = rules.category(DEMO_CATEGORY)
    try:
        leader = responsible_leader(session, rules, town.code, category.code)
        picks.append(("responsible_leader", leader, town.name, f" 督办{category.name}等事项"))
    except RoutingError:
        _add_first(session, picks, "responsible_leader", town)
    handling_unit: OrgUnit | None = None
    try:
        handling_unit = choose_handling_unit(session, rules, category.code, town.code)
        handler = holders(session, "handling_unit", handling_unit)
        if handler:
            picks.append(("handling_unit", handler[0], handling_unit.name, f" 承办{category.name}事项"))
    except RoutingError:
        pass
    if not any(role == "handling_unit" for role, *_ in picks):
        _add_first(session, picks, "handling_unit", None)
    # The head who approves an extension is the head of the demo handling unit, where it has one.
    _add_first(session, picks, "agency_head", handling_unit)
    if not any(role == "agency_head" for role, *_ in picks):
        _add_first(session, picks, "agency_head", None)
    for role in ("county_bureau", "case_leader", "auditor", "designer", "review_body", "reexam_body", "discipline"):
        _add_first(session, picks, role, None)
    for role in ("grid_worker", "village_cadre", *FOUR_TEAMS[:3]):
        _add_first(session, picks, role, town, avoid={p.id for _, p, *_ in picks})
    # The gold mediation room and the legal adviser sit in the demo village (the village cadre's).
    cadre = next((person for role, person, *_ in picks if role == "village_cadre"), None)
    village = town if cadre is None else session.scalar(
        select(OrgUnit).join(Position, Position.org_unit_id == OrgUnit.id)
        .where(Position.person_id == cadre.id, Position.role == "village_cadre").limit(1))
    for role in ("mediation_panel", "legal_adviser"):
        _add_first(session, picks, role, village, avoid={p.id for _, p, *_ in picks})
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    shared_hash = generate_password_hash(password)  # one public demo password: hashed once, not per person
    accounts = []
    # Everyone on the rota can log in too: from the second day on, another secretary sits in the room.
    _store_hashes(session, _rota_people(session), shared_hash, now)
    for role, person, place, note in picks:
        _store_hash(session, person.username, shared_hash, now)
        accounts.append(DemoAccount(person.username, person.display_name, role, BY_CODE[role].name, place,
                                    password, note))
    return accounts


def rota_usernames(session: Session) -> list[str]:
    """The user names of every duty secretary and reception cadre on the rota."""
    return sorted(person.username for person in _rota_people(session))


def _rota_people(session: Session) -> list[Person]:
    on_rota = select(RotaEntry.secretary_id).union(select(RotaEntry.cadre_id))
    return list(session.scalars(select(Person).where(Person.id.in_(on_rota))))


def _store_hashes(session: Session, people: list[Person], password_hash: str, now: datetime) -> None:
    """Give many people the same (hashed) password at once."""
    ids = [person.id for person in people]
    existing = {a.person_id: a for a in session.scalars(select(Account).where(Account.person_id.in_(ids)))}
    for person in people:
        if person.id in existing:
            existing[person.id].password_hash = password_hash
        else:
            session.add(Account(person=person, password_hash=password_hash, created_at=now))
    session.flush()


def _add_first(session: Session, picks: list[tuple[str, Person, str, str]], role: str, within: OrgUnit | None,
               avoid: set[int] | None = None) -> None:
    """Add the first holder of `role` (inside `within`, if given), preferring people not picked yet."""
    query = (select(Person, OrgUnit).join(Position, Position.person_id == Person.id)
             .join(OrgUnit, OrgUnit.id == Position.org_unit_id).where(Position.role == role))
    if within is not None:
        query = query.where(OrgUnit.path.startswith(within.path, autoescape=True))
    rows = session.execute(query.order_by(OrgUnit.path, Person.username).limit(20)).all()
    rows = sorted(rows, key=lambda row: row[0].id in (avoid or set()))
    if rows:
        person, unit = rows[0]
        picks.append((role, person, unit.name, ""))
