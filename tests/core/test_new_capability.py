"""A new capability is a descriptor and a record model: everything else follows from them.

This module adds `widgets` the way CONTRIBUTING says (a `Capability` descriptor and a `Record`
subclass, nothing else) and uses it end to end: a toy connector implements it, sync and async
calls (every page gathered, or streamed page by page) run against a real loopback server, the
CLI renders its table from the descriptor's columns and the JSON schema lists its record. It
also holds the general pagination rules (own origin only, no loops, bounded pages), since a
paged toy capability is the smallest place to show them.

The capability is defined inside a fixture and removed after: collection imports every test
module first, and the canonical schema snapshot must not see a test's capability.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, TypeAdapter
from rich.console import Console
from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from caudal import (
    CAPABILITIES,
    Call,
    Connector,
    ConnectorSettings,
    MappingError,
    Money,
    Operation,
    Registry,
    Reply,
    Request,
    Result,
    TransportError,
    capability,
)
from caudal.capabilities import Capability, Column, define, money_cell, undefine
from caudal.cli._render import render_outcome
from caudal.mapping import validate
from caudal.model import Record, json_schema
from caudal.sandbox import Emulator, Sandbox, serve


class Widget(Record):
    """The new capability's record."""

    widget_id: str
    price: Money


WIDGETS = Capability(
    name="widgets",
    record=Widget,
    doc="Widgets of the account holder.",
    parameters={"scenario": "which emulator answer to give"},
    columns=(
        Column("widget", lambda w: w.widget_id),
        Column("price", lambda w: money_cell(w.price), numeric=True),
    ),
    paged=True,
)

# -- the provider: pages of widgets, linked by absolute `next` URLs ------------------------------

PAGES = [
    [{"id": "001", "price": "10.10"}, {"id": "002", "price": "0.005"}],
    [{"id": "003", "price": "-7"}],
    [{"id": "004", "price": "12345678901234567890.123456789"}],
]
"""Prices as JSON strings on purpose: what the records must hold is written out below."""
EXPECTED = [
    ("001", Decimal("10.10")),
    ("002", Decimal("0.005")),
    ("003", Decimal("-7")),
    ("004", Decimal("12345678901234567890.123456789")),
]
requests_seen: list[str] = []
SLOW_PAGE = 0.4
FOREIGN = [""]
"""The other server's base URL, once it runs."""


async def widgets_page(request: HttpRequest) -> Response:
    """`?scenario=...&page=N`: page N of the scenario, its `next` an absolute link."""
    requests_seen.append(str(request.url))
    scenario = request.query_params.get("scenario", "ok")
    page = int(request.query_params.get("page", "1"))
    base = str(request.url.replace(query=""))
    following: str | None = f"{base}?scenario={scenario}&page={page + 1}"
    if scenario == "ok" and page >= len(PAGES):
        following = None
    elif scenario == "foreign":
        following = f"{FOREIGN[0]}/collect?page=2"
    elif scenario == "self":
        following = str(request.url)
    elif scenario == "cycle":
        following = f"{base}?scenario=cycle&page={1 if page == 2 else 2}"
    elif scenario == "relative" and page < len(PAGES):
        following = f"?scenario=relative&page={page + 1}"
    elif scenario == "relative":
        following = None
    elif scenario == "slow":  # six pages, each answered after SLOW_PAGE seconds
        await asyncio.sleep(SLOW_PAGE)
        following = following if page < 6 else None
    results = PAGES[(page - 1) % len(PAGES)]
    return JSONResponse({"next": following, "results": results})


foreign_hits: list[dict[str, str]] = []


async def collect(request: HttpRequest) -> Response:
    """Another origin: records what reached it (it must be nothing)."""
    foreign_hits.append(dict(request.headers))
    return JSONResponse({"next": None, "results": []})


class RawWidget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    price: Decimal


class RawPage(BaseModel):
    next: str | None
    results: list[RawWidget]


PAGE = TypeAdapter(RawPage)


class WidgetParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    scenario: str = "ok"


class WidgetSettings(ConnectorSettings):
    base_url: str = "http://127.0.0.1:9"
    password: str = "widget-secret"


def read_widgets(reply: Reply, call: Call[Any]) -> Result[Widget]:
    page = validate(PAGE, reply.body, call)
    items = tuple(
        Widget(widget_id=w.id, price=Money(amount=w.price, currency="BRL")) for w in page.results
    )
    references = {"next": page.next} if page.next else {}
    return Result[Widget](
        connector=call.connector, capability=call.capability, items=items, references=references
    )


