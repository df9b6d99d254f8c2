"""Every rule: the snippets it must report, and the ones it must leave alone."""

from __future__ import annotations

import pytest

from restate_web.lint import RULES, lint_source

from .cases import HEADER, NEGATIVE, POSITIVE


def _source(snippet: str) -> str:
    if snippet.startswith("#!no-header"):
        return snippet
    return HEADER + snippet


def _params(table: dict[str, dict[str, str]]) -> list[object]:
    return [
        pytest.param(code, snippet, id=f"{code}-{name}")
        for code, cases in table.items()
        for name, snippet in cases.items()
    ]


@pytest.mark.parametrize(("code", "snippet"), _params(POSITIVE))
def test_positive_case_is_reported(code: str, snippet: str) -> None:
    findings = lint_source(_source(snippet), "case.py")
    assert code in {f.code for f in findings}, findings


@pytest.mark.parametrize(("code", "snippet"), _params(NEGATIVE))
def test_negative_case_is_silent(code: str, snippet: str) -> None:
    findings = lint_source(_source(snippet), "case.py")
    assert findings == [], findings


def test_every_rule_has_at_least_four_cases_each_way() -> None:
    for rule in RULES:
        assert len(POSITIVE.get(rule.code, {})) >= 4, rule.code
        assert len(NEGATIVE.get(rule.code, {})) >= 4, rule.code
