"""The pipeline figures."""

from resolvers.context import Info
from services.pipeline import PipelineStats, pipeline_stats


async def pipeline(info: Info) -> PipelineStats:
    return await pipeline_stats(db=info.context.app.db, scope=info.context.scope)
