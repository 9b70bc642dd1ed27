#!/usr/bin/env python3
"""Peer for the extraction benchmark: underthesea (PyPI) on the dev articles.

Runs underthesea's named-entity recogniser (`underthesea.ner`) over the same
texts the Rust benchmark extracts (every `*.txt` in the corpus directory,
repeated), one line (paragraph) at a time, single-threaded. If the NER model
cannot be loaded offline it falls back to the word segmenter
(`underthesea.word_tokenize`) and says so.

Prints `key=value` lines on stdout (read by `benches/service.rs` through
DIALOGWATCH_BENCH_PEERS):

    underthesea_mode=ner | word_tokenize
    underthesea_version=...
    underthesea_mb_per_s=<median MB/s over the rounds, 1 MB = 10^6 bytes>

Usage: underthesea_peer.py [CORPUS_DIR] (env BENCH_ROUNDS, BENCH_PEER_REPEAT)
"""

import os
import statistics
import sys
import time
from pathlib import Path


def load_texts(corpus_dir: Path) -> list[str]:
    return [path.read_text(encoding="utf-8") for path in sorted(corpus_dir.glob("*.txt"))]


def pick_analyser():
    """Returns (mode, function). NER when its model loads, else word segmentation."""
    try:
        from underthesea import ner

        ner("Thượng tướng Hoàng Xuân Chiến tiếp Đại sứ Singapore tại Hà Nội.")
        return "ner", ner
    except Exception as error:  # the model is missing or cannot load offline
        print(f"# underthesea ner unavailable ({error!r}); using word_tokenize", file=sys.stderr)
        from underthesea import word_tokenize

        return "word_tokenize", word_tokenize


def main() -> int:
    default_dir = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "dev"
    corpus_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else default_dir
    texts = load_texts(corpus_dir)
    if not texts:
        print(f"no *.txt in {corpus_dir}", file=sys.stderr)
        return 1
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    repeat = int(os.environ.get("BENCH_PEER_REPEAT", "2"))
    mode, analyse = pick_analyser()
    lines = [line for text in texts for line in text.splitlines() if line.strip()]
    round_bytes = sum(len(text.encode("utf-8")) for text in texts) * repeat
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(repeat):
            for line in lines:
                analyse(line)
        elapsed = time.perf_counter() - started
        rates.append(round_bytes / elapsed / 1e6)
    import underthesea

    print(f"underthesea_mode={mode}")
    print(f"underthesea_version={getattr(underthesea, '__version__', 'unknown')}")
    print(f"underthesea_mb_per_s={statistics.median(rates):.6f}")
    print(f"# underthesea rounds MB/s: {', '.join(f'{rate:.4f}' for rate in rates)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
