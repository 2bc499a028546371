"""NLI training and evaluation data from `../shared/datasets/` (see data/README.md for provenance).

Each named source reads one or more files into `NliPair` records. Inputs: the files named in `SOURCES`, under the
datasets directory. Nothing here writes files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.core import files
from pipeline.core.records import PipelineError

_LABEL_ALIASES = {
    "e": "entailment", "n": "neutral", "c": "contradiction",
    "entailment": "entailment", "neutral": "neutral", "contradiction": "contradiction",
}


@dataclass(frozen=True)
class NliPair:
    source: str
    pair_id: str
    premise: str
    hypothesis: str
    label: str


def normalise_label(label: str) -> str | None:
    return _LABEL_ALIASES.get(label.strip().lower())


def pair_key(premise: str, hypothesis: str) -> str:
    """Normalised premise+hypothesis for exact-match deduplication: case, spacing and punctuation ignored,
    so tokenized (SNLI) and detokenized copies of one pair match."""
    norm = lambda s: re.sub(r"[\W_]+", "", s.lower())  # noqa: E731
    return norm(premise) + "\t" + norm(hypothesis)


_DETOK = [
    (re.compile(r"\s+([.,!?;:%)\]}])"), r"\1"),
    (re.compile(r"([(\[{$])\s+"), r"\1"),
    (re.compile(r"\s+(n't|'s|'re|'ve|'ll|'d|'m)\b", re.I), r"\1"),
    (re.compile(r"``\s*|\s*''"), '"'),
]


def detokenize(text: str) -> str:
    """Undo PTB-style tokenization (SNLI via e-SNLI) so training text looks like the news text we score."""
    for pattern, repl in _DETOK:
        text = pattern.sub(repl, text)
    return re.sub(r"\s{2,}", " ", text).strip()


def _strip_quotes(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('""', '"')
    return text


def _pairs(source: str, rows: Iterable[tuple[str, str, str, str]], clean=lambda s: s.strip()) -> list[NliPair]:
    out = []
    for pair_id, premise, hypothesis, label in rows:
        norm = normalise_label(label)
        premise, hypothesis = clean(premise), clean(hypothesis)
        if norm is None or not premise or not hypothesis:
            continue  # '-' (no gold label), 2-way labels and blank rows
        out.append(NliPair(source, str(pair_id), premise, hypothesis, norm))
    return out


def _tsv(rel: str, p="premise", h="hypothesis", lab="label", quoted=False, where=None, clean=None):
    def read(root: Path, source: str) -> list[NliPair]:
        rows = files.read_table(root / rel, quoted=quoted)
        picked = ((f"{i}", r[p], r[h], r[lab]) for i, r in enumerate(rows) if where is None or where(r))
        return _pairs(source, picked, clean or (lambda s: s.strip()))

    return read


def _tsv_noheader(rel: str, cols=(0, 1, 2)):
    def read(root: Path, source: str) -> list[NliPair]:
        rows = files.read_table(root / rel, header=False)
        return _pairs(source, ((f"{i}", r[cols[0]], r[cols[1]], r[cols[2]]) for i, r in enumerate(rows) if len(r) > 2))

    return read


def _ppft_json(rel: str):
    def read(root: Path, source: str) -> list[NliPair]:
        data = files.read_json(root / rel)
        return _pairs(source, ((k, v["text_a"], v["text_b"], v["label"]) for k, v in data.items()))

    return read


def _sick(splits: tuple[str, ...]):
    def read(root: Path, source: str) -> list[NliPair]:
        rows = files.read_table(root / "sick/SICK.txt")
        picked = ((r["pair_ID"], r["sentence_A"], r["sentence_B"], r["entailment_label"])
                  for r in rows if r["SemEval_set"].strip() in splits)
        return _pairs(source, picked)

    return read


def _concat(*readers):
    def read(root: Path, source: str) -> list[NliPair]:
        out = []
        for k, reader in enumerate(readers):
            out += [NliPair(p.source, f"{k}:{p.pair_id}", p.premise, p.hypothesis, p.label)
                    for p in reader(root, source)]
        return out

    return read


def _anli(split: str, rounds: tuple[str, ...]):
    return _tsv("anli_v1.0/anli_dev_test_pairs.tsv", quoted=True,
                where=lambda r: r["split"] == split and r["round"] in rounds)


def _mrpc(rel: str):
    """MRPC paraphrases (Quality 1) as entailment in both directions; non-paraphrases (0) are left out: "not
    equivalent" is neither neutral nor contradiction (one sentence often just adds information)."""
    def read(root: Path, source: str) -> list[NliPair]:
        rows = files.read_table(root / rel)
        out = []
        for r in rows:
            if r.get("Quality", "").strip() != "1":
                continue
            a, b = r["#1 String"].strip(), r["#2 String"].strip()
            out += [NliPair(source, f"{r['#1 ID']}-{r['#2 ID']}", a, b, "entailment"),
                    NliPair(source, f"{r['#2 ID']}-{r['#1 ID']}", b, a, "entailment")]
        return out

    return read


