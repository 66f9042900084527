"""The GraphQL schema: types declared here, resolved by `resolvers/`.

`schema.root` assembles the whole schema; the other modules only declare. Importing this
package runs nothing, so `resolvers/` may import `schema.inputs` without a cycle.
"""