def widget_connector() -> type[Connector]:
    """Built after `define`: `@capability` checks the name exists."""

    class WidgetConnector(Connector):
        name = "widget.test"
        settings_class = WidgetSettings

        def http_headers(self) -> dict[str, str]:
            return {"authorization": f"Secret {self.settings.password}"}  # type: ignore[attr-defined]

        @capability("widgets")
        def widgets_operation(self) -> Operation[WidgetParams]:
            return Operation(
                WidgetParams,
                request=lambda call: Request(
                    "GET",
                    "/widgets",
                    params={"scenario": call.params.scenario},  # type: ignore[union-attr]
                ),
                read=read_widgets,
                next_page=lambda result, call: result.references.get("next"),
            )

    return WidgetConnector


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Sandbox, Sandbox]]:
    foreign_app = Emulator(name="widgets", routes=[Route("/collect", collect)], settings={})
    with serve([foreign_app]) as foreign:
        emulator = Emulator(
            name="widgets",
            routes=[Route("/widgets", widgets_page)],
            settings={"widget.test": {}},
        )
        with serve([emulator]) as sandbox:
            yield sandbox, foreign


@pytest.fixture
def conn(servers: tuple[Sandbox, Sandbox]) -> Iterator[Connector]:
    sandbox, foreign = servers
    define(WIDGETS)
    try:
        connector = sandbox.connect("widget.test", registry=Registry.of(widget_connector()))
        FOREIGN[0] = f"{foreign.url}/widgets"  # same path, another origin
        requests_seen.clear()
        foreign_hits.clear()
        yield connector
        connector.close()
    finally:
        undefine("widgets")


def test_the_descriptor_makes_a_capability(conn: Connector) -> None:
    assert CAPABILITIES["widgets"] is Widget
    assert conn.capabilities == frozenset({"widgets"})
    assert hasattr(conn, "widgets") and hasattr(conn, "awidgets")
    assert hasattr(conn, "iter_widgets") and hasattr(conn, "aiter_widgets")
    schema = json_schema()["$defs"]
    assert "Widget" in schema and "Result_Widget_" in schema  # type: ignore[operator]
    assert schema["Widget"]["properties"]["widget_id"]["type"] == "string"  # type: ignore[index]


def test_removed_again_after_use() -> None:
    assert "widgets" not in CAPABILITIES
    assert "Widget" not in json_schema()["$defs"]  # type: ignore[operator]


def _seen(result: Any) -> list[tuple[str, Decimal]]:
    return [(w.widget_id, w.price.amount) for w in result]


def test_a_sync_call_gathers_every_page(conn: Connector) -> None:
    result = conn.widgets()
    assert _seen(result) == EXPECTED
    assert [str(w.price.amount) for w in result][3] == "12345678901234567890.123456789"
    assert len(requests_seen) == 3
    assert result.references == {}  # a page's own next link is not the whole answer's


def test_an_async_call_gathers_every_page(conn: Connector) -> None:
    async def run() -> Any:
        try:
            return await conn.awidgets()
        finally:
            await conn.aclose()

    assert _seen(asyncio.run(run())) == EXPECTED


def test_relative_next_links_are_followed(conn: Connector) -> None:
    assert _seen(conn.widgets(scenario="relative")) == EXPECTED


def test_streaming_fetches_a_page_only_when_asked(conn: Connector) -> None:
    stream = conn.iter_widgets()
    first = next(stream)
    assert first.widget_id == "001"
    assert len(requests_seen) == 1
    rest = list(stream)
    assert [w.widget_id for w in rest] == ["002", "003", "004"]
    assert len(requests_seen) == 3


def test_async_streaming(conn: Connector) -> None:
    async def run() -> list[str]:
        try:
            return [w.widget_id async for w in conn.aiter_widgets()]
        finally:
            await conn.aclose()

    assert asyncio.run(run()) == ["001", "002", "003", "004"]


def test_pages_are_results(conn: Connector) -> None:
    sizes = [len(page) for page in conn.pages("widgets")]
    assert sizes == [2, 1, 1]


def test_a_foreign_next_link_is_refused_and_never_contacted(conn: Connector) -> None:
    with pytest.raises(MappingError, match="outside the connector's base URL") as caught:
        conn.widgets(scenario="foreign")
    assert caught.value.connector == "widget.test" and caught.value.capability == "widgets"
    assert foreign_hits == []
    assert "widget-secret" not in str(caught.value)


def test_a_page_that_links_to_itself_is_an_error_not_a_hang(conn: Connector) -> None:
    with pytest.raises(MappingError, match="repeats an earlier page"):
        conn.widgets(scenario="self")
    assert len(requests_seen) == 1


def test_a_cycle_is_an_error_not_a_hang(conn: Connector) -> None:
    with pytest.raises(MappingError, match="repeats an earlier page"):
        conn.widgets(scenario="cycle")
    # The first URL (no page), page 2, page 1; page 1 links back to page 2: stop there.
    assert [u.rsplit("?", 1)[1] for u in requests_seen] == [
        "scenario=cycle",
        "scenario=cycle&page=2",
        "scenario=cycle&page=1",
    ]