_CAPITALISED = re.compile(r"(?<![.!?\"'] )(?<!^)\b[A-Z][a-z]{2,}\b")


def _basil_neutral(per_event: int = 30, lo: float = 0.2, hi: float = 0.45, seed: int = 13):
    """Same-story neutral pairs without labels: two sentences from different outlets' articles of one BASIL event
    that name the same people or places (a shared capitalised word that does not open the sentence) but are far
    apart in meaning (MiniLM cosine in [lo, hi)), so neither bears on the other. The hypothesis is the shorter,
    claim-length sentence (at most 30 words). The dev and test events (`pipeline.learn.basil.EVAL_EVENTS`) are left
    out, so the news dev and test sets stay unseen."""
    def read(root: Path, source: str) -> list[NliPair]:
        import random

        from pipeline.core.encoder import embed_texts
        from pipeline.learn.basil import EVAL_EVENTS, index_events

        rng = random.Random(seed)
        out = []
        events = index_events(root / "basil" / "articles")
        for eid in sorted(events):
            if eid in EVAL_EVENTS:
                continue
            sents = [(k, s.strip()) for k, a in enumerate(events[eid]) for para in a["body-paragraphs"]
                     for s in para if 8 <= len(s.split()) <= 50]
            if not sents:
                continue
            emb = embed_texts([s for _, s in sents])
            names = [set(_CAPITALISED.findall(s)) for _, s in sents]
            cands = []
            for i, (ki, si) in enumerate(sents):
                for j, (kj, sj) in enumerate(sents):
                    if ki == kj or len(sj.split()) > 30 or len(sj) >= len(si) or not names[i] & names[j]:
                        continue
                    if lo <= float(emb[i] @ emb[j]) < hi:
                        cands.append((i, j))
            for i, j in rng.sample(cands, min(per_event, len(cands))):
                out.append(NliPair(source, f"{eid}:{i}:{j}", sents[i][1], sents[j][1], "neutral"))
        return out

    return read


LABELS_DIR = Path(__file__).resolve().parents[2] / "data" / "labels" / "basil"
EVIDENCE_SEPARATOR = " ||| "


def news_pairs(labels_dir: str | Path, split: str, max_sentences: int = 2) -> list[NliPair]:
    """The sentence-level news NLI set from the same-event labels: for each agree (disagree) label, its deciding
    sentence(s) against the claim as entailment (contradiction), and the labellers' same-story neutral sentences
    as neutral. `split` picks the events of `split.csv` (train, dev or test). Evidence of more than `max_sentences`
    sentences is left out (the premise would be truncated); discuss and unrelated labels give no pair."""
    import csv

    labels_dir = Path(labels_dir)
    split_rows = list(csv.DictReader(files.read_text(labels_dir / "split.csv")[0].splitlines()))
    events = {r["event"] for r in split_rows if r["split"] == split}
    claims = {str(o["id"]): o for _, o, _ in files.iter_jsonl(labels_dir / "claims.jsonl") if o}
    out = []
    for row in csv.DictReader(files.read_text(labels_dir / "stance_labels.csv")[0].splitlines()):
        if row["event"] not in events or row["label"] not in ("agree", "disagree") or not row["evidence"].strip():
            continue
        sentences = [x.strip() for x in row["evidence"].split(EVIDENCE_SEPARATOR) if x.strip()]
        if len(sentences) > max_sentences:
            continue
        label = "entailment" if row["label"] == "agree" else "contradiction"
        out.append(NliPair(f"news_{split}", f"{row['claim_id']}:{row['article_id']}", " ".join(sentences),
                           claims[row["claim_id"]]["text"], label))
    for _, o, _ in files.iter_jsonl(labels_dir / "nli_neutral.jsonl"):
        if o and o["event"] in events:
            out.append(NliPair(f"news_{split}", f"{o['claim_id']}:{o['article_id']}:n", o["sentence"],
                               claims[o["claim_id"]]["text"], "neutral"))
    return out


