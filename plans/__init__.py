"""Compiled reads: a query document planned once into SQL and a shaping function.

The dashboards' and SPAs' most frequent reads (`lead(id:)`, `leads(...)` with the latest
analysis and sale) skip graphql-core's executor: each such document is compiled when it
is first prepared into one SQL statement per root field that selects exactly the asked-for
columns, and one generated function that turns a row into the JSON the executor would
have given. Anything a plan does not cover is answered by the executor, unchanged.
"""
