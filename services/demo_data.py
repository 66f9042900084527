"""Demo data for a first `make run`: a small, living pipeline.

Every demo lead is played through the same service functions the API calls, so each
rule holds (stage order, transfer gates, PAID needs an amount) and the stage history,
messages and analyses are the real thing. The script is a fixed list: every load
produces the same pipeline.
"""

import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from db.database import Database
from db.models import DEFAULT_TENANT_ID
from db.queries import leads as lead_rows
from domain.enums import LeadSource, LeadStage, MessageDirection, SaleStage
from domain.errors import DomainError
from domain.lifecycle import SALE_ORDER
from services.ai.heuristic import HeuristicScorer
from services.analysis import analyze_lead
from services.leads import NewLead, change_lead_stage, create_lead, record_lead_message
from services.sales import change_sale_stage
from services.scope import Scope
from services.scorer_choice import Fixed
from services.transfer import transfer_lead

CURRENCY = "EUR"

S = LeadSource
NEW, CONTACTED, QUALIFIED = LeadStage.NEW, LeadStage.CONTACTED, LeadStage.QUALIFIED


@dataclass(frozen=True, slots=True)
class DemoLead:
    """One lead's story: how far it got, how much was said, and how it ended."""

    name: str
    company: str | None
    business_domain: str | None
    source: LeadSource
    reached: LeadStage  # the furthest open stage: NEW, CONTACTED or QUALIFIED
    messages: int = 0
    lost_reason: str | None = None  # set: the lead ends LOST
    sale: SaleStage | None = None  # set: the lead is transferred and its sale moved here
    amount: int | None = None  # the agreed price, for sales at AGREEMENT or PAID


