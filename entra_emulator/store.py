"""In-memory, thread-safe state: authorization codes, access tokens and sign-in sessions."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import Enum


@dataclass
class AuthCode:
    """What an authorization code is bound to."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    oid: str
    scope: str
    sid: str
    nonce: str | None
    acrs: tuple[str, ...]
    expires_at: float
    redeemed: bool = False
    access_token: str | None = None


@dataclass(frozen=True)
class AccessGrant:
    """An opaque access token: for a user (code flow) or for the app (client credentials)."""

    client_id: str
    expires_at: float
    oid: str | None = None  # None: an application token

    @property
    def is_app(self) -> bool:
        return self.oid is None


@dataclass
class Session:
    """An emulator sign-in session (the browser's cookie names its ``sid``)."""

    sid: str
    oid: str
    apps: list[str] = field(default_factory=list)  # redirect URIs it signed in to


class CodeState(Enum):
    UNKNOWN = "unknown"  # never issued, or expired and forgotten
    EXPIRED = "expired"
    REDEEMED = "redeemed"
    VALID = "valid"


@dataclass
class Store:
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _codes: dict[str, AuthCode] = field(default_factory=dict)
    _tokens: dict[str, AccessGrant] = field(default_factory=dict)
    _sessions: dict[str, Session] = field(default_factory=dict)

    # --- authorization codes -------------------------------------------------------------
    def add_code(self, code: str, record: AuthCode, now: float) -> None:
        with self._lock:
            self._forget_expired(now)
            self._codes[code] = record

    def look_up_code(self, code: str, now: float) -> tuple[CodeState, AuthCode | None]:
        with self._lock:
            record = self._codes.get(code)
            if record is None:
                return CodeState.UNKNOWN, None
            if record.redeemed:
                return CodeState.REDEEMED, record
            if now >= record.expires_at:
                return CodeState.EXPIRED, record
            return CodeState.VALID, record

    def redeem_code(self, code: str, token: str, grant: AccessGrant, now: float) -> bool:
        """Mark the code used and record the access token issued for it, atomically.

        False if another request redeemed the code first (nothing is recorded then).
        """
        with self._lock:
            record = self._codes.get(code)
            if record is None or record.redeemed:
                return False
            record.redeemed = True
            record.access_token = token
            self._forget_expired(now)
            self._tokens[token] = grant
            return True

    def revoke_tokens_of(self, record: AuthCode) -> None:
        """On a replayed code, revoke what the first redemption issued (RFC 6749 4.1.2)."""
        with self._lock:
            if record.access_token:
                self._tokens.pop(record.access_token, None)

    # --- access tokens -------------------------------------------------------------------
    def add_token(self, token: str, grant: AccessGrant, now: float) -> None:
        with self._lock:
            self._forget_expired(now)
            self._tokens[token] = grant

    def look_up_token(self, token: str, now: float) -> AccessGrant | None:
        with self._lock:
            grant = self._tokens.get(token)
        if grant is None or now >= grant.expires_at:
            return None
        return grant

    # --- sign-in sessions ----------------------------------------------------------------
    def session_person(self, sid: str | None) -> str | None:
        if not sid:
            return None
        with self._lock:
            session = self._sessions.get(sid)
            return session.oid if session else None

    def start_session(self, sid: str, oid: str) -> None:
        with self._lock:
            self._sessions[sid] = Session(sid, oid)

    def note_app(self, sid: str, redirect_uri: str) -> None:
        """Remember that the session signed in to the app at ``redirect_uri``."""
        with self._lock:
            session = self._sessions.get(sid)
            if session is not None and redirect_uri not in session.apps:
                session.apps.append(redirect_uri)

    def end_session(self, sid: str | None) -> Session | None:
        """End one session; the ended session, or None if there was none."""
        if not sid:
            return None
        with self._lock:
            return self._sessions.pop(sid, None)

    def sessions_of(self, oid: str) -> list[Session]:
        with self._lock:
            return [s for s in self._sessions.values() if s.oid.lower() == oid.lower()]

    def end_sessions_of(self, oid: str) -> list[Session]:
        """End every session of the person; the ended sessions."""
        with self._lock:
            ended = [s for s in self._sessions.values() if s.oid.lower() == oid.lower()]
            for session in ended:
                del self._sessions[session.sid]
            return ended

    def _forget_expired(self, now: float) -> None:
        # Caller holds the lock. Codes are kept until expiry so a replay still reports 54005.
        for code in [c for c, r in self._codes.items() if now >= r.expires_at]:
            del self._codes[code]
        for token in [t for t, g in self._tokens.items() if now >= g.expires_at]:
            del self._tokens[token]
