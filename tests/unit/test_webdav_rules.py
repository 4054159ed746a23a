"""The WebDAV access rules without a server: what each WEBDAV-* permission allows, which
folders a user reaches, how a path and a COPY/MOVE Destination are resolved and refused."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from wsgidav.dav_error import DAVError

from qorus_server.http.davfs import (
    DELETE,
    METHOD_NEEDS,
    READ,
    WRITE,
    DavAccess,
    UserFilesProvider,
    destination_path,
)

ALL_OPS = frozenset({READ, WRITE, DELETE})


def test_webdav_control_is_everything_everywhere() -> None:
    acc = DavAccess.of("ann", {"LOGIN", "WEBDAV-CONTROL"}, ["g1"])
    assert acc.ops == ALL_OPS and acc.dirs is None
    assert all(not acc.missing(m) for m in METHOD_NEEDS)
    assert acc.reaches("anything")


def test_rwd_gives_read_write_delete_in_the_users_own_folders() -> None:
    acc = DavAccess.of("ann", {"LOGIN", "WEBDAV-RWD"}, ["sales", "DEFAULT"])
    assert acc.ops == ALL_OPS
    assert acc.dirs == {"ann", "sales", "DEFAULT"}
    assert acc.reaches("ann") and acc.reaches("sales") and not acc.reaches("bob")


def test_access_all_reaches_every_folder_with_its_own_operations() -> None:
    acc = DavAccess.of("ann", {"LOGIN", "WEBDAV-READ", "WEBDAV-ACCESS-ALL"}, [])
    assert acc.dirs is None and acc.ops == {READ}
    assert not acc.missing("PROPFIND") and not acc.missing("GET")
    assert acc.missing("PUT") == {WRITE}
    assert acc.missing("MOVE") == {WRITE, DELETE}


@pytest.mark.parametrize(
    ("perms", "allowed"),
    [
        ({"WEBDAV-READ"}, {"OPTIONS", "GET", "HEAD", "PROPFIND"}),
        ({"WEBDAV-WRITE"}, {"OPTIONS", "PUT", "MKCOL", "PROPPATCH", "LOCK", "UNLOCK"}),
        ({"WEBDAV-DELETE"}, {"OPTIONS", "DELETE"}),
        ({"WEBDAV-READ", "WEBDAV-WRITE"}, {*METHOD_NEEDS} - {"MOVE", "DELETE"}),
        ({"WEBDAV-READ", "WEBDAV-WRITE", "WEBDAV-DELETE"}, set(METHOD_NEEDS)),
        (set(), {"OPTIONS"}),
        ({"WEBDAV-ACCESS-ALL"}, {"OPTIONS"}),
    ],
)
def test_each_permission_allows_its_methods_only(perms: set[str], allowed: set[str]) -> None:
    acc = DavAccess.of("u", {"LOGIN", *perms}, [])
    assert {m for m in METHOD_NEEDS if not acc.missing(m)} == allowed


def test_group_names_that_cannot_be_folders_reach_nothing() -> None:
    acc = DavAccess.of("u", {"WEBDAV-READ"}, ["..", ".", "", "a/b", "ok"])
    assert acc.dirs == {"u", "ok"}


def _environ(access: DavAccess, method: str = "GET", **extra: str) -> dict[str, Any]:
    return {"qorus.webdav": access, "REQUEST_METHOD": method, **extra}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "user"
    for d in ("ann", "sales", "bob"):
        (root / d).mkdir(parents=True)
    (root / "top.txt").write_text("top")
    (root / "ann" / "a.txt").write_text("a")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("secret")
    os.symlink(tmp_path / "outside", root / "ann" / "out")
    os.symlink("/etc", root / "etc-link")
    os.symlink(root / "bob", root / "ann" / "to-bob")
    return root


def _refused(provider: UserFilesProvider, path: str, env: dict[str, Any]) -> None:
    with pytest.raises(DAVError) as info:
        provider._loc_to_file_path(path, env)
    assert info.value.value == 403


def test_paths_resolve_inside_the_root_and_the_callers_folders(tree: Path) -> None:
    prov = UserFilesProvider(tree)
    ann = _environ(DavAccess.of("ann", {"WEBDAV-RWD"}, ["sales"]))
    assert prov._loc_to_file_path("/ann/a.txt", ann) == str(tree / "ann" / "a.txt")
    assert prov._loc_to_file_path("/sales/new.txt", ann) == str(tree / "sales" / "new.txt")
    assert prov._loc_to_file_path("/", ann) == str(tree)
    for bad in ("/bob/x", "/top.txt", "/ann/out/secret", "/etc-link/passwd", "/ann/to-bob/x"):
        _refused(prov, bad, ann)
    for bad in ("/../outside/secret", "/ann/../../outside", "/ann/./a.txt"):
        _refused(prov, bad, ann)
    everyone = _environ(DavAccess.everything())
    assert prov._loc_to_file_path("/bob/x", everyone) == str(tree / "bob" / "x")
    for bad in ("/ann/out/secret", "/etc-link/passwd", "/../x", "/ann/to-bob/x"):
        _refused(prov, bad, everyone)  # links are not followed, even to inside the root
    _refused(prov, "/ann/a.txt", {})  # no access from the gateway: nothing


def test_the_root_lists_only_the_folders_a_user_reaches(tree: Path) -> None:
    prov = UserFilesProvider(tree)
    ann = _environ(DavAccess.of("ann", {"WEBDAV-READ"}, ["sales", "nosuch"]))
    ann["wsgidav.provider"] = prov
    root = prov.get_resource_inst("/", ann)
    assert sorted(root.get_member_names()) == ["ann", "sales"]
    everyone = _environ(DavAccess.everything())
    everyone["wsgidav.provider"] = prov
    # symbolic links are never listed
    assert sorted(prov.get_resource_inst("/", everyone).get_member_names()) == [
        "ann",
        "bob",
        "sales",
        "top.txt",
    ]
    assert sorted(prov.get_resource_inst("/ann", ann).get_member_names()) == ["a.txt"]


@pytest.mark.parametrize(
    ("header", "want"),
    [
        ("http://h/webdav/ann/x", "/ann/x"),
        ("/webdav/ann/x", "/ann/x"),
        ("http://h/webdav/", "/"),
        ("http://h/webdav", "/"),
        ("http://h/webdav/ann/%2e%2e/bob", "/bob"),
        ("http://h/webdav/ann/..%2f..%2fx", None),
        ("http://h/other/x", None),
        ("http://h/webdavx/y", None),
    ],
)
def test_destination_headers_are_read_as_wsgidav_reads_them(header: str, want: str | None) -> None:
    assert destination_path({"HTTP_DESTINATION": header}) == want


def test_a_destination_above_the_server_root_is_a_bad_request() -> None:
    with pytest.raises(DAVError) as info:
        destination_path({"HTTP_DESTINATION": "http://h/webdav/%2e%2e/%2e%2e/etc"})
    assert info.value.value == 400
