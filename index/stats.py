"""What an index holds: article and bulletin counts, date range, per-district and per-year counts, build info.

Counts come from the segments' array files (one value per live document), never from stored documents: a
bulletin is counted once through its first article (ordinal 0). `index_stats` also verifies every
segment's array file (checksums, document counts) against its Whoosh segment.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from index import schema as f
from index.generation import Generation, GenerationError
from index.store import IndexLocation, IndexMeta, read_meta
from index.vocabulary import Vocabulary, VocabularyError


def index_stats(root: str | os.PathLike[str]) -> dict[str, Any]:
    """Figures about the live index under `root` (IndexMissingError when there is none)."""
    path = IndexLocation(root).current_path()
    meta = read_meta(path)
    try:
        generation = Generation(path)
    except GenerationError as error:
        return {"problems": [str(error)], **build_figures(path.name, meta)}
    problems = generation.verify()
    vocabulary, vocabulary_problems = vocabulary_figures(path)
    return {**generation_figures(generation), **build_figures(path.name, meta),
            "segments": len(generation.segments), "vocabulary": vocabulary,
            "problems": problems + vocabulary_problems}


def vocabulary_figures(path: os.PathLike[str]) -> tuple[dict[str, int] | None, list[str]]:
    """The size of a generation's query vocabulary (`index.vocabulary`) and the problems found checking it.

    An index built before vocabularies existed has none: no figures, no problem (search works without it,
    only query assistance is off until the next full build)."""
    try:
        vocabulary = Vocabulary(path)
    except VocabularyError as error:
        if not (Path(path) / "vocabulary.arrays").exists():
            return None, []
        return None, [str(error)]
    try:
        return vocabulary.figures, vocabulary.verify()
    finally:
        vocabulary.close()


def build_figures(generation: str, meta: IndexMeta) -> dict[str, Any]:
    """How the index was built: its generation and what meta.json records."""
    return {
        "generation": generation,
        "built_at": meta.built_at,
        "created_at": meta.created_at,
        "dictionary_hash": meta.dictionary_hash,
        "schema_version": meta.schema_version,
    }


def generation_figures(generation: Generation) -> dict[str, Any]:
    """Counts and date range of the live documents, from the segments' columns."""
    live = generation.live()
    ordinals = generation.column(f.ORDINAL)[live]
    dates = generation.column(f.DATE_NUM)[live]
    dates = dates[dates > 0]
    codes, values = generation.string_column(f.DISTRICT)
    districts = Counter({values[code]: int(count) for code, count in enumerate(np.bincount(codes[live],
                                                                                          minlength=len(values)))
                         if count})
    years = Counter(int(year) for year in generation.column(f.YEAR)[live] if year)
    return {
        "articles": int(live.sum()),
        "bulletins": int((ordinals == 0).sum()),
        "date_from": _iso(int(dates.min())) if dates.size else None,
        "date_to": _iso(int(dates.max())) if dates.size else None,
        "districts": dict(sorted(districts.items(), key=lambda item: (-item[1], item[0]))),
        "years": {str(year): count for year, count in sorted(years.items())},
    }


def _iso(date_num: int) -> str:
    """yyyymmdd as an ISO date."""
    return f"{date_num // 10000:04d}-{date_num // 100 % 100:02d}-{date_num % 100:02d}"
