"""Loading PKCS#11 modules, one initialised copy per (module file, configuration).

The constraint this module exists for: SoftHSM2 reads its configuration (the file named by
``SOFTHSM2_CONF``, which names the token directory) once, in ``C_Initialize``, and a shared
library is loaded once per process: ``dlopen`` of the same file returns the same library with
the same global state, and ``python-pkcs11`` additionally caches one ``pkcs11.lib`` per path.
So one loaded library can serve one token directory at a time.

How certhall lives with it (:func:`acquire`):

* A :class:`ModuleBinding` is one loaded library initialised with one configuration. Every
  :class:`~certhall.tokens.session.TokenSession` holds a reservation on its binding.
* A request for a configuration that a binding already has reuses that binding.
* Otherwise an idle binding (no reservations) is re-bound: ``SOFTHSM2_CONF`` is set for the
  duration of ``C_Finalize`` + ``C_Initialize`` (~0.1 ms) and restored afterwards. The server
  process uses only its instance's store, so this is the only case there.
* When every binding is busy (two token directories open at the same time, in tests), a private
  copy of the library file is loaded: ``dlopen`` of a different file gives an independent
  library. The copy is unlinked right after loading; copies stay loaded for reuse, so there are
  as many as the largest number of token directories in use at once.

Nothing else in the process may load the same module file through ``pkcs11.lib`` directly: a
re-bind would pull the configuration from under it. All PKCS#11 access goes through
:mod:`certhall.tokens`.

``C_Login`` and ``C_Logout`` are called through ``ctypes`` on the module's own function list,
because ``python-pkcs11`` only logs in inside ``Token.open`` and, when that login fails, leaves
the just-opened session behind with no handle to close it (a later SO login then fails with
``CKR_SESSION_READ_ONLY_EXISTS``). Calling them on a session certhall opened itself
(:func:`certhall.tokens.session.raw_session`) means the session is always closed. Linux only
(``CK_FUNCTION_LIST`` is not packed there).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import hmac
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pkcs11
from pkcs11 import PKCS11Error
from pkcs11.types import Token

from certhall.errors import ConfigurationError, TokenError

if TYPE_CHECKING:
    from pkcs11._pkcs11 import lib as Pkcs11Lib

#: The environment variable SoftHSM2 reads its configuration file name from.
CONF_ENV = "SOFTHSM2_CONF"

CKR_OK = 0x00
CKR_SLOT_ID_INVALID = 0x03
CKR_GENERAL_ERROR = 0x05
CKR_DEVICE_REMOVED = 0x32
CKR_SESSION_CLOSED = 0xB0
CKR_SESSION_HANDLE_INVALID = 0xB3
CKR_SESSION_READ_ONLY = 0xB5
CKR_SESSION_READ_ONLY_EXISTS = 0xB7
CKR_TOKEN_NOT_PRESENT = 0xE0
CKR_TOKEN_WRITE_PROTECTED = 0xE2
CKR_PIN_INCORRECT = 0xA0
CKR_PIN_INVALID = 0xA1
CKR_PIN_LEN_RANGE = 0xA2
CKR_PIN_EXPIRED = 0xA3
CKR_PIN_LOCKED = 0xA4
CKR_USER_ALREADY_LOGGED_IN = 0x100
CKR_USER_NOT_LOGGED_IN = 0x101
CKR_USER_PIN_NOT_INITIALIZED = 0x102
CKR_USER_ANOTHER_ALREADY_LOGGED_IN = 0x104
CKU_SO = 0
CKU_USER = 1

_CK_ULONG = ctypes.c_ulong
# The start of CK_FUNCTION_LIST (PKCS#11 2.40, pkcs11f.h order), up to the last entry we call.
_FUNCTION_NAMES = (
    "C_Initialize",
    "C_Finalize",
    "C_GetInfo",
    "C_GetFunctionList",
    "C_GetSlotList",
    "C_GetSlotInfo",
    "C_GetTokenInfo",
    "C_GetMechanismList",
    "C_GetMechanismInfo",
    "C_InitToken",
    "C_InitPIN",
    "C_SetPIN",
    "C_OpenSession",
    "C_CloseSession",
    "C_CloseAllSessions",
    "C_GetSessionInfo",
    "C_GetOperationState",
    "C_SetOperationState",
    "C_Login",
    "C_Logout",
)


class _Version(ctypes.Structure):
    _fields_ = (("major", ctypes.c_ubyte), ("minor", ctypes.c_ubyte))


class _FunctionList(ctypes.Structure):
    _fields_ = (("version", _Version), *((name, ctypes.c_void_p) for name in _FUNCTION_NAMES))


class _SessionInfo(ctypes.Structure):
    _fields_ = (
        ("slotID", _CK_ULONG),
        ("state", _CK_ULONG),
        ("flags", _CK_ULONG),
        ("ulDeviceError", _CK_ULONG),
    )


_LOGIN = ctypes.CFUNCTYPE(_CK_ULONG, _CK_ULONG, _CK_ULONG, ctypes.c_char_p, _CK_ULONG)
_INIT_TOKEN = ctypes.CFUNCTYPE(_CK_ULONG, _CK_ULONG, ctypes.c_char_p, _CK_ULONG, ctypes.c_char_p)
_INIT_PIN = ctypes.CFUNCTYPE(_CK_ULONG, _CK_ULONG, ctypes.c_char_p, _CK_ULONG)
_SET_PIN = ctypes.CFUNCTYPE(
    _CK_ULONG, _CK_ULONG, ctypes.c_char_p, _CK_ULONG, ctypes.c_char_p, _CK_ULONG
)
_LOGOUT = ctypes.CFUNCTYPE(_CK_ULONG, _CK_ULONG)
_GET_SESSION_INFO = ctypes.CFUNCTYPE(_CK_ULONG, _CK_ULONG, ctypes.POINTER(_SessionInfo))


class _RawFunctions:
    """PIN functions of a loaded module (same ``dlopen`` handle as python-pkcs11's).

    ``C_Login``, ``C_Logout``, ``C_InitToken``, ``C_InitPIN`` and ``C_SetPIN`` return the raw
    ``CKR_*`` value, so callers decide what a failure means and never lose a session handle.
    PINs are passed as bytes in memory only: nothing is put on a command line.
    """

    def __init__(self, load_path: str) -> None:
        library = ctypes.CDLL(load_path)
        get_function_list = library.C_GetFunctionList
        get_function_list.restype = _CK_ULONG
        get_function_list.argtypes = (ctypes.POINTER(ctypes.POINTER(_FunctionList)),)
        table = ctypes.POINTER(_FunctionList)()
        rv = get_function_list(ctypes.byref(table))
        if rv != CKR_OK or not table:
            raise ConfigurationError(code="module_function_list", module=load_path, rv=f"0x{rv:x}")
        functions = table.contents
        self._library = library  # keeps the handle referenced
        self._login = _LOGIN(functions.C_Login)
        self._logout = _LOGOUT(functions.C_Logout)
        self._get_session_info = _GET_SESSION_INFO(functions.C_GetSessionInfo)
        self._init_token = _INIT_TOKEN(functions.C_InitToken)
        self._init_pin = _INIT_PIN(functions.C_InitPIN)
        self._set_pin = _SET_PIN(functions.C_SetPIN)

    def login(self, session_handle: int, user_type: int, pin: str) -> int:
        data = pin.encode("utf-8")
        return int(self._login(session_handle, user_type, data, len(data)))

    def logout(self, session_handle: int) -> int:
        return int(self._logout(session_handle))

    def init_token(self, slot_id: int, so_pin: str, label: str) -> int:
        """``C_InitToken``; ``label`` is blank-padded to 32 bytes here."""
        data = so_pin.encode("utf-8")
        padded = label.encode("utf-8").ljust(32, b" ")
        return int(self._init_token(slot_id, data, len(data), padded))

    def init_pin(self, session_handle: int, pin: str) -> int:
        """``C_InitPIN`` (needs an SO session)."""
        data = pin.encode("utf-8")
        return int(self._init_pin(session_handle, data, len(data)))

    def set_pin(self, session_handle: int, old_pin: str, new_pin: str) -> int:
        """``C_SetPIN`` (the user PIN in a public or user read/write session)."""
        old, new = old_pin.encode("utf-8"), new_pin.encode("utf-8")
        return int(self._set_pin(session_handle, old, len(old), new, len(new)))

    def session_state(self, session_handle: int) -> int | None:
        """``CKS_*`` state of a session handle, None when it is not an open session."""
        info = _SessionInfo()
        if self._get_session_info(session_handle, ctypes.byref(info)) != CKR_OK:
            return None
        return int(info.state)


class LoginState:
    """This process's login on one token (PKCS#11 login state is per application and token).

    Once a token is logged in, ``C_Login`` answers ``CKR_USER_ALREADY_LOGGED_IN`` without looking
    at the PIN, so the PIN that logged in is kept as an HMAC under a random key, to check the PIN
    of this process's later sessions on the token.
    """

    def __init__(self, pin: str) -> None:
        #: This process's sessions sharing the login; the last one to close logs out.
        self.sessions = 1
        self.remember(pin)

    def remember(self, pin: str) -> None:
        """Answer to ``pin`` from now on (after a PIN change)."""
        self._key = secrets.token_bytes(32)
        self._verifier = self._mac(pin)

    def matches(self, pin: str) -> bool:
        return hmac.compare_digest(self._mac(pin), self._verifier)

    def _mac(self, pin: str) -> bytes:
        return hmac.new(self._key, pin.encode("utf-8"), hashlib.sha256).digest()


_UNBOUND = Path("/nonexistent/unbound")


@dataclass(eq=False)
class ModuleBinding:
    """One loaded copy of a PKCS#11 module, initialised with one configuration."""

    module_path: str
    load_path: str
    lib: Pkcs11Lib
    raw: _RawFunctions
    conf: Path | None = _UNBOUND
    users: int = 0
    #: Logins of this process, by slot id; kept by certhall.tokens.session.RawSession.
    logins: dict[int, LoginState] = field(default_factory=dict)

    def tokens(self, label: str) -> list[Token]:
        """Initialised tokens with this label (a module may have several)."""
        try:
            return list(self.lib.get_tokens(token_label=label))
        except PKCS11Error as e:
            raise TokenError(
                code="token_failed", variant="module", module=self.module_path, detail=_describe(e)
            ) from None

    def refresh(self) -> bool:
        """Re-initialise to see tokens created by other processes; only when nobody else uses it.

        The caller must hold its own reservation. Returns whether it re-initialised.
        """
        with binding_lock:
            if self.users > 1 or self.logins:
                return False
            _initialise(self, self.conf)
            return True


#: The process's one PKCS#11 lock: it guards the bindings and their login state, and every
#: call into a module is made under it (held for a :func:`reserved` block and by a
#: ``TokenSession``'s operations, whose ``lock`` it is). python-pkcs11 initialises a module with
#: ``C_Initialize(NULL)``, which tells it that no two threads call at once (SoftHSM2 then leaves
#: its mutexes off), and releases the GIL during calls: a worker's threads serving two counters
#: at once corrupted SoftHSM2's heap (12-06, ``tests/tokens/test_one_call_at_a_time.py``).
binding_lock = threading.RLock()
_bindings: dict[str, list[ModuleBinding]] = {}


def _describe(error: PKCS11Error) -> str:
    return f"{type(error).__name__} {error}".strip()


@contextlib.contextmanager
def _conf_env(conf: Path | None) -> Iterator[None]:
    """``SOFTHSM2_CONF`` = ``conf`` while the module initialises; caller holds ``binding_lock``."""
    if conf is None:
        yield
        return
    saved = os.environ.get(CONF_ENV)
    os.environ[CONF_ENV] = str(conf)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(CONF_ENV, None)
        else:
            os.environ[CONF_ENV] = saved


def _initialise(binding: ModuleBinding, conf: Path | None) -> None:
    """(Re-)initialise ``binding`` with ``conf``; caller holds ``binding_lock``."""
    binding.conf = _UNBOUND
    binding.logins.clear()
    try:
        with _conf_env(conf):
            if binding.lib.initialized:
                binding.lib.finalize()
            binding.lib.initialize()
    except PKCS11Error as e:
        raise TokenError(
            code="module_init_failed",
            variant=None if conf is None else "conf",
            module=binding.module_path,
            conf=conf,
            detail=_describe(e),
        ) from None
    binding.conf = conf


def _load(module_path: str, real_path: str, conf: Path | None, private_copy: bool) -> ModuleBinding:
    """Load a module (or a private copy of it) and initialise it with ``conf``."""
    load_path = real_path
    copy_dir = None
    if private_copy:
        copy_dir = tempfile.mkdtemp(prefix="certhall-pkcs11-")
        load_path = os.path.join(copy_dir, os.path.basename(real_path))
        shutil.copy2(real_path, load_path)
    try:
        with _conf_env(conf):
            lib = pkcs11.lib(load_path)  # initialises the module in its constructor
        raw = _RawFunctions(load_path)
    except PKCS11Error as e:
        raise TokenError(
            code="module_init_failed", variant="load", module=module_path, detail=_describe(e)
        ) from None
    finally:
        if copy_dir is not None:
            shutil.rmtree(copy_dir, ignore_errors=True)  # the mapping outlives the file
    binding = ModuleBinding(module_path=module_path, load_path=load_path, lib=lib, raw=raw)
    # Once more, in case python-pkcs11 handed back a library someone had already initialised.
    _initialise(binding, conf)
    return binding


def _existing(module_path: str, conf: Path | None) -> tuple[str, Path | None]:
    """The module's real path and the configuration's absolute one, both existing files."""
    real_path = os.path.realpath(module_path)
    if not os.path.isfile(real_path):
        raise ConfigurationError(code="module_not_found", module=module_path)
    conf = conf.resolve() if conf is not None else None
    if conf is not None and not conf.is_file():
        raise ConfigurationError(code="module_conf_missing", conf=conf)
    return real_path, conf


def acquire(module_path: str, conf: Path | None) -> ModuleBinding:
    """A binding of ``module_path`` initialised with ``conf``, reserved for the caller.

    ``conf`` None means "whatever the environment says" (real HSMs, or a process-wide
    ``SOFTHSM2_CONF``). Every call must be paired with :func:`release`.
    """
    real_path, conf = _existing(module_path, conf)
    with binding_lock:
        bindings = _bindings.setdefault(real_path, [])
        chosen = next((b for b in bindings if b.conf == conf and b.lib.initialized), None)
        if chosen is None:
            chosen = next((b for b in bindings if b.users == 0), None)
            if chosen is not None:
                _initialise(chosen, conf)
        if chosen is None:
            chosen = _load(module_path, real_path, conf, private_copy=bool(bindings))
            bindings.append(chosen)
        chosen.users += 1
        return chosen


def acquire_fresh(module_path: str, conf: Path | None) -> ModuleBinding:
    """A binding initialised just now with ``conf``, so it sees every token on disk.

    For operations that must not miss a token another process created (formatting a token:
    label uniqueness). An idle binding is re-initialised; when every binding is busy, a private
    copy of the module is loaded. Pair with :func:`release`.
    """
    real_path, conf = _existing(module_path, conf)
    with binding_lock:
        bindings = _bindings.setdefault(real_path, [])
        idle = [b for b in bindings if b.users == 0]
        chosen = next((b for b in idle if b.conf == conf), idle[0] if idle else None)
        if chosen is not None:
            _initialise(chosen, conf)
        else:
            chosen = _load(module_path, real_path, conf, private_copy=bool(bindings))
            bindings.append(chosen)
        chosen.users += 1
        return chosen


def release(binding: ModuleBinding) -> None:
    with binding_lock:
        binding.users = max(0, binding.users - 1)


def reserve(binding: ModuleBinding) -> None:
    """One more reservation on a binding the caller already holds (pair with :func:`release`):
    for an object that outlives the caller's own reservation."""
    with binding_lock:
        binding.users += 1


@contextlib.contextmanager
def reserved(
    module_path: str, conf: Path | None, *, fresh: bool = False
) -> Iterator[ModuleBinding]:
    """:func:`acquire` (or, with ``fresh``, :func:`acquire_fresh`) for the ``with`` block, which
    holds :data:`binding_lock` (one PKCS#11 call at a time in a process)."""
    with binding_lock:
        binding = acquire_fresh(module_path, conf) if fresh else acquire(module_path, conf)
        try:
            yield binding
        finally:
            release(binding)


def loaded_copies(module_path: str) -> int:
    """How many copies of a module this process has loaded (for tests and diagnostics)."""
    with binding_lock:
        return len(_bindings.get(os.path.realpath(module_path), []))
