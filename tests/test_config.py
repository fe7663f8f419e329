"""Settings merge pip.conf files, PIP_*/PIPWISE_* variables and flags, remembering origins."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipwise.config import DEFAULT_INDEX_URL, config_files, load_settings
from pipwise.errors import DiagnosticError


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(tmp_path / "home"), "XDG_CONFIG_DIRS": str(tmp_path / "xdg"), **extra}


def test_defaults_without_any_configuration(tmp_path: Path) -> None:
    settings = load_settings({}, {"PIP_CONFIG_FILE": os.devnull})
    assert settings.index_urls == (DEFAULT_INDEX_URL,)
    assert settings.origins == {}


def test_devnull_config_file_disables_all_files(tmp_path: Path) -> None:
    assert config_files({"PIP_CONFIG_FILE": os.devnull}) == []


def test_files_then_env_then_cli(tmp_path: Path) -> None:
    user = tmp_path / "home" / ".config" / "pip" / "pip.conf"
    user.parent.mkdir(parents=True)
    user.write_text(
        "[global]\nindex-url = https://a.example/simple\n"
        "extra-index-url = file:///one file:///two\ntimeout = 7\n"
        "[install]\nfind-links = /wheels\n"
    )
    env = _env(tmp_path)
    settings = load_settings({}, env)
    assert settings.index_url == "https://a.example/simple"
    assert settings.extra_index_urls == ("file:///one", "file:///two")
    assert settings.find_links == ("/wheels",)
    assert settings.timeout == 7.0
    assert settings.origins["index_url"] == f"{user} [global]"
    assert settings.origins["find_links"] == f"{user} [install]"

    env["PIP_INDEX_URL"] = "https://b.example/simple"
    env["PIP_DEFAULT_TIMEOUT"] = "30"
    settings = load_settings({}, env)
    assert settings.index_url == "https://b.example/simple"
    assert settings.origins["index_url"] == "PIP_INDEX_URL"
    assert settings.timeout == 30.0

    env["PIPWISE_INDEX_URL"] = "https://c.example/simple"
    assert load_settings({}, env).index_url == "https://c.example/simple"

    settings = load_settings({"index_url": "https://d.example/simple", "no_index": True}, env)
    assert settings.origins["index_url"] == "--index-url"
    assert settings.index_urls == ()


def test_pip_config_file_overrides_user_file(tmp_path: Path) -> None:
    custom = tmp_path / "custom.conf"
    custom.write_text("[global]\nno-index = yes\n")
    settings = load_settings({}, _env(tmp_path, PIP_CONFIG_FILE=str(custom)))
    assert settings.no_index is True
    assert settings.origins["no_index"] == f"{custom} [global]"


def test_bad_value_names_where_it_was_set(tmp_path: Path) -> None:
    with pytest.raises(DiagnosticError) as caught:
        load_settings({}, _env(tmp_path, PIP_TIMEOUT="soon"))
    assert caught.value.code == "invalid-setting"
    assert "PIP_TIMEOUT" in caught.value.evidence[0]
    assert caught.value.exit_code == 2


def test_pip_cache_dir_is_not_ours(tmp_path: Path) -> None:
    env = _env(tmp_path, PIP_CACHE_DIR="/pip/cache")
    assert load_settings({}, env).cache_dir is None
    env["PIPWISE_CACHE_DIR"] = "/pipwise/cache"
    assert load_settings({}, env).cache_dir == "/pipwise/cache"


@pytest.mark.parametrize(
    ("cli", "env", "origin"),
    [
        ({}, {"PIP_TIMEOUT": "nan"}, "PIP_TIMEOUT"),
        ({}, {"PIP_DEFAULT_TIMEOUT": "inf"}, "PIP_DEFAULT_TIMEOUT"),
        ({}, {"PIPWISE_TIMEOUT": "0"}, "PIPWISE_TIMEOUT"),
        ({"timeout": -1.0}, {}, "--timeout"),
        ({"timeout": float("nan")}, {"PIP_TIMEOUT": "5"}, "--timeout"),
        ({"retries": -1}, {}, "--retries"),
        ({}, {"PIP_RETRIES": "-2"}, "PIP_RETRIES"),
    ],
)
def test_out_of_range_values_name_their_origin(
    tmp_path: Path, cli: dict[str, object], env: dict[str, str], origin: str
) -> None:
    with pytest.raises(DiagnosticError) as caught:
        load_settings(cli, _env(tmp_path, **env))
    err = caught.value
    assert (err.code, err.kind) == ("invalid-setting", "usage")
    assert err.evidence == (f"set in {origin}",)
    assert err.details["origin"] == origin
    assert err.fix is None


def test_a_valid_cli_value_overrides_an_invalid_file_value(tmp_path: Path) -> None:
    settings = load_settings({"timeout": 2.5, "retries": 0}, _env(tmp_path, PIP_TIMEOUT="-1"))
    assert (settings.timeout, settings.retries) == (2.5, 0)


def test_index_directories_become_file_urls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "simple").mkdir()
    (tmp_path / "extra").mkdir()
    monkeypatch.chdir(tmp_path)
    env = _env(tmp_path, PIP_EXTRA_INDEX_URL="extra https://x.example/simple")
    settings = load_settings({"index_url": "./simple"}, env)
    assert settings.index_url == (tmp_path / "simple").as_uri()
    assert settings.extra_index_urls == ((tmp_path / "extra").as_uri(), "https://x.example/simple")


def test_an_index_path_that_is_no_directory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DiagnosticError) as caught:
        load_settings({}, _env(tmp_path, PIP_INDEX_URL="./nowhere"))
    err = caught.value
    assert (err.code, err.kind) == ("invalid-index-url", "usage")
    assert "./nowhere" in err.cause
    assert "set in PIP_INDEX_URL" in err.evidence
    assert load_settings({"no_index": True}, _env(tmp_path, PIP_INDEX_URL="./nowhere")).no_index


def test_config_file_errors_carry_no_pretend_fix(tmp_path: Path) -> None:
    custom = tmp_path / "custom.conf"
    custom.write_text("not an ini file\n")
    with pytest.raises(DiagnosticError) as caught:
        load_settings({}, _env(tmp_path, PIP_CONFIG_FILE=str(custom)))
    assert (caught.value.code, caught.value.fix) == ("invalid-config-file", None)
