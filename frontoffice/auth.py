"""Authentication: users, passwords, bearer tokens, browser sessions, role checks."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as browser_session
from flask_babel import gettext
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from frontoffice.db import detached, execute_fast, utcnow
from frontoffice.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
    field_error,
)
from frontoffice.models import ApiToken, Role, User, UserBranch
from frontoffice.passwords import MAX_LENGTH, MIN_DISTINCT, MIN_LENGTH, weakness
from frontoffice.passwords import MESSAGES as PASSWORD_MESSAGES
from frontoffice.settings import Settings

TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=5)
#: How passwords are hashed (werkzeug's default, scrypt).
HASH_METHOD = "scrypt"


# --- services -------------------------------------------------------------------------------


def hash_token(raw: str) -> str:
    """SHA-256 hex of a bearer token (tokens are long random strings, so no salt is needed)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    *,
    hash_method: str = HASH_METHOD,
    strength_checked: bool = True,
) -> User:
    """Create a user; the username must be new, the role known and the password strong enough
    (:mod:`frontoffice.passwords`). ``strength_checked=False`` only for the demo's published
    logins and test fixtures."""
    username = username.strip()
    errors = []
    if not username:
        errors.append(field_error("username", "The username must not be empty.", "username_empty"))
    if role not in {r.value for r in Role}:
        known = ", ".join(r.value for r in Role)
        errors.append(field_error("role", f"Unknown role {role!r}; known roles: {known}.", "unknown_role"))
    if strength_checked:
        errors += password_errors(password, username)
    elif not password:
        errors.append(field_error("password", "The password must not be empty.", "password_too_short"))
    if errors:
        raise InvalidInput(" ".join(e["message"] for e in errors), errors=errors)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        message = f"A user named {username!r} already exists."
        raise Conflict(message, errors=[field_error("username", message, "username_taken")])
    user = User(
        username=username,
        password_hash=generate_password_hash(password, method=hash_method),
        role=role,
        full_name=full_name.strip() or username,
    )
    session.add(user)
    session.flush()
    return user


def password_errors(password: str, username: str, field: str = "password") -> list[FieldError]:
    """The reason ``password`` is too weak for ``username``, as a field error (none when strong)."""
    found = weakness(password, username)
    if found is None:
        return []
    limits = {"min_length": MIN_LENGTH, "max_length": MAX_LENGTH, "min_distinct": MIN_DISTINCT}
    return [field_error(field, PASSWORD_MESSAGES[found], found.value, **limits)]


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password made like every user's: checked when there is no user to check,
    so an unknown or disabled username costs the same time as a known one."""
    return generate_password_hash(secrets.token_urlsafe(16), method=HASH_METHOD)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None.

    Every attempt runs one password-hash check of the same cost, whether the user exists, is
    disabled or not, so the answer's timing does not tell which usernames exist.
    """
    user = session.scalar(select(User).where(User.username == username.strip()))
    matches = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password)
    if user is None or not matches or not user.active:
        return None
    return user


def user_id_named(session: Session, username: str) -> int:
    """The id of the user called ``username``; 404 when there is none."""
    user_id = session.scalar(select(User.id).where(User.username == username.strip()))
    if user_id is None:
        message = f"There is no user named {username!r}."
        raise NotFound(message, errors=[field_error("username", message, "unknown_user")])
    return user_id


def end_sessions(session: Session, user_id: int) -> None:
    """End every browser session of a user: their session and remember-me cookies stop working."""
    session.execute(
        update(User).where(User.id == user_id).values(session_generation=User.session_generation + 1)
    )


def change_password(
    session: Session, user_id: int, password: str, *, must_change: bool = False, field: str = "password"
) -> None:
    """Give a user a new password (strong enough, see :mod:`frontoffice.passwords`) and end every
    browser session they have; ``must_change`` makes them choose another at their next login."""
    username = session.scalar(select(User.username).where(User.id == user_id))
    if username is None:
        raise NotFound(f"There is no user {user_id}.")
    errors = password_errors(password, username, field)
    if errors:
        raise InvalidInput(errors[0]["message"], errors=errors)
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(
            password_hash=generate_password_hash(password, method=HASH_METHOD),
            must_change_password=must_change,
        )
    )
    end_sessions(session, user_id)


def issue_token(session: Session, user: User, name: str = "", *, lifetime: dt.timedelta | None = None) -> str:
    """Create a bearer token for ``user`` that works for ``lifetime`` (None: until revoked); the
    raw token is returned once and never stored."""
    return new_token(session, user, name, lifetime=lifetime)[0]


def new_token(
    session: Session, user: User, name: str = "", *, lifetime: dt.timedelta | None = None
) -> tuple[str, ApiToken]:
    """:func:`issue_token`, with the stored token (its id and expiry)."""
    raw = secrets.token_urlsafe(32)
    expires_at = utcnow() + lifetime if lifetime is not None else None
    token = ApiToken(user_id=user.id, token_hash=hash_token(raw), name=name[:120], expires_at=expires_at)
    session.add(token)
    session.flush()
    return raw, token


