"""``/webdav`` under ``rbac-security`` against a real server: each WEBDAV-* permission and each
refusal, the folders of a user's interface groups and its own, and every way out of
``$OMQ_DIR/user`` (``..`` and its encodings, ``%2f``, symbolic links, COPY and MOVE
destinations, the root folder itself) refused with nothing written anywhere."""

from __future__ import annotations

import http.client
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qorus_proc import Qorus, free_port, tool

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

PW = "Dav-Secret-1"
#: user -> (permissions, interface groups)
ROLES: dict[str, tuple[str, str]] = {
    "ctl": ("LOGIN,WEBDAV-CONTROL", ""),
    "all": ("LOGIN,WEBDAV-RWD,WEBDAV-ACCESS-ALL", ""),
    "alice": ("LOGIN,WEBDAV-RWD", "grp-a"),
    "reader": ("LOGIN,WEBDAV-READ", "grp-a"),
    "writer": ("LOGIN,WEBDAV-WRITE", "grp-a"),
    "deleter": ("LOGIN,WEBDAV-DELETE", "grp-a"),
    "nodav": ("LOGIN", "grp-a"),
    "nologin": ("WEBDAV-CONTROL", ""),
}


@pytest.fixture(scope="module")
def dav(db_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Qorus]:
    base = tmp_path_factory.mktemp("davsec")
    omq = base / "omq"
    for sub in ("etc", "log", "var"):
        (omq / sub).mkdir(parents=True)
    url = db_factory.fresh().render_as_string(hide_password=False)
    (omq / "etc" / "options").write_text(f"qorus.systemdb = {url}\n")
    args = ["-A", f"admin,{PW},superuser", "-g", "grp-a:desc=group a", "-g", "grp-b:desc=b"]
    for user, (perms, groups) in ROLES.items():
        args += ["-R", f"r-{user}:role of {user}:{perms}" + (f":{groups}" if groups else "")]
        args += ["-A", f"{user},{PW},r-{user}"]
    res = tool("user_tool", "--qorus-dir", str(omq), *args)  # one transaction
    assert res.returncode == 0, res.stderr
    q = Qorus(omq, free_port(), ["rbac-security=true"])
    try:
        q.wait_ready(auth=("admin", PW))
        yield q
    finally:
        q.kill()


