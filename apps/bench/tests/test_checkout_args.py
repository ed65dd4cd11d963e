"""bench-checkout's arguments: a bad value stops it with a message naming the option, before it starts any
process or writes a report."""

from __future__ import annotations

import pytest

from apps.bench import checkout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--peak-rate", "0"], "--peak-rate: must be greater than 0, got 0"),
        (["--clients", "-3"], "--clients: must be greater than 0, got -3"),
        (["--steady-s", "-1.5"], "--steady-s: must be greater than 0, got -1.5"),
        (["--background-nice", "20"], "--background-nice: must be a nice increment from 0 to 19, got 20"),
        (["--background-nice", "-1"], "--background-nice: must be a nice increment from 0 to 19, got -1"),
        (["--products", "many"], "--products: invalid int value: 'many'"),
    ],
)
def test_bad_arguments_stop_before_anything_starts(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkout, "REPORT", None)  # writing a report would fail loudly
    monkeypatch.setattr(checkout, "LocalDeps", None)  # so would starting the platform
    with pytest.raises(SystemExit) as exit_info:
        checkout.main(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_equal_shares_is_a_valid_nice() -> None:
    assert checkout.nice("0") == 0
    assert checkout.positive(float)("330") == 330.0
