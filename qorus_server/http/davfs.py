"""The WSGI side of ``/webdav``: wsgidav over ``$OMQ_DIR/user`` with the caller's access.

The ASGI gateway (:mod:`qorus_server.http.webdav`) logs the caller in and puts its
:class:`DavAccess` into the ASGI scope; a2wsgi hands the scope down as
``environ["asgi.scope"]``. Here:

- :class:`DavIdentity` (in place of wsgidav's own authenticator) takes the access from the
  scope, names the user for wsgidav's locks, and refuses what may never happen to the root
  folder itself (deleting, moving, overwriting or locking it);
- :class:`UserFilesProvider` resolves every path wsgidav touches -- the request's, a COPY or
  MOVE ``Destination``, every member of a recursive operation -- through the file system and
  refuses one that leaves ``$OMQ_DIR/user``, passes through a symbolic link (links are
  neither followed nor listed) or reaches a top-level folder the caller may not reach; the
  root folder lists only those folders;
- :class:`DavErrors` (in place of wsgidav's error printer) answers errors without file paths
  or exception texts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from wsgidav import util as dav_util
from wsgidav.dav_error import (
    HTTP_FORBIDDEN,
    HTTP_INTERNAL_ERROR,
    HTTP_NO_CONTENT,
    HTTP_NOT_MODIFIED,
    DAVError,
    as_DAVError,
    get_http_status_string,
)
from wsgidav.dir_browser import WsgiDavDirBrowser
from wsgidav.fs_dav_provider import FilesystemProvider, FolderResource
from wsgidav.mw.base_mw import BaseMiddleware
from wsgidav.request_resolver import RequestResolver
from wsgidav.wsgidav_app import WsgiDAVApp

log = logging.getLogger("qorus.webdav")

#: where the WebDAV file system is mounted in the HTTP app
MOUNT = "/webdav"
#: the realm wsgidav shows (Basic logins go through the one login, never wsgidav)
REALM = "Qorus"

READ, WRITE, DELETE = "WEBDAV-READ", "WEBDAV-WRITE", "WEBDAV-DELETE"
#: what each WebDAV method needs of WEBDAV-READ, -WRITE and -DELETE
METHOD_NEEDS: dict[str, frozenset[str]] = {
    "OPTIONS": frozenset(),  # what the server can do: clients ask before anything else
    "GET": frozenset({READ}),
    "HEAD": frozenset({READ}),
    "PROPFIND": frozenset({READ}),
    "PUT": frozenset({WRITE}),
    "MKCOL": frozenset({WRITE}),
    "PROPPATCH": frozenset({WRITE}),
    "LOCK": frozenset({WRITE}),
    "UNLOCK": frozenset({WRITE}),
    "COPY": frozenset({READ, WRITE}),
    "MOVE": frozenset({READ, WRITE, DELETE}),
    "DELETE": frozenset({DELETE}),
}
#: methods that may address the root folder itself
ROOT_METHODS = frozenset({"OPTIONS", "GET", "HEAD", "PROPFIND"})


@dataclass(frozen=True)
class DavAccess:
    """What one caller may do: ``ops`` the WEBDAV-READ / -WRITE / -DELETE it holds,
    ``dirs`` the top-level folders of ``$OMQ_DIR/user`` it reaches (None: all of them)."""

    user: str
    ops: frozenset[str]
    dirs: frozenset[str] | None

    @classmethod
    def everything(cls, user: str = "") -> DavAccess:
        """RBAC off, or WEBDAV-CONTROL: every method on every folder."""
        return cls(user, frozenset({READ, WRITE, DELETE}), None)

    @classmethod
    def of(cls, username: str, permissions: Iterable[str], group_names: Iterable[str]) -> DavAccess:
        """The access of a user with these effective permissions (umbrellas expanded: WEBDAV-RWD
        holds READ, WRITE and DELETE) and the names of its interface groups."""
        perms = frozenset(permissions)
        if "WEBDAV-CONTROL" in perms:
            return cls.everything(username)
        ops = perms & {READ, WRITE, DELETE}
        if "WEBDAV-RWD" in perms:
            ops = frozenset({READ, WRITE, DELETE})
        if "WEBDAV-ACCESS-ALL" in perms:
            return cls(username, frozenset(ops), None)
        dirs = {n for n in (*group_names, username) if _folder_name(n)}
        return cls(username, frozenset(ops), frozenset(dirs))

    def missing(self, method: str) -> frozenset[str]:
        """The permissions ``method`` needs that the caller lacks."""
        return METHOD_NEEDS[method] - self.ops

    def reaches(self, top: str) -> bool:
        """Whether the top-level folder (or file) ``top`` of the root is within reach."""
        return self.dirs is None or top in self.dirs


def _folder_name(name: str) -> bool:
    """A name that can be one folder of the root (not empty, no separator, not a dot name)."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name