@pytest.fixture
def files(dav: Qorus) -> Path:
    """A fresh tree under user/ for each test, and a canary folder outside it."""
    user = dav.omq / "user"
    assert user.is_dir() and (user.stat().st_mode & 0o777) == 0o750
    for entry in user.iterdir():
        if entry.is_symlink() or entry.is_file():
            entry.unlink()
        else:
            shutil.rmtree(entry)
    for d in ("grp-a", "grp-b", "alice", "bob"):
        (user / d).mkdir()
        (user / d / "seed.txt").write_text(f"seed of {d}\n")
    (user / "top.txt").write_text("top\n")
    outside = dav.omq / "outside"
    shutil.rmtree(outside, ignore_errors=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("secret\n")
    return user


def req(
    q: Qorus, who: str | None, method: str, path: str, body: bytes | None = None, **headers: str
) -> httpx.Response:
    auth = (who, PW) if who else None
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    return httpx.request(
        method, f"{q.url}/webdav{path}", auth=auth, content=body, headers=hdrs, timeout=30
    )


def raw(q: Qorus, who: str | None, method: str, target: str, **headers: str) -> int:
    """A request whose target is sent exactly as written (no client normalisation)."""
    import base64

    conn = http.client.HTTPConnection("127.0.0.1", q.port, timeout=30)
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    if who:
        hdrs["Authorization"] = "Basic " + base64.b64encode(f"{who}:{PW}".encode()).decode()
    conn.putrequest(method, target, skip_accept_encoding=True)
    for k, v in hdrs.items():
        conn.putheader(k, v)
    conn.endheaders()
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.status


def test_logins_anonymous_options_and_refused_users(dav: Qorus, files: Path) -> None:
    r = req(dav, None, "PROPFIND", "/", Depth="1")
    assert r.status_code == 401 and "basic" in r.headers["www-authenticate"].lower()
    r = httpx.request("PROPFIND", f"{dav.url}/webdav/", auth=("alice", "wrong"), timeout=30)
    assert r.status_code == 401
    r = req(dav, None, "OPTIONS", "/")
    assert r.status_code == 200 and "1" in r.headers["dav"] and not r.content
    r = req(dav, None, "GET", "/alice/seed.txt")
    assert r.status_code == 401
    for who in ("nodav", "nologin"):
        r = req(dav, who, "PROPFIND", "/", Depth="1")
        assert r.status_code == 403 and r.json()["err"] == "AUTHORIZATION-ERROR", who
    assert req(dav, "nodav", "OPTIONS", "/grp-a/").status_code == 200  # needs LOGIN only
    assert req(dav, "nologin", "OPTIONS", "/grp-a/").status_code == 403
    r = req(dav, "ctl", "POST", "/alice/seed.txt", b"x")
    assert r.status_code == 405 and "PROPFIND" in r.headers["allow"]
    # a login token works like a password
    tok = httpx.post(f"{dav.url}/api/public/login", json={"user": "alice", "pass": PW}).json()
    r = httpx.get(f"{dav.url}/webdav/alice/seed.txt", headers={"Qorus-Token": tok["token"]})
    assert r.status_code == 200 and r.text == "seed of alice\n"


def _listing(r: httpx.Response) -> set[str]:
    import re

    return {h.rstrip("/").rsplit("/", 1)[-1] for h in re.findall(r"<[^>]*href>([^<]+)<", r.text)}


def test_a_user_reaches_its_groups_folders_and_its_own(dav: Qorus, files: Path) -> None:
    r = req(dav, "alice", "PROPFIND", "/", Depth="1")
    assert r.status_code == 207
    assert _listing(r) == {"webdav", "alice", "grp-a"}
    for path in ("/alice/seed.txt", "/grp-a/seed.txt"):
        assert req(dav, "alice", "GET", path).status_code == 200
    for path in ("/grp-b/seed.txt", "/bob/seed.txt", "/top.txt"):
        assert req(dav, "alice", "GET", path).status_code == 403, path
        assert req(dav, "alice", "PUT", path, b"x").status_code == 403, path
        assert req(dav, "alice", "DELETE", path).status_code == 403, path
    assert req(dav, "alice", "PROPFIND", "/grp-b/", Depth="1").status_code == 403
    assert req(dav, "alice", "MKCOL", "/carol").status_code == 403
    assert req(dav, "alice", "PUT", "/alice/new.txt", b"new").status_code == 201
    assert (files / "alice" / "new.txt").read_text() == "new"
    assert req(dav, "alice", "MKCOL", "/grp-a/sub").status_code == 201
    here = f"{dav.url}/webdav"
    r = req(dav, "alice", "COPY", "/alice/new.txt", Destination=f"{here}/grp-a/sub/c.txt")
    assert r.status_code == 201 and (files / "grp-a" / "sub" / "c.txt").read_text() == "new"
    r = req(dav, "alice", "MOVE", "/grp-a/sub/c.txt", Destination=f"{here}/alice/m.txt")
    assert r.status_code == 201 and not (files / "grp-a" / "sub" / "c.txt").exists()
    for dest in ("/grp-b/x.txt", "/bob/x.txt", "/x.txt"):
        r = req(dav, "alice", "COPY", "/alice/new.txt", Destination=f"{here}{dest}")
        assert r.status_code == 403, dest
        r = req(dav, "alice", "MOVE", "/alice/new.txt", Destination=f"{here}{dest}")
        assert r.status_code == 403, dest
    r = req(dav, "alice", "COPY", "/bob/seed.txt", Destination=f"{here}/alice/stolen.txt")
    assert r.status_code == 403 and not (files / "alice" / "stolen.txt").exists()
    assert not (files / "grp-b" / "x.txt").exists() and not (files / "x.txt").exists()
    r = req(dav, "alice", "LOCK", "/", b"", Depth="infinity")
    assert r.status_code == 403
    # its own folder may be made when it is missing, another's never
    shutil.rmtree(files / "alice")
    assert req(dav, "alice", "MKCOL", "/alice").status_code == 201
    assert req(dav, "alice", "MKCOL", "/bob2").status_code == 403


def test_each_permission_allows_only_its_methods(dav: Qorus, files: Path) -> None:
    here = f"{dav.url}/webdav"
    # WEBDAV-READ
    assert req(dav, "reader", "GET", "/grp-a/seed.txt").status_code == 200
    assert req(dav, "reader", "PROPFIND", "/grp-a/", Depth="1").status_code == 207
    for method, path in (
        ("PUT", "/grp-a/r.txt"),
        ("MKCOL", "/grp-a/d"),
        ("DELETE", "/grp-a/seed.txt"),
    ):
        r = req(dav, "reader", method, path, b"x" if method == "PUT" else None)
        assert r.status_code == 403 and "WEBDAV-" in r.json()["desc"], method
    r = req(dav, "reader", "COPY", "/grp-a/seed.txt", Destination=f"{here}/grp-a/c.txt")
    assert r.status_code == 403
    r = req(dav, "reader", "PROPPATCH", "/grp-a/seed.txt", b"<x/>")
    assert r.status_code == 403
    # WEBDAV-WRITE
    assert req(dav, "writer", "PUT", "/grp-a/w.txt", b"w").status_code == 201
    assert req(dav, "writer", "MKCOL", "/grp-a/wd").status_code == 201
    assert req(dav, "writer", "GET", "/grp-a/w.txt").status_code == 403
    assert req(dav, "writer", "DELETE", "/grp-a/w.txt").status_code == 403
    r = req(dav, "writer", "MOVE", "/grp-a/w.txt", Destination=f"{here}/grp-a/w2.txt")
    assert r.status_code == 403
    assert req(dav, "writer", "PUT", "/grp-b/w.txt", b"w").status_code == 403
    # WEBDAV-DELETE
    assert req(dav, "deleter", "GET", "/grp-a/w.txt").status_code == 403
    assert req(dav, "deleter", "PUT", "/grp-a/d.txt", b"d").status_code == 403
    assert req(dav, "deleter", "DELETE", "/grp-b/seed.txt").status_code == 403
    assert req(dav, "deleter", "DELETE", "/grp-a/w.txt").status_code == 204
    assert not (files / "grp-a" / "w.txt").exists() and (files / "grp-b" / "seed.txt").exists()
    # WEBDAV-RWD + WEBDAV-ACCESS-ALL: every folder, also files at the top
    for path in ("/grp-b/seed.txt", "/bob/seed.txt", "/top.txt"):
        assert req(dav, "all", "GET", path).status_code == 200, path
    assert req(dav, "all", "PUT", "/bob/a.txt", b"a").status_code == 201
    assert req(dav, "all", "DELETE", "/bob/a.txt").status_code == 204
    r = req(dav, "all", "PROPFIND", "/", Depth="1")
    assert _listing(r) == {"webdav", "alice", "bob", "grp-a", "grp-b", "top.txt"}
    # WEBDAV-CONTROL: everything
    assert req(dav, "ctl", "MKCOL", "/newtop").status_code == 201
    r = req(dav, "ctl", "MOVE", "/newtop/", Destination=f"{here}/renamed/")
    assert r.status_code == 201 and (files / "renamed").is_dir()
    assert req(dav, "ctl", "DELETE", "/renamed/").status_code == 204


def test_the_root_folder_itself_is_never_changed(dav: Qorus, files: Path) -> None:
    here = f"{dav.url}/webdav"
    for method in ("DELETE", "MKCOL", "PUT", "PROPPATCH", "LOCK"):
        r = req(dav, "ctl", method, "/", b"" if method in ("PUT", "LOCK") else None)
        assert r.status_code == 403, method
    r = req(dav, "ctl", "MOVE", "/", Destination=f"{here}/elsewhere/")
    assert r.status_code == 403
    r = req(dav, "ctl", "COPY", "/alice/", Destination=f"{here}/", Overwrite="T")
    assert r.status_code == 403
    assert sorted(p.name for p in files.iterdir()) == ["alice", "bob", "grp-a", "grp-b", "top.txt"]


def test_dot_dot_and_encoded_separators_never_leave_the_root(dav: Qorus, files: Path) -> None:
    (dav.omq / "var" / "probe.txt").write_text("probe\n")
    for target in (
        "/webdav/../etc/passwd",
        "/webdav/../var/probe.txt",
        "/webdav/%2e%2e/var/probe.txt",
        "/webdav/%2E%2E/%2E%2E/etc/passwd",
        "/webdav/alice/..%2f..%2fvar%2fprobe.txt",
        "/webdav/alice/%2e%2e%2f%2e%2e%2fvar%2fprobe.txt",
        "/webdav/alice/../../var/probe.txt",
    ):
        for who in ("ctl", "alice"):
            status = raw(dav, who, "GET", target)
            assert status in (400, 403, 404), (who, target, status)
        assert raw(dav, "ctl", "PUT", target, Content_Length="0") in (400, 403, 404), target
    # a slash encoded as %2f is a slash: it reaches nothing alice may not reach
    assert raw(dav, "alice", "GET", "/webdav/alice%2fseed.txt") == 200
    assert raw(dav, "alice", "GET", "/webdav/bob%2fseed.txt") == 403
    assert raw(dav, "alice", "GET", "/webdav/%2fetc%2fpasswd") in (403, 404)
    assert raw(dav, "alice", "GET", "/webdav/alice/%00x") in (400, 403, 404)
    # a doubly encoded dot is a name, inside the root
    assert raw(dav, "ctl", "GET", "/webdav/alice/%252e%252e/x") == 404
    assert (dav.omq / "var" / "probe.txt").read_text() == "probe\n"


def test_symbolic_links_pointing_out_are_refused(dav: Qorus, files: Path) -> None:
    outside = dav.omq / "outside"
    os.symlink("/etc", files / "alice" / "etc")
    os.symlink("/etc", files / "etc-top")
    os.symlink(outside, files / "alice" / "out")
    os.symlink(outside / "secret.txt", files / "alice" / "secret.txt")
    os.symlink(files / "bob", files / "alice" / "to-bob")  # inside, but bob's
    for who in ("ctl", "alice"):
        for path in (
            "/alice/etc/passwd",
            "/etc-top/passwd",
            "/alice/out/secret.txt",
            "/alice/secret.txt",
            "/alice/to-bob/seed.txt",
        ):
            assert req(dav, who, "GET", path).status_code == 403, (who, path)
        assert req(dav, who, "PUT", "/alice/out/new.txt", b"x").status_code == 403
        assert req(dav, who, "MKCOL", "/alice/out/newdir").status_code == 403
        assert req(dav, who, "DELETE", "/alice/out/secret.txt").status_code == 403
        assert req(dav, who, "PROPFIND", "/alice/etc/", Depth="1").status_code == 403
    # links are not listed either
    r = req(dav, "ctl", "PROPFIND", "/alice/", Depth="1")
    assert _listing(r) == {"alice", "seed.txt"}
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_copy_and_move_destinations_outside_are_refused(dav: Qorus, files: Path) -> None:
    outside = dav.omq / "outside"
    os.symlink(outside, files / "alice" / "out")
    host = dav.url
    for dest in (
        f"{host}/etc/x.txt",
        f"{host}/outside/x.txt",
        f"{host}/webdav/../outside/x.txt",
        f"{host}/webdav/%2e%2e/outside/x.txt",
        f"{host}/webdav/alice/..%2f..%2foutside%2fx.txt",
        f"{host}/webdav/%2e%2e/%2e%2e/%2e%2e/x.txt",
        f"{host}/webdav/alice/out/x.txt",
        "/webdav/../outside/x.txt",
        "http://elsewhere.example/webdav/alice/x.txt",
    ):
        for method in ("COPY", "MOVE"):
            for who in ("ctl", "alice"):
                r = req(dav, who, method, "/alice/seed.txt", Destination=dest)
                assert r.status_code in (400, 403, 502), (method, who, dest, r.status_code)
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (files / "alice" / "seed.txt").read_text() == "seed of alice\n"
    assert not (dav.omq / "x.txt").exists() and not (dav.omq / "outside" / "x.txt").exists()


def test_bodies_are_bounded_and_an_unknown_callers_body_is_not_read(
    dav: Qorus, files: Path
) -> None:
    big = b"<?xml version='1.0'?>" + b" " * (8 * 1024 * 1024 + 10)
    r = req(dav, "ctl", "PROPFIND", "/", big, Depth="0")
    assert r.status_code == 413 and r.json()["err"] == "REQUEST-TOO-LARGE"
    r = req(dav, None, "PUT", "/alice/anon.txt", b"x" * 100000)
    assert r.status_code == 401 and r.headers.get("connection") == "close"
    assert not (files / "alice" / "anon.txt").exists()
    # an XML bomb in PROPFIND is not expanded
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<D:propfind xmlns:D="DAV:"><D:prop><D:x>&b;</D:x></D:prop></D:propfind>'
    )
    r = req(dav, "ctl", "PROPFIND", "/alice/", bomb, Depth="0")
    assert r.status_code in (400, 403, 415)
    # the server still answers
    assert req(dav, "ctl", "GET", "/alice/seed.txt").status_code == 200
