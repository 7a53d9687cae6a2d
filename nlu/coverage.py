"""The coverage map of the training data: `python -m nlu.coverage` prints, as a Markdown table,
how many examples each domain and sub-topic has per language.

Sub-topics come from the `# topic: <domain>/<sub-topic>` comment above a block of examples in
`nlu/data/nlu/*.yml` (the language is the file name's prefix); blocks of the first files, written
before the map existed, count under "(first files)" of their intent's domain. nlu/README.md
holds the printed map.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from nlu.domains import domain_of_intent
from nlu.service import NLU_DIR

LANGUAGES = ("ar", "ti", "nl", "en")
TOPIC = re.compile(r"^# topic: (\S+)\s*$")
INTENT = re.compile(r"^- intent: (\S+)\s*$")
EXAMPLE = re.compile(r"^\s+- \S")
UNMAPPED = "(first files)"


def examples(data_dir: Path) -> Iterator[tuple[str, str, str]]:
    """(language, domain, sub-topic) for every training example."""
    for path in sorted(data_dir.glob("*.yml")):
        language = path.stem.split("_")[0]
        topic: str | None = None
        domain, subtopic = "other", UNMAPPED
        for line in path.read_text(encoding="utf-8").splitlines():
            if match := TOPIC.match(line):
                topic = match.group(1)
            elif match := INTENT.match(line):
                if topic is not None:
                    domain, _, subtopic = topic.partition("/")
                else:
                    domain, subtopic = domain_of_intent(match.group(1)).value, UNMAPPED
                topic = None
            elif EXAMPLE.match(line):
                yield language, domain, subtopic


def coverage_table(data_dir: Path = NLU_DIR / "data" / "nlu") -> str:
    counts = Counter((domain, subtopic, lang) for lang, domain, subtopic in examples(data_dir))
    rows = sorted({(domain, subtopic) for domain, subtopic, _lang in counts})
    lines = [
        "| domain | sub-topic | " + " | ".join(LANGUAGES) + " |",
        "|---|---|" + "---:|" * len(LANGUAGES),
    ]
    for domain, subtopic in rows:
        cells = " | ".join(str(counts[(domain, subtopic, lang)]) for lang in LANGUAGES)
        lines.append(f"| {domain} | {subtopic} | {cells} |")
    totals = " | ".join(
        str(sum(n for (_d, _s, lang), n in counts.items() if lang == language))
        for language in LANGUAGES
    )
    lines.append(f"| **all** | | {totals} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(coverage_table())
    sys.exit(0)