def test_pages_past_max_pages_are_an_error_never_a_truncation(
    servers: tuple[Sandbox, Sandbox],
) -> None:
    sandbox, _ = servers
    define(WIDGETS)
    try:
        registry = Registry.of(widget_connector())
        with sandbox.connect("widget.test", registry=registry, max_pages=2) as two:
            with pytest.raises(TransportError, match="more than 2 pages"):
                two.widgets()
            streamed: list[str] = []
            stream = two.iter_widgets()
            streamed += [next(stream).widget_id, next(stream).widget_id]
            with pytest.raises(TransportError):
                next(stream)
            assert streamed == ["001", "002"]  # the pages before the limit, then the error
        with sandbox.connect("widget.test", registry=registry, max_pages=3) as three:
            assert len(three.widgets()) == 4
        many = sandbox.connect("widget.test", registry=registry, max_pages=1000)
        with many, pytest.raises(MappingError):  # an endless provider: stopped by the check
            many.widgets(scenario="self")
    finally:
        undefine("widgets")


def test_the_cli_table_comes_from_the_descriptor(conn: Connector) -> None:
    out = io.StringIO()
    render_outcome(Console(file=out, width=200, color_system=None), conn.widgets())
    text = out.getvalue()
    header = next(line for line in text.splitlines() if "widget" in line and "price" in line)
    assert header.split() == ["┃", "connector", "┃", "widget", "┃", "price", "┃"]
    assert "│ widget.test │ 004    │ 12345678901234567890.123456789 BRL │" in text


@pytest.mark.parametrize("name", ["Widgets", "class", "_widgets", "wid gets", ""])
def test_a_descriptor_needs_a_usable_name(name: str) -> None:
    with pytest.raises(ValueError, match="capability"):
        Capability(name=name, record=Widget, doc="Widgets.")


def test_a_descriptor_needs_a_one_line_doc_and_a_record() -> None:
    with pytest.raises(ValueError, match="one-line doc"):
        Capability(name="widgets", record=Widget, doc="Widgets.\nMore.")
    with pytest.raises(TypeError, match="subclass Record"):
        Capability(name="widgets", record=RawWidget, doc="Widgets.")  # type: ignore[type-var]


def test_a_name_is_defined_once_and_caudals_own_stay() -> None:
    with pytest.raises(ValueError, match="already defined"):
        define(Capability(name="balance", record=Widget, doc="Twice."))
    with pytest.raises(ValueError, match="already defined"):
        define(Capability(name="define", record=Widget, doc="Clashes with this module."))
    with pytest.raises(ValueError, match="caudal's own"):
        undefine("transactions")
    with pytest.raises(ValueError, match="unknown capability"):
        capability("widgets")  # not defined outside the fixture


def test_a_gathered_call_has_one_deadline_for_all_its_pages(
    servers: tuple[Sandbox, Sandbox],
) -> None:
    """Six pages of 0.4 s each with a 1.5 s deadline: a call that gathers them must end near its
    deadline (not at 6 x 0.4 s, each page on a fresh deadline); a stream gives each page its own
    deadline, since the caller decides how long it spends between pages."""
    sandbox, _ = servers
    define(WIDGETS)
    try:
        registry = Registry.of(widget_connector())
        with sandbox.connect("widget.test", registry=registry, deadline=1.5) as conn:
            started = time.monotonic()
            with pytest.raises(TransportError, match="deadline") as caught:
                conn.widgets(scenario="slow")
            assert time.monotonic() - started < 1.5 + 1.0
            assert caught.value.__context__ is None and caught.value.__cause__ is None
            assert len(list(conn.iter_widgets(scenario="slow"))) == 8  # 2 + 1 + 1, twice

        async def gathered() -> None:
            async with sandbox.connect("widget.test", registry=registry, deadline=1.5) as conn:
                await conn.awidgets(scenario="slow")

        started = time.monotonic()
        with pytest.raises(TransportError, match="deadline"):
            asyncio.run(gathered())
        assert time.monotonic() - started < 1.5 + 1.0
    finally:
        undefine("widgets")


def test_a_streamed_error_leaves_no_chain(servers: tuple[Sandbox, Sandbox]) -> None:
    """An error raised while a stream is iterated leaves caudal as any call's does: without the
    exception being handled when it arose (httpx's, holding the request and its headers)."""
    sandbox, _ = servers
    define(WIDGETS)
    try:
        registry = Registry.of(widget_connector())
        with sandbox.connect("widget.test", registry=registry, deadline=0.2) as conn:
            with pytest.raises(TransportError) as caught:
                list(conn.iter_widgets(scenario="slow"))
            assert caught.value.__context__ is None and caught.value.__cause__ is None
    finally:
        undefine("widgets")
