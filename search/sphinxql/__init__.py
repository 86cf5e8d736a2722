"""The SphinxQL backend: the same search on a sharded Sphinx 2.2 / Manticore cluster (docs/scale-out.md).

`schema` is the row format every node stores, `connection` opens SphinxQL connections from a
`sphinxql://HOST:PORT` address, `topology` describes the nodes, `cluster` writes and runs them on one host,
`publish` writes a built generation into the cluster and `backend` searches it.
"""