# fmt: off
DEMO_LEADS: tuple[DemoLead, ...] = (
    # Fresh leads nobody has talked to yet (and so not analyzed).
    DemoLead("Amara Okafor", "Lumen Payments", "fintech", S.WEBSITE, NEW),
    DemoLead("Lukas Schmidt", "Brightline Freight", "logistics", S.COLD_OUTREACH, NEW),
    DemoLead("Sofia Rossi", None, None, S.TELEGRAM, NEW),
    DemoLead("Kenji Watanabe", "Kumo Robotics", "manufacturing", S.EVENT, NEW),
    DemoLead("Chloé Martin", "Maison Verte", "retail", S.WEBSITE, NEW),
    DemoLead("Daniel Cohen", "Harbor Health", None, S.REFERRAL, NEW),
    DemoLead("Priya Raman", "Tandem Learning", "education", S.PARTNER, NEW),
    DemoLead("Mateo García", "Solara Energía", "energy", S.OTHER, NEW),
    # In conversation.
    DemoLead("Emma Johansson", "Fjord Analytics", "saas", S.WEBSITE, CONTACTED, 2),
    DemoLead("Oliver Bennett", "Bennett & Hale", "legal", S.REFERRAL, CONTACTED, 3),
    DemoLead("Aisha Bello", "Greenfield Agro", "agritech", S.EVENT, CONTACTED, 1),
    DemoLead("Tomás Novák", "Vltava Logistics", "logistics", S.COLD_OUTREACH, CONTACTED, 2),
    DemoLead("Hannah Weber", None, "healthcare", S.TELEGRAM, CONTACTED, 4),
    DemoLead("Ravi Patel", "Monsoon Travel", "travel", S.PARTNER, CONTACTED, 3),
    DemoLead("Lea Fischer", "Alpen Insurance", "insurance", S.WEBSITE, CONTACTED, 1),
    DemoLead("Yusuf Demir", "Bosphorus Textiles", None, S.OTHER, CONTACTED, 2),
    DemoLead("Grace Kim", "Seoul Street Foods", "retail", S.EVENT, CONTACTED, 4),
    DemoLead("Noah Williams", "Crescent Media", "media", S.COLD_OUTREACH, CONTACTED, 1),
    # Qualified: some ready to transfer, some blocked by a low score or a missing domain.
    DemoLead("Isabella Costa", "Atlântico Bank", "fintech", S.PARTNER, QUALIFIED, 6),
    DemoLead("Felix Wagner", "Nordwind Energy", "energy", S.REFERRAL, QUALIFIED, 5),
    DemoLead("Mei Lin", "Jade Logistics", "logistics", S.WEBSITE, QUALIFIED, 8),
    DemoLead("Zoë van Dijk", "Polder Logistics", "logistics", S.EVENT, QUALIFIED, 7),
    DemoLead("Samuel Adeyemi", "Lagos Fintech Hub", None, S.PARTNER, QUALIFIED, 4),
    DemoLead("Clara Lindqvist", None, None, S.REFERRAL, QUALIFIED, 3),
    DemoLead("Julia Nowak", "Wisła Software", "saas", S.COLD_OUTREACH, QUALIFIED, 6),
    DemoLead("Ethan Brooks", "Brooks Dental Group", "healthcare", S.OTHER, QUALIFIED, 3),
    DemoLead("Omar Haddad", "Cedar Realty", "real estate", S.TELEGRAM, QUALIFIED, 2),
    # Lost, from every open stage.
    DemoLead(
        "Marcus Reed", "Reed Roofing", "construction", S.COLD_OUTREACH, NEW,
        lost_reason="Duplicate of an existing customer record.",
    ),
    DemoLead(
        "Jack Thompson", None, None, S.COLD_OUTREACH, NEW,
        lost_reason="Not a fit: a one-person business.",
    ),
    DemoLead(
        "Liam O'Connor", "Shamrock Insurance", "insurance", S.WEBSITE, NEW,
        lost_reason="A student project, not a buyer.",
    ),
    DemoLead(
        "Elena Petrova", "Volga Pharma", "healthcare", S.WEBSITE, CONTACTED, 2,
        lost_reason="Chose a competitor with an on-premise offering.",
    ),
    DemoLead(
        "Nadia Rahman", "Delta Textiles", "manufacturing", S.EVENT, CONTACTED, 3,
        lost_reason="No budget before the next fiscal year.",
    ),
    DemoLead(
        "Pierre Dubois", "Dubois Immobilier", "real estate", S.OTHER, CONTACTED, 1,
        lost_reason="Stopped replying after the first call.",
    ),
    DemoLead(
        "Anna Kowalski", "Baltic Shipping", "logistics", S.COLD_OUTREACH, CONTACTED, 2,
        lost_reason="Asked not to be contacted again.",
    ),
    DemoLead(
        "Sara Lindgren", "Kallio Games", "media", S.TELEGRAM, QUALIFIED, 5,
        lost_reason="Project cancelled after a reorganisation.",
    ),
    DemoLead(
        "Victor Santos", "Rio Fresh Markets", "retail", S.REFERRAL, QUALIFIED, 6,
        lost_reason="Decided to build it in-house.",
    ),
    # Handed to sales, with the sale at every stage.
    DemoLead(
        "Charlotte Dupont", "Lyon Capital", "fintech", S.PARTNER, QUALIFIED, 4,
        sale=SaleStage.NEW,
    ),
    DemoLead(
        "Hiroshi Tanaka", "Sakura Clinics", "healthcare", S.REFERRAL, QUALIFIED, 6,
        sale=SaleStage.NEW,
    ),
    DemoLead(
        "Fatima Zahra", "Atlas Logistics", "logistics", S.EVENT, QUALIFIED, 5,
        sale=SaleStage.NEW,
    ),
    DemoLead(
        "William Clarke", "Clarke Engineering", "manufacturing", S.PARTNER, QUALIFIED, 7,
        sale=SaleStage.KYC,
    ),
    DemoLead(
        "Ingrid Halvorsen", "Fjell Energy", "energy", S.WEBSITE, QUALIFIED, 6,
        sale=SaleStage.KYC,
    ),
    DemoLead(
        "Diego Fernández", "Pampa Agro", "agritech", S.REFERRAL, QUALIFIED, 3,
        sale=SaleStage.KYC,
    ),
    DemoLead(
        "Olivia Harris", "Harris & Finch", "legal", S.REFERRAL, QUALIFIED, 8,
        sale=SaleStage.AGREEMENT, amount=18_500,
    ),
    DemoLead(
        "Arjun Mehta", "Ganges Retail", "retail", S.PARTNER, QUALIFIED, 9,
        sale=SaleStage.AGREEMENT, amount=42_000,
    ),
    DemoLead(
        "Marta Silva", "Lisbon Learning", "education", S.TELEGRAM, QUALIFIED, 8,
        sale=SaleStage.AGREEMENT, amount=12_000,
    ),
    DemoLead(
        "Jakob Müller", "Rhein Logistik", "logistics", S.PARTNER, QUALIFIED, 12,
        sale=SaleStage.PAID, amount=64_000,
    ),
    DemoLead(
        "Ana Popescu", "Carpați Software", "saas", S.WEBSITE, QUALIFIED, 10,
        sale=SaleStage.PAID, amount=27_500,
    ),
    DemoLead(
        "Benjamin Carter", "Carter Foods", "retail", S.EVENT, QUALIFIED, 9,
        sale=SaleStage.PAID, amount=31_200,
    ),
    DemoLead(
        "Leila Farahani", "Persepolis Health", "healthcare", S.REFERRAL, QUALIFIED, 11,
        sale=SaleStage.PAID, amount=55_000,
    ),
    DemoLead(
        "Erik Andersson", "Nordic Pay", "fintech", S.PARTNER, QUALIFIED, 14,
        sale=SaleStage.PAID, amount=96_000,
    ),
)
# fmt: on