def events_files(value) -> list[Path]:
    """`nli_train.leave_out_events` as paths: one CSV, a list of them, or none."""
    if not value:
        return []
    return [Path(value)] if isinstance(value, (str, Path)) else [Path(v) for v in value]


def leave_out_events(pairs: list[NliPair], left_out) -> tuple[list[NliPair], int]:
    """Drop the hand-labelled news pairs (`news_*` sources) of the events listed in `left_out` (one CSV with an
    `event` column, such as `data/labels/basil/train_batch9.csv`, or a list of them), so a batch kept to judge a
    model stays unseen by it. Returns the kept pairs and how many were dropped; no file keeps them all."""
    import csv

    paths = events_files(left_out)
    if not paths:
        return pairs, 0
    events: set[str] = set()
    for path in paths:
        rows = list(csv.DictReader(files.read_text(path)[0].splitlines()))
        if not rows or "event" not in rows[0]:
            raise PipelineError(path, "no 'event' column: expected a CSV of BASIL events to leave out")
        events |= {r["event"] for r in rows}
    # a news pair's id opens with its claim id, which opens with its event ("<event>_c01:<article>[:n]")
    kept = [p for p in pairs if not (p.source.startswith("news_") and p.pair_id.split("_c")[0] in events)]
    return kept, len(pairs) - len(kept)


def _news(split: str):
    def read(root: Path, source: str) -> list[NliPair]:
        return news_pairs(LABELS_DIR, split)

    return read


_SEMI = "semi_automatic_nli/semi_automatic_nli_pairs.tsv"
_NEWP = "nli_new_protocols/{}/train.tsv"
_CAD = "cad_snli/{}/train.tsv"

