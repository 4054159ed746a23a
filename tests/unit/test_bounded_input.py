"""Size limits of structured input: YAML aliases counted unexpanded, JSON and XML nesting and
values, XML without entities; the oload reader and the request body codec."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
import yaml

from qorus_core.bounded import LimitError, Limits, check_tree, load_yaml
from qorus_core.loader import yamlload
from qorus_core.loader.yamlload import YamlError, YamlLimitError, parse_file, parse_text
from qorus_core.model.errors import OptionError, ValidationError
from qorus_core.options import lookup
from qorus_core.options.values import check_value
from qorus_server.api.wfcommon import as_hash
from qorus_server.http import codec, xmlbody
from qorus_server.http.accesslog import mask_target

LIM = Limits(max_nodes=10_000, max_depth=20, max_text=100_000)


def alias_bomb(levels: int = 10, width: int = 9, indent: str = "") -> str:
    """``levels`` anchors each naming ``width`` copies of the one before: width**levels nodes."""
    items = ", ".join(["x"] * width)
    lines = [f"{indent}a0: &a0 [{items}]"]
    for i in range(1, levels + 1):
        lines.append(f"{indent}a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_without_expanding_it() -> None:
    text = alias_bomb()
    assert len(text) < 700
    tracemalloc.start()
    try:
        with pytest.raises(LimitError) as exc:
            load_yaml(text, LIM)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024  # nine to the tenth nodes would be hundreds of GB
    err = exc.value
    assert err.http_status == 400 and err.code == "INVALID-ARGUMENT"
    assert "more than 10000 nodes once its aliases are expanded" in err.desc
    assert err.line == 5  # a4 is the first anchor over 10,000 nodes (9**5)


def test_aliases_within_the_limits_load_as_safe_load_does() -> None:
    text = "a: &x {b: [1, 2], c: &s text}\nd: *x\ne: [*x, *s]\n"
    assert load_yaml(text, LIM) == yaml.safe_load(text)
    assert load_yaml(alias_bomb(levels=3), LIM) == yaml.safe_load(alias_bomb(levels=3))
    assert load_yaml("", LIM) is None
    # the count is exact: a list of n scalars is n + 1 nodes
    items = "[" + ", ".join(["1"] * 99) + "]"
    assert load_yaml(items, Limits(100, 5, 1000)) == [1] * 99
    with pytest.raises(LimitError):
        load_yaml(items, Limits(99, 5, 1000))


def test_long_scalar_repeated_by_aliases_is_refused() -> None:
    text = "s: &s " + "x" * 1000 + "\nl: [" + ", ".join(["*s"] * 200) + "]\n"
    with pytest.raises(LimitError) as exc:
        load_yaml(text, LIM)
    assert "characters of text" in exc.value.desc and exc.value.line == 2


def test_recursive_alias_and_deep_nesting_are_refused() -> None:
    with pytest.raises(LimitError) as exc:
        load_yaml("a: &a [1, *a]\n", LIM)
    assert "recursive" in exc.value.desc and (exc.value.line, exc.value.column) == (1, 11)
    with pytest.raises(LimitError) as exc:
        load_yaml("[" * 21 + "]" * 21, LIM)
    assert "nested more than 20 levels" in exc.value.desc
    assert load_yaml("[" * 20 + "]" * 20, LIM) is not None
    # far deeper than Python's recursion limit: still a clear error
    with pytest.raises(LimitError):
        load_yaml("[" * 5000 + "]" * 5000, LIM)


def test_bad_yaml_is_still_a_yaml_error() -> None:
    with pytest.raises(yaml.YAMLError):
        load_yaml("a: [unclosed\n", LIM)
    with pytest.raises(yaml.YAMLError):
        load_yaml("a: *undefined\n", LIM)


def test_check_tree_counts_keys_elements_and_depth() -> None:
    value = {"a": [1, 2, {"b": None}]}  # 3 containers deep, 8 nodes with the keys
    check_tree(value, Limits(8, 3, 0))
    with pytest.raises(LimitError, match="more than 7 nodes"):
        check_tree(value, Limits(7, 3, 0))
    with pytest.raises(LimitError, match="nested more than 2 levels"):
        check_tree(value, Limits(100, 2, 0))
    check_tree("scalar", Limits(1, 1, 0))
    # YAML counts the same way
    assert load_yaml("a: [1, 2, {b: null}]", Limits(8, 3, 100)) == value
    with pytest.raises(LimitError):
        load_yaml("a: [1, 2, {b: null}]", Limits(100, 2, 100))
    with pytest.raises(LimitError):
        load_yaml("a: [1, 2, {b: null}]", Limits(7, 3, 100))


def test_oload_reader_refuses_a_bomb_with_its_line(tmp_path: Path) -> None:
    text = "type: step\nname: Bomb\ntags:\n" + alias_bomb(indent="  ")
    with pytest.raises(YamlLimitError) as exc:
        parse_text(text, tmp_path / "bomb.yaml")
    assert exc.value.line is not None and exc.value.line > 3
    assert "aliases are expanded" in exc.value.message
    assert isinstance(exc.value, YamlError)  # oload reports it as any file problem
    # a normal file keeps its marks, aliases included
    doc = parse_text("a: &x [1, 2]\nb: *x\n", tmp_path / "ok.yaml")
    assert doc.data == {"a": [1, 2], "b": [1, 2]} and doc.mark("b") == (1, 4)


def test_oload_reader_refuses_an_oversized_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlload, "MAX_FILE_SIZE", 100)
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 200 + "\n")
    with pytest.raises(YamlLimitError, match="the most oload reads is 100"):
        parse_file(big)


def _decode(ctype: str, body: str | bytes, limits: Limits = LIM) -> object:
    raw = body.encode() if isinstance(body, str) else body
    return codec.decode_body(ctype, raw, limits)


def test_codec_yaml_body_limits() -> None:
    with pytest.raises(ValidationError) as exc:
        _decode("application/x-yaml", alias_bomb())
    assert exc.value.http_status == 400
    assert "application/x-yaml request body is refused" in exc.value.desc
    assert "(line 5," in exc.value.desc
    assert _decode("text/x-yaml", "a: &x [1]\nb: *x\n") == {"a": [1], "b": [1]}


def test_codec_json_body_limits() -> None:
    assert _decode("application/json", '{"a": [1, 2]}') == {"a": [1, 2]}
    assert _decode("application/json", '{"a": ' + "[" * 19 + "]" * 19 + "}")
    deep = '{"a": ' + "[" * 20 + "]" * 20 + "}"
    with pytest.raises(LimitError, match="nested more than 20 levels"):
        _decode("application/json", deep)
    with pytest.raises(LimitError, match="nested more than 20 levels"):
        _decode("application/json", "[" * 100_000 + "]" * 100_000)  # past the C parser's limit
    wide = json.dumps({"a": [0] * 20_000})
    with pytest.raises(LimitError, match="more than 10000 nodes"):
        _decode("application/json", wide)
    # curl -d sends a form type; a JSON text in it gets the same limits
    with pytest.raises(LimitError):
        _decode("application/x-www-form-urlencoded", wide)
    with pytest.raises(ValidationError):
        _decode("application/x-www-form-urlencoded", "&".join(f"k{i}=1" for i in range(20_000)))


XML_HEAD = '<?xml version="1.0"?>'


def _xml_call(value: str) -> str:
    return (
        f"{XML_HEAD}<methodCall><methodName>m</methodName><params><param>"
        f"<value>{value}</value></param></params></methodCall>"
    )


def test_codec_xml_body_without_entities() -> None:
    ok = _xml_call("<struct><member><name>a</name><value><int>1</int></value></member></struct>")
    assert _decode("text/xml", ok) == {"a": 1}
    laughs = (
        f'{XML_HEAD}<!DOCTYPE l [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        + _xml_call("<string>&b;</string>").removeprefix(XML_HEAD)
    )
    with pytest.raises(LimitError, match="DOCTYPE") as exc:
        _decode("text/xml", laughs)
    assert exc.value.http_status == 400
    external = f'{XML_HEAD}<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + _xml_call(
        "<string>&e;</string>"
    ).removeprefix(XML_HEAD)
    with pytest.raises(LimitError, match="DOCTYPE") as exc:
        _decode("text/xml", external)
    assert "root:" not in exc.value.desc
    with pytest.raises(xmlbody.DoctypeError):
        xmlbody.loads(f"{XML_HEAD}<!DOCTYPE methodCall><methodCall/>", LIM)


def test_codec_xml_body_depth_and_values() -> None:
    def nested(n: int) -> str:
        return "<array><data><value>" * n + "<int>1</int>" + "</value></data></array>" * n

    assert _decode("text/xml", _xml_call(nested(20))) is not None
    with pytest.raises(LimitError, match="nested more than 20"):
        _decode("text/xml", _xml_call(nested(21)))
    many = "<array><data>" + "<value><int>1</int></value>" * 20_000 + "</data></array>"
    with pytest.raises(LimitError, match="more than 10000 values"):
        _decode("text/xml", _xml_call(many))
    with pytest.raises(ValidationError, match="cannot parse"):
        _decode("text/xml", "<methodCall><params>")


def test_access_log_masks_credentials_in_the_query() -> None:
    assert mask_target("/api/public/login?user=u&pass=s3cret") == (
        "/api/public/login?user=********&pass=********"
    )
    assert mask_target("/api/latest/orders?x=1;password=p;Qorus-Token=t;svalue=v") == (
        "/api/latest/orders?x=1;password=********;Qorus-Token=********;svalue=********"
    )
    assert (
        mask_target("/api/latest/orders?ids=1,2&p%61ss=x")
        == "/api/latest/orders?ids=1,2&p%61ss=********"
    )
    assert mask_target("/api/latest/system/ping") == "/api/latest/system/ping"


def flow_bomb() -> str:
    """The alias bomb as one flow mapping, as an argument or an option value is written."""
    parts = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 11):
        parts.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "{" + ", ".join(parts) + "}"


def test_yaml_text_in_arguments_and_option_values_is_bounded() -> None:
    with pytest.raises(ValidationError) as exc:
        as_hash(flow_bomb(), "staticdata")
    assert exc.value.http_status == 400 and "staticdata is refused" in exc.value.desc
    assert as_hash("{a: &x [1], b: *x}", "staticdata") == {"a": [1], "b": [1]}
    with pytest.raises(OptionError, match=r"qorus\.defines: the value is refused"):
        check_value(lookup("defines"), flow_bomb())
    assert check_value(lookup("defines"), "{a: &x [1], b: *x}") == {"a": [1], "b": [1]}