def revoke_token(session: Session, raw: str) -> bool:
    """Revoke a token; True if it was live."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == hash_token(raw), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount == 1


def revoke_user_tokens(session: Session, user_id: int) -> int:
    """Revoke every live token of a user; how many were live."""
    return session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount


# Every API call runs this lookup: the statement is built once, its row read as plain columns.
_USER_COLUMNS = len(User.__table__.c)
_TOKEN_COLUMNS = len(ApiToken.__table__.c)
_TOKEN_OWNER = (
    select(*User.__table__.c, *ApiToken.__table__.c, UserBranch.branch_id)
    .join_from(User.__table__, ApiToken.__table__, User.id == ApiToken.user_id)
    .outerjoin(UserBranch, UserBranch.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def find_token_and_branches(
    session: Session | Connection, raw: str
) -> tuple[User, ApiToken, frozenset[int]] | None:
    """The token with this raw value, its user (both detached, as a closed read session leaves
    them) and the ids of the branches the user is linked to, in one read; None when there is none."""
    rows = execute_fast(session, _TOKEN_OWNER, {"token_hash": hash_token(raw)}).all()
    if not rows:
        return None
    row = rows[0]
    user = detached(User, row[:_USER_COLUMNS])
    token = detached(ApiToken, row[_USER_COLUMNS : _USER_COLUMNS + _TOKEN_COLUMNS])
    return user, token, frozenset(r[-1] for r in rows if r[-1] is not None)


def find_token(session: Session | Connection, raw: str) -> tuple[User, ApiToken] | None:
    """The token with this raw value and its user (detached), live or not, or None when there is none."""
    found = find_token_and_branches(session, raw)
    return (found[0], found[1]) if found is not None else None


def token_refusal(user: User, token: ApiToken, now: dt.datetime) -> str | None:
    """Why a found token may not be used now (revoked, its user disabled, expired), or None."""
    if token.revoked_at is not None:
        return "The bearer token was revoked; log in again."
    if not user.active:
        return "The bearer token belongs to a disabled user."
    if token.expires_at is not None and token.expires_at <= now:
        return (
            f"The bearer token expired at {token.expires_at.isoformat(timespec='seconds')}; "
            "log in again (the courier app refreshes its token before it expires)."
        )
    return None


def token_owner(session: Session, raw: str) -> tuple[User, ApiToken] | None:
    """The active user owning a live (unrevoked, unexpired) token, with the token, or None."""
    found = find_token(session, raw)
    if found is None or token_refusal(*found, utcnow()) is not None:
        return None
    return found


def touch_token(session: Session, token_id: int) -> None:
    """Record that a token was used just now."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))


# --- request-level principal -----------------------------------------------------------------