# One conversation, replayed as far as each lead got: (direction, channel, text).
_CONVERSATION: tuple[tuple[MessageDirection, str, str], ...] = (
    (MessageDirection.OUTBOUND, "email", "Hi {first}, thanks for your interest. A short call?"),
    (MessageDirection.INBOUND, "email", "Sure, Thursday afternoon works for us."),
    (MessageDirection.OUTBOUND, "phone", "Intro call: current process, team size, pain points."),
    (MessageDirection.INBOUND, "email", "Sending over our monthly volumes as promised."),
    (MessageDirection.OUTBOUND, "email", "Shared a pricing overview and a case study."),
    (MessageDirection.INBOUND, "phone", "Asked about onboarding time and data migration."),
    (MessageDirection.OUTBOUND, "meeting", "Demo for {company}; good questions on integrations."),
    (MessageDirection.INBOUND, "email", "Internal review went well; the budget owner is in."),
    (MessageDirection.OUTBOUND, "email", "Sent the proposal draft."),
    (MessageDirection.INBOUND, "telegram", "Quick question on the contract length."),
    (MessageDirection.OUTBOUND, "telegram", "12 months, billed monthly if you prefer."),
    (MessageDirection.INBOUND, "email", "Legal has the draft; comments next week."),
)


async def load_demo_data_if_empty(
    db: Database, *, min_score: float, tenant_id: int = DEFAULT_TENANT_ID
) -> int:
    """Play the demo pipeline into the default tenant when it has no leads yet, through
    the same services and gates as every client (`min_score` is the transfer gate).

    Returns how many leads were created: 0 when the tenant already had leads.
    """
    async with db.exclusive(_DEMO_LOCK):  # two servers starting together load it once
        async with db.read() as conn:
            existing = await lead_rows.count(
                conn, tenant_id=tenant_id, lead_filter=lead_rows.LeadFilter()
            )
        if existing:
            return 0
        for number, demo in enumerate(DEMO_LEADS, start=1):
            await _play(db, Scope(tenant_id=tenant_id, actor=DEMO_ACTOR), demo, number, min_score)
    return len(DEMO_LEADS)


