"""Per-request DataLoaders, one per relation: N parents cost one query, not N.

Each batch function calls a `db.queries` function; no SQL lives here.
"""

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import TypeVar

from aiodataloader import DataLoader as _DataLoader

from db.database import Database
from db.keyset import Page, PageRequest
from db.queries import access, analyses, audit, events, leads, messages, sales, stage_changes
from db.queries import outcomes as outcome_rows
from db.queries import webhooks as webhook_rows
from db.records import (
    AnalysisRecord,
    ApiKeyRecord,
    AuditRecord,
    EventRecord,
    LeadMessageRecord,
    LeadRecord,
    OutcomeRecord,
    SaleRecord,
    StageChangeRecord,
    UserRecord,
    WebhookDeliveryRecord,
    WebhookRecord,
)

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")

PageKey = tuple[int, PageRequest]


class DataLoader(_DataLoader[K, V]):
    """A loader whose cached results survive a cancelled reader.

    When one field fails, graphql-core cancels its sibling fields; a sibling waiting on
    a cached result would otherwise cancel that shared future, and every other field
    waiting on the same key would fail with CancelledError instead of its data.
    """

    def load(self, key: K) -> "asyncio.Future[V]":
        return asyncio.shield(super().load(key))


class Loaders:
    """Created per request; each loader is built on first use, so a request pays only for
    the relations it actually selects."""

    def __init__(self, db: Database, tenant_id: int) -> None:
        self._db = db
        self._tenant_id = tenant_id

    @cached_property
    def lead_by_id(self) -> DataLoader[int, LeadRecord | None]:
        return DataLoader(self._leads)

    @cached_property
    def sale_by_id(self) -> DataLoader[int, SaleRecord | None]:
        return DataLoader(self._sales)

    @cached_property
    def analysis_by_id(self) -> DataLoader[int, AnalysisRecord | None]:
        return DataLoader(self._analyses)

    @cached_property
    def message_by_id(self) -> DataLoader[int, LeadMessageRecord | None]:
        return DataLoader(self._messages)

    @cached_property
    def user_by_id(self) -> DataLoader[int, UserRecord | None]:
        return DataLoader(self._users)

    @cached_property
    def api_key_by_id(self) -> DataLoader[int, ApiKeyRecord | None]:
        return DataLoader(self._api_keys)

    @cached_property
    def audit_entry_by_id(self) -> DataLoader[int, AuditRecord | None]:
        return DataLoader(self._audit_entries)

    @cached_property
    def event_by_id(self) -> DataLoader[int, EventRecord | None]:
        return DataLoader(self._events)

    @cached_property
    def webhook_by_id(self) -> DataLoader[int, WebhookRecord | None]:
        return DataLoader(self._webhooks)

    @cached_property
    def webhook_delivery_by_id(self) -> DataLoader[int, WebhookDeliveryRecord | None]:
        return DataLoader(self._webhook_deliveries)

    @cached_property
    def sale_by_lead(self) -> DataLoader[int, SaleRecord | None]:
        return DataLoader(self._sales_by_lead)

    @cached_property
    def outcome_by_lead(self) -> DataLoader[int, OutcomeRecord | None]:
        return DataLoader(self._outcomes_by_lead)

    @cached_property
    def analyses_by_outcome(self) -> DataLoader[int, list[AnalysisRecord]]:
        return DataLoader(self._analyses_by_outcome)

    @cached_property
    def stage_history_by_lead(self) -> DataLoader[int, list[StageChangeRecord]]:
        return DataLoader(self._stage_history_by_lead)

    @cached_property
    def stage_history_by_sale(self) -> DataLoader[int, list[StageChangeRecord]]:
        return DataLoader(self._stage_history_by_sale)

    @cached_property
    def analyses_page_by_lead(self) -> DataLoader[PageKey, Page[AnalysisRecord]]:
        return DataLoader(self._analyses_pages)

    @cached_property
    def messages_page_by_lead(self) -> DataLoader[PageKey, Page[LeadMessageRecord]]:
        return DataLoader(self._messages_pages)

    async def _leads(self, ids: list[int]) -> list[LeadRecord | None]:
        async with self._db.read() as conn:
            rows = await leads.get_many(conn, tenant_id=self._tenant_id, lead_ids=ids)
        return _in_key_order(ids, {r.id: r for r in rows})

    async def _sales(self, ids: list[int]) -> list[SaleRecord | None]:
        async with self._db.read() as conn:
            rows = await sales.get_many(conn, tenant_id=self._tenant_id, sale_ids=ids)
        return _in_key_order(ids, {r.id: r for r in rows})

    async def _analyses(self, ids: list[int]) -> list[AnalysisRecord | None]:
        async with self._db.read() as conn:
            rows = await analyses.get_many(conn, tenant_id=self._tenant_id, analysis_ids=ids)
        return _in_key_order(ids, {r.id: r for r in rows})

    async def _messages(self, ids: list[int]) -> list[LeadMessageRecord | None]:
        async with self._db.read() as conn:
            rows = await messages.get_many(conn, tenant_id=self._tenant_id, message_ids=ids)
        return _in_key_order(ids, {r.id: r for r in rows})

    async def _users(self, ids: list[int]) -> list[UserRecord | None]:
        async with self._db.read() as conn:
            rows = await access.get_users(conn, tenant_id=self._tenant_id, user_ids=ids)
        return _in_key_order(ids, {r.id: r for r in rows})

    async def _api_keys(self, ids: list[int]) -> list[ApiKeyRecord | None]:
        async with self._db.read() as conn:
            rows = await access.get_api_keys(conn, tenant_id=self._tenant_id, key_ids=ids)
        return _in_key_order(ids, {r.id: r for r in rows})

    async def _audit_entries(self, ids: list[int]) -> list[AuditRecord | None]:
        async with self._db.read() as conn:
            rows = await audit.get_many(conn, tenant_id=self._tenant_id, entry_ids=ids)
        return _in_key_order(ids, {r.id: r for r in rows})

    async def _events(self, ids: list[int]) -> list[EventRecord | None]:
        async with self._db.read() as conn:
            rows = await events.get_many(conn, tenant_id=self._tenant_id, event_ids=ids)
        return _in_key_order(ids, {r.id: r for r in rows})

    async def _webhooks(self, ids: list[int]) -> list[WebhookRecord | None]:
        async with self._db.read() as conn:
            rows = await webhook_rows.get_webhooks(conn, tenant_id=self._tenant_id, webhook_ids=ids)
        return _in_key_order(ids, {r.id: r for r in rows})

    async def _webhook_deliveries(self, ids: list[int]) -> list[WebhookDeliveryRecord | None]:
        async with self._db.read() as conn:
            rows = await webhook_rows.get_deliveries(
                conn, tenant_id=self._tenant_id, delivery_ids=ids
            )
        return _in_key_order(ids, {r.id: r for r in rows})

    async def _sales_by_lead(self, lead_ids: list[int]) -> list[SaleRecord | None]:
        async with self._db.read() as conn:
            rows = await sales.by_leads(conn, lead_ids=lead_ids)
        return _in_key_order(lead_ids, {r.lead_id: r for r in rows})

    async def _outcomes_by_lead(self, lead_ids: list[int]) -> list[OutcomeRecord | None]:
        async with self._db.read() as conn:
            rows = await outcome_rows.by_leads(conn, tenant_id=self._tenant_id, lead_ids=lead_ids)
        return _in_key_order(lead_ids, {r.lead_id: r for r in rows})

    async def _analyses_by_outcome(self, outcome_ids: list[int]) -> list[list[AnalysisRecord]]:
        async with self._db.read() as conn:
            grouped = await outcome_rows.analyses_by_outcomes(
                conn, tenant_id=self._tenant_id, outcome_ids=outcome_ids
            )
        return [grouped.get(i, []) for i in outcome_ids]

    async def _stage_history_by_lead(self, lead_ids: list[int]) -> list[list[StageChangeRecord]]:
        async with self._db.read() as conn:
            grouped = await stage_changes.by_leads(conn, lead_ids=lead_ids)
        return [grouped.get(i, []) for i in lead_ids]

    async def _stage_history_by_sale(self, sale_ids: list[int]) -> list[list[StageChangeRecord]]:
        async with self._db.read() as conn:
            grouped = await stage_changes.by_sales(conn, sale_ids=sale_ids)
        return [grouped.get(i, []) for i in sale_ids]

    async def _analyses_pages(self, keys: list[PageKey]) -> list[Page[AnalysisRecord]]:
        return await self._pages(keys, analyses.pages_by_lead)

    async def _messages_pages(self, keys: list[PageKey]) -> list[Page[LeadMessageRecord]]:
        return await self._pages(keys, messages.pages_by_lead)

    async def _pages(
        self,
        keys: list[PageKey],
        fetch: Callable[..., Awaitable[dict[int, Page[R]]]],
    ) -> list[Page[R]]:
        """One statement per distinct page request (usually exactly one)."""
        by_request: dict[PageRequest, list[int]] = defaultdict(list)
        for lead_id, request in keys:
            by_request[request].append(lead_id)
        found: dict[PageKey, Page[R]] = {}
        async with self._db.read() as conn:
            for request, lead_ids in by_request.items():
                pages = await fetch(conn, lead_ids=lead_ids, request=request)
                found.update({(lead_id, request): page for lead_id, page in pages.items()})
        return [found[key] for key in keys]


def _in_key_order(keys: Sequence[K], found: dict[K, V]) -> list[V | None]:
    return [found.get(key) for key in keys]


__all__ = ["Loaders", "PageKey"]