def _access(environ: dict[str, Any]) -> DavAccess:
    access = environ.get("qorus.webdav")
    if not isinstance(access, DavAccess):  # never reached without the gateway: fail closed
        raise DAVError(HTTP_FORBIDDEN, "no access")
    return access


class UserRootFolder(FolderResource):  # type: ignore[misc]
    """The root folder: lists only the folders the caller reaches."""

    def get_member_names(self) -> list[str]:
        names: list[str] = super().get_member_names()
        access = _access(self.environ)
        if access.dirs is None:
            return names
        root = self.provider.root_folder_path
        return [n for n in names if n in access.dirs and os.path.isdir(os.path.join(root, n))]


class UserFilesProvider(FilesystemProvider):  # type: ignore[misc]
    """``$OMQ_DIR/user``: every path resolved, checked against the root and the caller."""

    def __init__(self, root: Path) -> None:
        super().__init__(str(root), readonly=False, fs_opts={"follow_symlinks": False})
        self.real_root = os.path.realpath(str(root))

    def _loc_to_file_path(self, path: str, environ: dict[str, Any] | None = None) -> str:
        access = _access(environ or {})
        parts = [p for p in path.split("/") if p]
        if any(p in (".", "..") or "\0" in p for p in parts):
            raise DAVError(HTTP_FORBIDDEN, "the path leaves the WebDAV root")
        lexical = os.path.join(self.real_root, *parts)
        real = os.path.realpath(lexical)
        if real != self.real_root and not real.startswith(self.real_root + os.sep):
            raise DAVError(HTTP_FORBIDDEN, "the path leaves the WebDAV root")
        if real != lexical:
            raise DAVError(HTTP_FORBIDDEN, "symbolic links are not followed")
        if parts and not access.reaches(parts[0]):
            raise DAVError(HTTP_FORBIDDEN, "no access to this folder")
        file_path: str = os.path.join(self.root_folder_path, *parts)
        return file_path

    def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
        res = super().get_resource_inst(path, environ)
        if isinstance(res, FolderResource) and path.strip("/") == "":
            return UserRootFolder(path, environ, res._file_path)
        return res


def destination_path(environ: dict[str, Any]) -> str | None:
    """The path under the mount of a COPY or MOVE ``Destination`` (wsgidav's reading of it),
    or None when there is none or it is not under the mount (wsgidav refuses those)."""
    raw = environ.get("HTTP_DESTINATION")
    if not raw:
        return None
    path = urlparse(unquote(raw), allow_fragments=False).path
    path = dav_util.normalize_path(path)  # DAVError 400 when it climbs above "/"
    if path == MOUNT or path.startswith(MOUNT + "/"):
        return path[len(MOUNT) :] or "/"
    return None


