"""Web desk accounts (the `users` table) and the audit trail of web writes (`audit_log`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import sqlite3
import unicodedata
from dataclasses import dataclass

import sqlite_utils

from dunning.archive.db import write_transaction
from dunning.errors import DunningError, NotFoundError
from dunning.vocabulary import ROLE_TITLES as ROLE_TITLES  # re-exported for the pages
from dunning.vocabulary import ROLES as ROLES
from dunning.vocabulary import choices
from dunning.workflow.actions import record_audit_line

RESERVED_NAME = "本机"  # who acts on a desk without accounts (guard.LOCAL_USER)
# scrypt cost: 2**14 x 8 x 128 bytes = 16 MiB of memory per check, about 50 ms here.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 8
_NAME = re.compile(r"[\w.@-]{1,40}")
_DUMMY_SALT = secrets.token_bytes(16)


# Letters that look like Latin ones (Unicode's confusables.txt, the part that matters for
# account names typed on Chinese and Western keyboards): Cyrillic, Greek, and digits.
_LOOKALIKE = str.maketrans(
    {
        **dict(zip("аеорсухіјѕԁһӏԛԝвкмнтгьзѵ", "aeopcyxljsdhlqwbkmhtrb3v", strict=True)),
        **dict(zip("αβεικνορτυχγωζη", "abelkvoptuxywzn", strict=True)),
        # I (capital i, lower-cased to i) and l are one stroke in most sans-serif fonts.
        "i": "l", "0": "o", "1": "l", "|": "l", "ı": "l", "ɡ": "g", "ℓ": "l", "_": "-",
        ".": "-",
    }
)  # fmt: skip
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def normalise_name(name: str) -> str:
    """How an account name is stored and looked up: NFKC (full-width ｃａｒｌ is carl), lower."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def skeleton(name: str) -> str:
    """What a name looks like: two names with one skeleton are confusable (carl, саrl, cari1)."""
    return normalise_name(name).translate(_LOOKALIKE).replace("rn", "m").replace("vv", "w")


def _mixed_scripts(name: str) -> bool:
    found = {
        script
        for ch in name
        if ch.isalpha()
        for script in _SCRIPTS
        if unicodedata.name(ch, "").startswith(script)
    }
    return len(found) > 1


