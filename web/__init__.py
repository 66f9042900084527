"""HTTP transport: GraphQL over HTTP, GraphiQL, health checks."""
