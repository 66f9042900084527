"""The AI usage figures."""

from resolvers.context import Info
from services.ai.usage import UsagePeriod, UsageReport, usage_report


async def ai_usage(info: Info, period: UsagePeriod) -> UsageReport:
    return await usage_report(db=info.context.app.db, scope=info.context.scope, period=period)
