"""The user config: defaults without a file, errors with file:line, settings saved in place."""

from pathlib import Path

import pytest

from workbench.config.user import UserConfig, load_config, save_setting
from workbench.errors import ConfigError


def test_no_file_means_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "config.toml")
    assert (config.theme, config.save_before_build, config.keymap) == ("textual-dark", "save", {})
    assert not (tmp_path / "config.toml").exists(), "reading creates nothing"


def test_settings_and_keymap_are_read(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text(
        'theme = "nord"\nsave-before-build = "ask"\ncursor-blink = false\n\n'
        '[keymap]\nrun = "ctrl+r"\n'
    )
    config = load_config(file)
    assert (config.theme, config.save_before_build, config.cursor_blink) == ("nord", "ask", False)
    assert config.keymap == {"run": "ctrl+r"}


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("theme = 3\n", "config.toml:1: `theme` must be a string"),
        ('\nsave-before-build = "never"\n', "config.toml:2: `save-before-build` must be one of"),
        ("[keymap]\nrun = 5\n", "config.toml:1: `keymap` must map names to strings"),
        ("theme = \n", "is not valid TOML"),
    ],
)
def test_bad_settings_name_file_and_line(tmp_path: Path, text: str, phrase: str) -> None:
    file = tmp_path / "config.toml"
    file.write_text(text)
    with pytest.raises(ConfigError, match=None) as caught:
        load_config(file)
    assert phrase in str(caught.value)


def test_saving_a_setting_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    file = tmp_path / "sub" / "config.toml"
    save_setting(UserConfig(path=file), "theme", "nord")
    assert file.read_text() == 'theme = "nord"\n'
    file.write_text('# mine\ntheme = "nord"\n\n[keymap]\ntheme = "x"\n')
    save_setting(UserConfig(path=file), "theme", "gruvbox")
    assert file.read_text() == '# mine\ntheme = "gruvbox"\n\n[keymap]\ntheme = "x"\n'
