"""The cluster description: the coordinator (where searches and the metadata go) and each shard's copies.

`bulletins cluster init` writes it as `cluster.json` beside the node configs; `cluster start` (or
`cluster register` for nodes on other hosts) stores it in the coordinator's metadata, where the publisher
reads which nodes to write and the backend which shard an agent address belongs to.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from search.sphinxql.connection import Address


@dataclass(frozen=True)
class Copy:
    """One copy of a shard: a searchd with the shard's RT index. `port` speaks SphinxQL (writes),
    `api_port` the binary protocol the coordinator's agents use."""

    role: str
    host: str
    port: int
    api_port: int

    @property
    def address(self) -> Address:
        return Address(self.host, self.port)

    @property
    def agent(self) -> str:
        return f"{self.host}:{self.api_port}"


@dataclass(frozen=True)
class Shard:
    """A shard and its copies, the primary first."""

    shard: int
    copies: tuple[Copy, ...]


@dataclass(frozen=True)
class Topology:
    """The coordinator's SphinxQL address and the shards behind its distributed index."""

    host: str
    port: int
    shards: tuple[Shard, ...] = field(default_factory=tuple)

    @property
    def address(self) -> Address:
        return Address(self.host, self.port)

    def shard_of_agent(self, agent: str) -> int | None:
        """The shard whose copy listens at `agent` ("host:api_port"), if any."""
        for shard in self.shards:
            if any(copy.agent == agent for copy in shard.copies):
                return shard.shard
        return None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Topology:
        try:
            shards = tuple(Shard(int(shard["shard"]), tuple(Copy(str(copy["role"]), str(copy["host"]),
                                                                   int(copy["port"]), int(copy["api_port"]))
                                                              for copy in shard["copies"]))
                           for shard in data["shards"])
            return cls(str(data["host"]), int(data["port"]), shards)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a cluster description: {error!r}") from error

    @classmethod
    def from_json(cls, text: str) -> Topology:
        return cls.from_dict(json.loads(text))