class UserError(DunningError):
    """An account cannot be added or changed as asked."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    created_at: str
    updated_at: str

    def to_json(self) -> dict[str, str]:
        """As `user list --json` prints it (never the password hash)."""
        return {"name": self.name, "role": self.role, "created_at": self.created_at}

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _hash(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32
    )


def _refuse_invisible(given: str) -> None:
    if any(unicodedata.category(ch) in ("Cf", "Cc", "Co", "Cs", "Zl", "Zp") for ch in given):
        raise UserError(f"用户名 {given!r} 含有看不见的字符或控制字符：请重新手工输入。")


def _check_name(db: sqlite_utils.Database | sqlite3.Connection, given: str) -> str:
    """The stored form of a new account name, refused when it could pass for another one."""
    _refuse_invisible(given)
    name = normalise_name(given)
    _check_new(name, ROLES[0], "x" * MIN_PASSWORD)
    for (other,) in db.execute("SELECT name FROM users").fetchall():
        if normalise_name(other) == name:
            raise UserError(
                f"用户 {other!r} 已经存在：要改密码请用 `dunning user passwd {other}`。"
            )
        if skeleton(other) == skeleton(name):
            raise UserError(
                f"用户名 {given!r} 与已有账户 {other!r} 看起来一样：操作记录里分不清两人，"
                "请换一个明显不同的名字。"
            )
    if _mixed_scripts(name):
        raise UserError(f"用户名 {given!r} 混用了拉丁字母与西里尔或希腊字母：请只用一种。")
    return name


def _check_new(name: str, role: str, password: str) -> None:
    if not _NAME.fullmatch(name):
        raise UserError(
            f"用户名 {name!r} 不可用：请用 1 到 40 个字母、数字或 . _ @ -（不能有空格）。"
        )
    if name == RESERVED_NAME:
        raise UserError(f"用户名 {name!r} 是操作记录里留给本机使用者的名字：请换一个。")
    if role not in ROLES:
        raise UserError(f"没有“{role}”这种角色：请用 {choices(ROLE_TITLES, ROLES)}。")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码至少要 {MIN_PASSWORD} 个字符：请换一个更长的密码。")


def add_user(db: sqlite_utils.Database, name: str, role: str, password: str) -> User:
    """A new account; its name is stored NFKC-normalised and lower-cased, and refused when it
    could be taken for an existing one."""
    _refuse_invisible(name)
    _check_new(normalise_name(name), role, password)
    salt, now = secrets.token_bytes(16), _now()
    digest = _hash(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    with write_transaction(db) as conn:
        name = _check_name(conn, name)
        conn.execute(
            "INSERT INTO users (name, role, salt, scrypt_n, scrypt_r, scrypt_p, password_hash,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [name, role, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, digest, now, now],
        )
    return User(name, role, now, now)


def set_password(db: sqlite_utils.Database, name: str, password: str) -> None:
    name = get_user(db, name).name
    _check_new(name, ROLES[0], password)
    salt = secrets.token_bytes(16)
    digest = _hash(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    with write_transaction(db) as conn:
        conn.execute(
            "UPDATE users SET salt = ?, scrypt_n = ?, scrypt_r = ?, scrypt_p = ?,"
            " password_hash = ?, updated_at = ? WHERE name = ?",
            [salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, digest, _now(), name],
        )


def remove_user(db: sqlite_utils.Database, name: str) -> None:
    name = get_user(db, name).name
    with write_transaction(db) as conn:
        conn.execute("DELETE FROM users WHERE name = ?", [name])


def list_users(db: sqlite_utils.Database) -> list[User]:
    rows = db.execute("SELECT name, role, created_at, updated_at FROM users ORDER BY name")
    return [User(*r) for r in rows.fetchall()]


def get_user(db: sqlite_utils.Database, name: str) -> User:
    row = (
        db.execute(
            "SELECT name, role, created_at, updated_at FROM users WHERE name = ?", [name]
        ).fetchone()
        or db.execute(
            "SELECT name, role, created_at, updated_at FROM users WHERE name = ?",
            [normalise_name(name)],
        ).fetchone()
    )
    if row is None:
        raise NotFoundError(f"没有用户 {name!r}：用 `dunning user list` 查看所有账户。")
    return User(*row)


def has_users(db: sqlite_utils.Database) -> bool:
    return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None


def authenticate(db: sqlite_utils.Database, name: str, password: str) -> User | None:
    """The user when the password is right, else None (same work either way)."""
    found = db.execute(
        "SELECT name FROM users WHERE name = ? UNION ALL SELECT name FROM users WHERE name = ?",
        [name, normalise_name(name)],
    ).fetchone()
    name = found[0] if found else name
    row = db.execute(
        "SELECT salt, scrypt_n, scrypt_r, scrypt_p, password_hash FROM users WHERE name = ?",
        [name],
    ).fetchone()
    if row is None:
        # Spend the same time as a real check: response time must not tell which names exist.
        _hash(password, _DUMMY_SALT, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        return None
    salt, n, r, p, stored = row
    if not hmac.compare_digest(_hash(password, bytes(salt), n, r, p), bytes(stored)):
        return None
    return get_user(db, name)


def session_stamp(db: sqlite_utils.Database, name: str) -> str | None:
    """A fingerprint of the user's current password (salt and hash), kept in the session.

    A new password (`passwd`) or an account removed and added again changes it, and so ends
    every session opened before: a cookie left on a shared PC dies with the old password.
    """
    row = db.execute("SELECT salt, password_hash FROM users WHERE name = ?", [name]).fetchone()
    if row is None:
        return None
    return hashlib.sha256(bytes(row[0]) + bytes(row[1])).hexdigest()[:32]


def open_session(db: sqlite_utils.Database, name: str) -> str:
    """Record a new web session of `name`; its id goes into the signed cookie."""
    sid = secrets.token_urlsafe(24)
    with write_transaction(db) as conn:
        conn.execute(
            "INSERT INTO web_sessions (id, user, started_at) VALUES (?, ?, ?)", [sid, name, _now()]
        )
    return sid


def session_is_open(db: sqlite_utils.Database, sid: object, name: str) -> bool:
    """Whether the session `sid` of `name` was opened here and not ended (by logging out)."""
    if not isinstance(sid, str):
        return False
    row = db.execute(
        "SELECT 1 FROM web_sessions WHERE id = ? AND user = ? AND ended_at IS NULL", [sid, name]
    ).fetchone()
    return row is not None


def end_session(db: sqlite_utils.Database, sid: object) -> None:
    if isinstance(sid, str):
        with write_transaction(db) as conn:
            conn.execute(
                "UPDATE web_sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
                [_now(), sid],
            )


def audit(db: sqlite_utils.Database, user: str, action: str, detail: str) -> None:
    """Record one web write: who did what."""
    with write_transaction(db) as conn:
        record_audit_line(conn, user, action, detail)


def audit_entries(db: sqlite_utils.Database, limit: int = 50) -> list[tuple[str, str, str, str]]:
    rows = db.execute(
        "SELECT at, user, action, detail FROM audit_log ORDER BY id DESC LIMIT ?", [limit]
    ).fetchall()
    return [tuple(r) for r in rows]  # type: ignore[misc]