# name -> reader(datasets_root, name). Train sources first, then selection (dev) and held-out test sets.
SOURCES: dict[str, Callable[[Path, str], list[NliPair]]] = {
    # MultiNLI training subsets
    "mnli_llmsknow": _tsv("mnli_llmsknow/mnli_train_pairs.tsv"),
    "mnli_ppft": _ppft_json("ppft_glue_pretrain/MNLI/train.json"),
    "mnli_hans_contradicting": _tsv_noheader("mnli_dev_matched_hans_repo/mnli_contradicting_examples.tsv"),
    # SNLI training subsets, SNLI dev and SICK
    "snli_cat": _tsv("snli_train_cat/train_pairs.tsv"),
    "snli_ppft": _ppft_json("ppft_glue_pretrain/SNLI/train.json"),
    "cad_snli": _concat(*(_tsv(_CAD.format(d), "sentence1", "sentence2", "gold_label", clean=_strip_quotes)
                          for d in ("original", "revised_premise", "revised_hypothesis"))),
    "snli_dev": _tsv("snli_esnli/snli_dev.tsv", clean=detokenize),
    "sick_train": _sick(("TRAIN", "TRIAL")),
    # news-premise and other sets
    "nli_new_protocols": _concat(*(_tsv(_NEWP.format(d), "sentence1", "sentence2", "gold_label", quoted=True)
                                   for d in ("base", "edit_premise", "edit_other", "contrast"))),
    "semi_automatic_news": _tsv(_SEMI, quoted=True,
                                where=lambda r: r["split"] == "train" and "news" in r["subset"]),
    "semi_automatic_wiki": _tsv(_SEMI, quoted=True,
                                where=lambda r: r["split"] == "train" and "news" not in r["subset"]),
    "conjnli": _tsv("conjnli/adversarial_train_15k.tsv", "Premise", "Hypothesis", "Label"),
    "anli_dev": _anli("dev", ("R1", "R2", "R3")),
    "climate_fever": _tsv("climate_fever/climate_fever_pairs.tsv", quoted=True),
    # XNLI's English dev pairs: collected like MultiNLI, not part of it (see SOURCES.md), so fit for training here
    "xnli_en_dev": _tsv_noheader("xnli_en_dev/dev-en.tsv"),
    # news: MRPC paraphrases (train split only) and same-story neutral pairs from unlabelled BASIL events
    "mrpc_train": _mrpc("mrpc/msr_paraphrase_train.txt"),
    "basil_neutral": _basil_neutral(),
    # hand-labelled same-event news (data/labels/basil/, train events only): deciding sentences against claims
    "news_train": _news("train"),
    # model selection (held out from training; these are MNLI/SNLI *train* pairs that their repo kept aside)
    "mnli_ppft_dev": _ppft_json("ppft_glue_pretrain/MNLI/dev.json"),
    "snli_ppft_dev": _ppft_json("ppft_glue_pretrain/SNLI/dev.json"),
    # same-event news sentences vs claims (data/labels/basil/): dev may be used to choose, test is report only
    "news_dev": _news("dev"),
    "news_test": _news("test"),
    # held-out evaluation: never trained on, never tuned on
    "mnli_dev_matched": _tsv("mnli_dev_matched_hans_repo/mnli_development_set_number_of_correct_responses.txt",
                             lab="gold_label"),
    "snli_test": _tsv("snli_esnli/snli_test.tsv", clean=detokenize),
    "sick_test": _sick(("TEST",)),
    "anli_r1_test": _anli("test", ("R1",)),
    "anli_r2_test": _anli("test", ("R2",)),
    "anli_r3_test": _anli("test", ("R3",)),
    # never for training: TaxiNLI's pairs mostly come from MultiNLI dev
    "taxinli": _tsv("taxinli_mnli/taxinli10k.tsv", "prem", "hyp", quoted=True),
}


def load_source(root: str | Path, name: str) -> list[NliPair]:
    root = Path(root)
    if name not in SOURCES:
        raise PipelineError(None, f"unknown NLI data source {name!r}; known: {', '.join(SOURCES)}")
    if not root.is_dir():
        raise PipelineError(root, "datasets directory not found (set paths.datasets or PIPELINE_DATASETS)")
    pairs = SOURCES[name](root, name)
    if not pairs:
        raise PipelineError(root, f"source {name!r} yielded no labelled pairs")
    return pairs


def dedupe(train: list[NliPair], exclude: Iterable[NliPair]) -> tuple[list[NliPair], dict[str, int]]:
    """Drop training pairs that match an excluded (dev/test) pair, and repeated training pairs.

    Returns the kept pairs and counts: {"held_out_overlap": n, "duplicates": n} plus per-source overlap.
    """
    banned = {pair_key(p.premise, p.hypothesis) for p in exclude}
    seen: set[str] = set()
    kept, stats = [], {"held_out_overlap": 0, "duplicates": 0}
    for pair in train:
        key = pair_key(pair.premise, pair.hypothesis)
        if key in banned:
            stats["held_out_overlap"] += 1
            stats[f"held_out_overlap/{pair.source}"] = stats.get(f"held_out_overlap/{pair.source}", 0) + 1
        elif key in seen:
            stats["duplicates"] += 1
        else:
            seen.add(key)
            kept.append(pair)
    return kept, stats


def split_ids(pairs: Iterable[NliPair]) -> str:
    """The dev split as text (source, pair id, pair hash), saved in the repo so the split is explicit."""
    lines = ["source\tpair_id\tpair_sha1"]
    for p in pairs:
        lines.append(f"{p.source}\t{p.pair_id}\t{files.sha256_text(pair_key(p.premise, p.hypothesis))[:16]}")
    return "\n".join(lines) + "\n"
