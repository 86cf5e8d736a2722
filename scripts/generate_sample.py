"""Write the deterministic sample corpus (bulletins plus truth.jsonl): `python scripts/generate_sample.py DEST`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from index.samplegen import generate_corpus


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, generate the corpus and say where it went."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dest", type=Path, help="folder to write YYYY/YYYY-MM-DD_第N期.txt and truth.jsonl into")
    parser.add_argument("--bulletins", type=int, default=300, help="number of bulletins (default 300)")
    parser.add_argument("--seed", type=int, default=2147, help="random seed; the same seed gives the same bytes")
    args = parser.parse_args(argv)
    try:
        paths = generate_corpus(args.dest, bulletins=args.bulletins, seed=args.seed)
    except ValueError as error:
        parser.error(str(error))
    print(f"wrote {len(paths)} bulletins and truth.jsonl to {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