def bearer_token() -> str | None:
    """The raw bearer token of the current request, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def current_principal() -> User | None:
    """The user making this request: bearer token first, then the browser session."""
    if "principal" in g:
        return g.principal
    principal: User | None = None
    raw = bearer_token()
    if raw is not None:
        db = current_app.extensions["frontoffice"].db
        with db.read_connection() as s:
            owned = find_token_and_branches(s, raw)
        found = (owned[0], owned[1]) if owned is not None else None
        if owned is not None:
            # Most calls ask for the caller's branches next: they came in the same read.
            g.setdefault("branch_scopes", {})[owned[0].id] = scope_of(owned[0], owned[2])
        refusal = "The bearer token is unknown." if found is None else token_refusal(*found, utcnow())
        if refusal is not None:
            g.principal = None
            raise Unauthorized(refusal)
        assert found is not None
        principal, token = found
        g.api_token_id = token.id
        if token.last_used_at is None or utcnow() - token.last_used_at > TOKEN_TOUCH_INTERVAL:
            with db.unit_of_work() as w:
                touch_token(w, token.id)
    elif current_user.is_authenticated:
        principal = current_user._get_current_object()  # type: ignore[attr-defined]
    g.principal = principal
    return principal


def require_roles(roles: frozenset[str] | set[str] | tuple[str, ...]) -> User:
    """The current principal if it has one of ``roles``; 401 without one, 403 with the wrong role."""
    user = current_principal()
    if user is None:
        raise Unauthorized("Authentication is required: send a bearer token or log in.")
    if not user.has_role(*roles):
        raise Forbidden(f"This needs one of the roles: {', '.join(sorted(roles))}; you are {user.role}.")
    return user


# --- branch scope ------------------------------------------------------------------------------


_BRANCHES_OF = select(UserBranch.branch_id).where(UserBranch.user_id == bindparam("user_id"))


def branches_of(session: Session | Connection, user_id: int) -> frozenset[int]:
    """The ids of the branches a user is linked to (none: not limited to any)."""
    return frozenset(execute_fast(session, _BRANCHES_OF, {"user_id": user_id}).scalars())


def scope_of(user: User, linked: frozenset[int]) -> frozenset[int] | None:
    """The branches ``user`` sees and acts on, given the branches ``linked`` to them: None for every
    branch — an admin, a courier (whose courier profile names its branches) and staff linked to no
    branch (made before branches were linked, or by ``create-user``)."""
    if user.role in (Role.ADMIN, Role.COURIER) or not linked:
        return None
    return linked


def branch_scope(user: User | None = None) -> frozenset[int] | None:
    """The branches the current principal (or ``user``) sees and acts on, None for every branch
    (see :func:`scope_of`); looked up once per request.

    Branch-specific endpoints filter lists by it and answer 404 for a record of another branch.
    """
    user = user if user is not None else current_principal()
    if user is None:
        return frozenset()
    if user.role in (Role.ADMIN, Role.COURIER):
        return None  # whatever they are linked to (scope_of): no need to look
    cache: dict[int, frozenset[int] | None] = g.setdefault("branch_scopes", {})
    if user.id not in cache:
        with current_app.extensions["frontoffice"].db.reading() as s:
            cache[user.id] = scope_of(user, branches_of(s, user.id))
    return cache[user.id]


def in_scope(scope: frozenset[int] | None, branch_id: int | None) -> bool:
    """True when a record of ``branch_id`` is within ``scope`` (None: every branch)."""
    return scope is None or branch_id in scope


def scoped_branch(scope: frozenset[int] | None, requested: int | None) -> int | None:
    """The branch a view of one branch — or of every branch, None — shows to a caller of ``scope``:
    ``requested`` when it is within the scope; for staff of some branches asking for every branch,
    the first of theirs (views of one branch have no "some branches"). Raises :class:`NotFound` for
    a branch outside the scope, as for a record of another branch."""
    if scope is None or requested in scope:
        return requested
    if requested is None:
        return min(scope)
    raise NotFound(f"No branch {requested} among the branches you work for.")


# --- browser pages ---------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


def page(roles: Iterable[str]) -> Callable[[F], F]:
    """Declare a browser page and the roles that may open it (the page twin of ``endpoint``).

    Anonymous visitors are sent to the login page; a logged-in user without one of ``roles``
    gets a readable 403 page. The roles are kept on the view as ``page_roles`` for the
    role-matrix test.
    """
    allowed = frozenset(str(r) for r in roles)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*allowed):
                raise Forbidden(
                    gettext("This page is for the roles: %(roles)s.", roles=", ".join(sorted(allowed)))
                )
            return view(*args, **kwargs)

        wrapped = login_required(guarded)
        wrapped.page_roles = allowed  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


bp = Blueprint("auth", __name__)
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """The user of a session or remember-me cookie (``User.get_id``), if that cookie is still live:
    an older generation (the user logged out or changed the password since) is no one."""
    user_id, _, generation = session_id.partition(":")
    if not (user_id.isdigit() and generation.isdigit()):
        return None
    db = current_app.extensions["frontoffice"].db
    with db.reading() as s:
        user = s.get(User, int(user_id))
    if user is None or not user.active or user.session_generation != int(generation):
        return None
    return user


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (where to go after a form), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return None
    # Browsers read /\host as //host and drop tabs and newlines: either would leave the site.
    if "\\" in target or any(ord(c) < 0x20 for c in target) or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in page for staff."""
    error = None
    if request.method == "POST":
        db = current_app.extensions["frontoffice"].db
        with db.reading() as s:
            user = authenticate(s, request.form.get("username", ""), request.form.get("password", ""))
        if user is None:
            error = "Unknown username or wrong password."
        elif user.role == Role.COURIER:
            error = "Couriers sign in through the courier app, not here."
        else:
            # The session cookie lasts session_lifetime_h (signed with its time: an older one is void).
            browser_session.permanent = True
            login_user(user, remember=bool(request.form.get("remember")))
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    return render_template("login.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out — ending every browser session of this user — and go back to the login page."""
    if current_user.is_authenticated:
        with current_app.extensions["frontoffice"].db.unit_of_work() as s:
            end_sessions(s, current_user.id)
    logout_user()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))


def init_auth(app: Flask, settings: Settings) -> None:
    """Wire Flask-Login, CSRF (for cookie sessions only; bearer calls are exempt), the cookies'
    attributes and the pages."""
    cookies = {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.cookies_secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": settings.cookies_secure,
        "PERMANENT_SESSION_LIFETIME": settings.session_lifetime,
        "REMEMBER_COOKIE_DURATION": dt.timedelta(days=settings.remember_days),
    }
    overridden = {key.upper() for key in settings.extra}
    app.config.update({k: v for k, v in cookies.items() if k not in overridden})
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    login_manager.init_app(app)
    app.register_blueprint(bp)

    @app.before_request
    def _csrf_for_cookie_sessions():
        if request.method in {"GET", "HEAD", "OPTIONS", "TRACE"}:
            return None
        if bearer_token() is not None:
            return None
        if request.path.startswith("/api/") and not current_user.is_authenticated:
            return None  # no cookie session to ride on: the endpoint itself answers 401
        view = app.view_functions.get(request.endpoint or "")
        if view is not None and getattr(view, "csrf_exempt", False):
            return None
        csrf.protect()
        return None


def csrf_exempt(view):
    """Mark a view that authenticates without cookies (device ids, bearer tokens only)."""
    view.csrf_exempt = True
    return view