class DavIdentity(BaseMiddleware):  # type: ignore[misc]
    """The caller as the gateway logged it in; the root folder itself is read-only."""

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        scope = environ.get("asgi.scope") or {}
        access = scope.get("qorus.webdav")
        if not isinstance(access, DavAccess):
            raise DAVError(HTTP_FORBIDDEN, "no access")
        environ["qorus.webdav"] = access
        environ["wsgidav.auth.realm"] = REALM
        environ["wsgidav.auth.user_name"] = access.user
        environ["wsgidav.auth.roles"] = None
        environ["wsgidav.auth.permissions"] = None
        method = environ["REQUEST_METHOD"].upper()
        if method not in ROOT_METHODS and environ.get("PATH_INFO", "/").strip("/") == "":
            raise DAVError(HTTP_FORBIDDEN, "the root folder itself cannot be changed")
        if method in ("COPY", "MOVE") and environ.get("HTTP_DESTINATION"):
            dest = destination_path(environ)
            if dest is None:
                raise DAVError(HTTP_FORBIDDEN, "the destination is outside the WebDAV root")
            if dest.strip("/") == "":
                raise DAVError(HTTP_FORBIDDEN, "the root folder itself cannot be changed")
        result: Iterable[bytes] = self.next_app(environ, start_response)
        return result


class DavErrors(BaseMiddleware):  # type: ignore[misc]
    """Errors as their status and a short reason; preconditions (locks) as wsgidav's XML.
    Internal errors are logged with their traceback, never answered with it."""

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterator[bytes]:
        pending = dav_util.SubAppStartResponse()
        started = False
        try:
            body = self.next_app(environ, pending)
            try:
                for chunk in body:
                    if not started:
                        start_response(pending.status, pending.response_headers)
                        started = True
                    yield chunk
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
            if not started:
                start_response(pending.status, pending.response_headers)
            return
        except Exception as exc:
            if started:
                raise
            err = _as_dav_error(exc, environ)
        yield from _error_page(err, environ, start_response)


def _as_dav_error(exc: Exception, environ: dict[str, Any]) -> DAVError:
    if isinstance(exc, DAVError):
        err = exc
    elif isinstance(exc, PermissionError):
        err = DAVError(HTTP_FORBIDDEN, "permission denied")
    else:
        err = as_DAVError(exc)
    if err.value == HTTP_INTERNAL_ERROR:
        log.error(
            "WebDAV %s %s failed",
            environ.get("REQUEST_METHOD"),
            environ.get("PATH_INFO"),
            exc_info=err.src_exception or exc,
        )
    return err


def _error_page(
    err: DAVError, environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterator[bytes]:
    status = get_http_status_string(err)
    headers = [("Date", dav_util.get_rfc1123_time()), *(err.add_headers or [])]
    if err.value in (HTTP_NOT_MODIFIED, HTTP_NO_CONTENT):
        start_response(status, [("Content-Length", "0"), *headers])
        yield b""
        return
    data: bytes
    if err.err_condition:
        ctype, xml = "application/xml; charset=utf-8", err.err_condition.as_string()
        data = xml if isinstance(xml, bytes) else str(xml).encode("utf-8")
    else:
        reason = str(err.context_info or "") if err.value == HTTP_FORBIDDEN else ""
        if "/" in reason or "\\" in reason:
            reason = ""  # wsgidav's own texts may name files
        ctype = "text/plain; charset=utf-8"
        data = (f"{status}: {reason}\n" if reason else f"{status}\n").encode("utf-8")
    if environ.get("REQUEST_METHOD") == "HEAD" or not err.add_body:
        data = b""
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(data))), *headers])
    yield data


def make_dav_app(root: Path) -> WsgiDAVApp:
    """The wsgidav application over ``root`` (which must exist), mounted at :data:`MOUNT`:
    locks and dead properties in this process's memory."""
    config = {
        "provider_mapping": {"/": UserFilesProvider(root)},
        "mount_path": MOUNT,
        "middleware_stack": [DavErrors, DavIdentity, WsgiDavDirBrowser, RequestResolver],
        "http_authenticator": {"accept_basic": False, "accept_digest": False},
        "lock_storage": True,
        "property_manager": True,
        "logging": {"enable": False},
        "verbose": 1,
        "suppress_version_info": True,
        "add_header_MS_Author_Via": True,
        "dir_browser": {
            "enable": True,
            "response_trailer": "",
            "davmount": True,
            "ms_sharepoint_support": False,
            "libre_office_support": False,
        },
    }
    logging.getLogger("wsgidav").setLevel(logging.WARNING)  # not its start-up chatter
    return WsgiDAVApp(config)
