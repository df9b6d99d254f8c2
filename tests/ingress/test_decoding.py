"""``response_type=`` decodes results into ordinary Python types, or says clearly why it cannot
(issue #10, defect 10). Every test runs with pydantic's TypeAdapter and with the fallback
decoder used when pydantic is not installed (forced by the ``decoder`` fixture)."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from decimal import Decimal
from typing import Any, Literal, Optional

import pytest

from restate_web.ingress import _serde
from tests.restate_services import Order, Person


@dataclasses.dataclass
class Line:
    sku: str
    quantity: int
    note: str | None = None


@dataclasses.dataclass
class Invoice:
    number: int
    issued: datetime.date
    lines: list[Line]
    tags: tuple[str, ...] = ()


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@pytest.fixture(params=["pydantic", "fallback"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "fallback":
        monkeypatch.setattr(_serde, "_pydantic_type_adapter", lambda: None)
    return str(request.param)


@pytest.mark.parametrize(
    ("sent", "response_type", "expected"),
    [
        ([7, "seven"], tuple[int, str], (7, "seven")),
        ("2024-02-29", datetime.date, datetime.date(2024, 2, 29)),
        (
            "2024-02-29T10:30:00+00:00",
            datetime.datetime,
            datetime.datetime(2024, 2, 29, 10, 30, tzinfo=datetime.timezone.utc),
        ),
        ([{"name": "ada", "age": 36}], list[Person], [Person("ada", 36)]),
        ({"a": [1, 2]}, dict[str, list[int]], {"a": [1, 2]}),
        ([1, None], list[Optional[int]], [1, None]),  # noqa: UP045 - typing.Optional on purpose
        ([1, None], list[int | None], [1, None]),
        ("blue", Colour, Colour.BLUE),
        ("blue", Literal["red", "blue"], "blue"),
        ("12.50", Decimal, Decimal("12.50")),
        (str(uuid.UUID(int=5)), uuid.UUID, uuid.UUID(int=5)),
        ([1, 2, 2], set[int], {1, 2}),
        (3, float, 3.0),
        (
            {
                "number": 1,
                "issued": "2024-01-02",
                "lines": [{"sku": "a", "quantity": 2}],
                "tags": ["x"],
            },
            Invoice,
            Invoice(1, datetime.date(2024, 1, 2), [Line("a", 2)], ("x",)),
        ),
        ({"id": "o1", "amount": 3}, Order, Order(id="o1", amount=3)),
        ({"whatever": 1}, Any, {"whatever": 1}),
    ],
    ids=lambda v: getattr(v, "__name__", None) or str(v)[:30],
)
def test_results_decode_into_ordinary_types(restate, decoder, sent, response_type, expected):
    assert restate.service("Greeter").call("echo", sent, response_type=response_type) == expected


def test_a_dataclass_missing_a_field_names_the_field(restate, decoder):
    with pytest.raises(ValueError) as caught:
        restate.service("Greeter").call("echo", {"name": "ada"}, response_type=Person)
    message = str(caught.value)
    assert "age" in message and "call Greeter/echo" in message


def test_a_nested_wrong_type_names_where(restate, decoder):
    value = {"number": 1, "issued": "2024-01-02", "lines": [{"sku": "a", "quantity": "many"}]}
    with pytest.raises(ValueError) as caught:
        restate.service("Greeter").call("echo", value, response_type=Invoice)
    assert "lines" in str(caught.value) and "quantity" in str(caught.value)


def test_a_tuple_of_the_wrong_length_is_refused(restate, decoder):
    with pytest.raises(ValueError, match="tuple"):
        restate.service("Greeter").call("echo", [1, "a", "extra"], response_type=tuple[int, str])


def test_a_non_json_result_with_a_structured_type_is_an_error_not_bytes(restate, decoder):
    with pytest.raises(ValueError, match="not JSON") as caught:
        restate.service("Greeter").call("echoBytes", b'{"name": "x"}', response_type=Person)
    assert "response_type=bytes" in str(caught.value)


def test_raw_results_stay_available_as_bytes_and_text(restate, decoder):
    greeter = restate.service("Greeter")
    assert greeter.call("echoBytes", b"caf\xc3\xa9") == b"caf\xc3\xa9"
    assert greeter.call("echoBytes", b"caf\xc3\xa9", response_type=bytes) == b"caf\xc3\xa9"
    assert greeter.call("echoBytes", b"caf\xc3\xa9", response_type=str) == "caf\u00e9"


def test_a_json_string_decodes_as_str(restate, decoder):
    assert restate.service("Greeter").call("echo", "plain", response_type=str) == "plain"
    with pytest.raises(ValueError):
        restate.service("Greeter").call("echo", 5, response_type=str)


def test_attach_and_output_decode_the_same_way(restate, decoder):
    key = "decode-" + uuid.uuid4().hex
    greeter = restate.service("Greeter")
    greeter.call("echo", ["2024-03-01"], idempotency_key=key)
    assert greeter.output("echo", idempotency_key=key, response_type=list[datetime.date]) == [
        datetime.date(2024, 3, 1)
    ]