async def _play(db: Database, scope: Scope, demo: DemoLead, number: int, min_score: float) -> None:
    """Create the lead and walk it as far as its story goes, analyzing along the way."""
    lead = await create_lead(db=db, scope=scope, new=_new_lead(demo, number))
    said = 0
    for stage in (CONTACTED, QUALIFIED):
        if _order(demo.reached) < _order(stage):
            break
        await change_lead_stage(db=db, scope=scope, lead_id=lead.id, stage=stage)
        # Half of the conversation happens before qualifying, the rest after.
        until = demo.messages if stage is demo.reached else demo.messages // 2
        await _converse(db, scope, lead.id, demo, range(said, until))
        said = until
        await _analyze(db, scope, lead.id)
    if demo.lost_reason is not None:
        await change_lead_stage(
            db=db, scope=scope, lead_id=lead.id, stage=LeadStage.LOST, reason=demo.lost_reason
        )
    elif demo.sale is not None:
        await _sell(db, scope, lead.id, demo.sale, demo.amount, min_score)


def _new_lead(demo: DemoLead, number: int) -> NewLead:
    return NewLead(
        name=demo.name,
        source=demo.source,
        business_domain=demo.business_domain,
        company=demo.company,
        email=_email(demo.name, demo.company),
        # Every third lead came without a phone number; the others use a fictional range.
        phone=None if number % 3 == 0 else f"+44 20 7946 {number:04d}",
    )


def _email(name: str, company: str | None) -> str:
    mailbox = ".".join(_ascii_words(name))
    host = "-".join(_ascii_words(company)) if company else "mail"
    return f"{mailbox}@{host}.example"


def _ascii_words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = ("".join(ch for ch in word if ch.isalnum()) for word in plain.split())
    return [word for word in words if word]


async def _converse(db: Database, scope: Scope, lead_id: int, demo: DemoLead, lines: range) -> None:
    first_name = demo.name.split()[0]
    company = demo.company or "your team"
    for line in lines:
        direction, channel, text = _CONVERSATION[line % len(_CONVERSATION)]
        await record_lead_message(
            db=db,
            scope=scope,
            lead_id=lead_id,
            direction=direction,
            channel=channel,
            text=text.format(first=first_name, company=company),
        )


async def _analyze(db: Database, scope: Scope, lead_id: int) -> None:
    await analyze_lead(
        db=db,
        scope=scope,
        scorers=Fixed(HeuristicScorer()),
        lead_id=lead_id,
        cache_ttl=timedelta(0),
    )


async def _sell(
    db: Database,
    scope: Scope,
    lead_id: int,
    target: SaleStage,
    amount: int | None,
    min_score: float,
) -> None:
    """Transfer the lead, then move its sale one step at a time up to `target`; the price
    is agreed at AGREEMENT, so PAID needs no amount of its own. A lead the configured gate
    refuses stays QUALIFIED."""
    try:
        transfer = await transfer_lead(db=db, scope=scope, lead_id=lead_id, min_score=min_score)
    except DomainError:
        return
    for stage in SALE_ORDER[1 : SALE_ORDER.index(target) + 1]:
        price = Decimal(amount) if stage is SaleStage.AGREEMENT and amount is not None else None
        await change_sale_stage(
            db=db,
            scope=scope,
            sale_id=transfer.sale.id,
            stage=stage,
            amount=price,
            currency=None if price is None else CURRENCY,
        )


DEMO_ACTOR = "demo"
_DEMO_LOCK = 0x43524D_44454D4F  # "CRM" "DEMO"
_LEAD_ORDER = (NEW, CONTACTED, QUALIFIED)


def _order(stage: LeadStage) -> int:
    return _LEAD_ORDER.index(stage)
