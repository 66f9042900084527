"""The pipeline's vocabulary. Values are what the database stores."""

from enum import Enum


class LeadSource(Enum):
    PARTNER = "partner"
    REFERRAL = "referral"
    WEBSITE = "website"
    COLD_OUTREACH = "cold_outreach"
    TELEGRAM = "telegram"
    EVENT = "event"
    OTHER = "other"


class LeadStage(Enum):
    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    TRANSFERRED = "transferred"
    LOST = "lost"


class SaleStage(Enum):
    NEW = "new"
    KYC = "kyc"
    AGREEMENT = "agreement"
    PAID = "paid"


class MessageDirection(Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Recommendation(Enum):
    TRANSFER_TO_SALES = "transfer_to_sales"
    CONTINUE_NURTURING = "continue_nurturing"
    MARK_LOST = "mark_lost"


class OrderDirection(Enum):
    ASC = "asc"
    DESC = "desc"


class LeadOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    SCORE = "score"
    MESSAGE_COUNT = "message_count"


class SaleOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    AMOUNT = "amount"
