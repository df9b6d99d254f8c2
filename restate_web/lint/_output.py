"""The output formats: text (ruff/flake8 style), json, sarif (2.1.0) and github annotations."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from ._checker import Finding
from ._rules import RULES

FORMATS = ("text", "json", "sarif", "github")


def render(findings: Sequence[Finding], fmt: str, version: str) -> str:
    if fmt == "json":
        return json.dumps([_as_json(finding) for finding in findings], indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(_sarif(findings, version), indent=2) + "\n"
    if fmt == "github":
        return "".join(_github(finding) + "\n" for finding in findings)
    return "".join(
        f"{finding.path}:{finding.line}:{finding.col}: {finding.code} {finding.message}\n"
        for finding in findings
    )


def _as_json(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "path": finding.path,
        "line": finding.line,
        "col": finding.col,
        "code": finding.code,
        "message": finding.message,
    }
    if finding.chain:
        data["chain"] = list(finding.chain)
    return data


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github(finding: Finding) -> str:
    return (
        f"::error file={_escape_property(_uri(finding.path))},line={finding.line},"
        f"col={finding.col},title={_escape_property(finding.code)}::"
        f"{_escape_data(finding.code + ' ' + finding.message)}"
    )


def _uri(path: str) -> str:
    relative = os.path.relpath(path) if os.path.isabs(path) else path
    return relative.replace(os.sep, "/").removeprefix("./")


def _sarif(findings: Sequence[Finding], version: str) -> dict[str, Any]:
    index = {rule.code: number for number, rule in enumerate(RULES)}
    rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.why},
            "help": {
                "text": f"{rule.why} Fix: {rule.fix}.",
                "markdown": f"{rule.why}\n\nFix: {rule.fix}.",
            },
            "defaultConfiguration": {"level": "error"},
        }
        for rule in RULES
    ]
    results = []
    for finding in findings:
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "ruleIndex": index[finding.code],
            "level": "error",
            "message": {"text": finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(finding.path)},
                        "region": {"startLine": finding.line, "startColumn": finding.col},
                    }
                }
            ],
        }
        if finding.chain:
            result["properties"] = {"chain": list(finding.chain)}
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "restate-web lint",
                        "version": version,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
