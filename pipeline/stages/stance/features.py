"""NLI evidence scores and claim-article text -> feature matrix `(n_pairs, len(FEATURES))` for the stance head."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from pipeline.core.records import StancePair

FEATURES: tuple[str, ...] = (
    "similarity",            # best claim-sentence cosine in the article
    "max_entailment",        # over the evidence sentences
    "max_contradiction",
    "mean_entailment",
    "mean_contradiction",
    "entailment_of_best",    # NLI of the single most similar sentence
    "contradiction_of_best",
    "max_neutral",
    "entailment_margin",     # max entailment - max contradiction
    "n_entailing",           # evidence sentences with entailment >= 0.5
    "n_contradicting",
    "second_similarity",
    "mean_similarity",
    "gated",                 # 1 if NLI was skipped for this pair (similarity below the gate)
    "claim_coverage",        # share of the claim's content words found in the article
    "jaccard",               # content-word Jaccard, claim vs article
    "refute_cues",           # refutation / hedging / attribution cue words in the evidence, per sentence
    "hedge_cues",
    "attribution_cues",
    "article_refute_rate",   # refutation cues per 100 article words
    "article_hedge_rate",
    "claim_hedged",          # the claim itself hedges or asks ("reportedly", "?")
    "tfidf_cosine",          # TF-IDF cosine, claim vs whole article (idf from the articles of the same call)
    "similarity_of_max_contradiction",  # how close to the claim the most contradicting sentence is
    "entailing_hedged",      # every sentence that states it reports it as an allegation ("reportedly", "alleged")
    "claim_attributed",      # the claim is itself a report of speech or allegation ("X said", "X alleges")
    "is_source",             # the claim was extracted from this article (its own sentence is here)
    "source_hedged",         # ... and that sentence reports it as an allegation
    "name_coverage",         # share of the claim's names (capitalised words: people, places, bodies) in the article
    "entailing_attributed",  # every sentence that states it gives it as someone's words ("X said", "argued") that
                             # the claim does not attribute
    "entailing_quoted",      # ... or is a direct quotation, or says "warn", "argue", "insist" (forms SAYS lacks)
    "entailing_forecast",    # every sentence that states it gives it as expected ("is expected to plead guilty"),
                             # a forecast the claim does not make
    "claim_speech_act",      # the claim reports speech in headline words ("slams", "pegs", "statement") or opens
                             # with its speaker and a colon ("Summers: ...")
)

REFUTE = {"fake", "false", "hoax", "deny", "denies", "denied", "debunk", "debunked", "not", "no", "never", "fraud",
          "refute", "refuted", "untrue", "myth", "doubt", "doubts", "retract", "retracted", "contrary", "despite",
          "nor", "neither", "wrong", "misleading", "rumor", "rumour", "satire", "prank"}
HEDGE = {"reportedly", "allegedly", "alleged", "claim", "claims", "claimed", "may", "might", "could", "possibly",
         "apparently", "unconfirmed", "unverified", "suggest", "suggests", "suggested", "believe", "believed",
         "appears", "seems", "rumored", "rumoured", "purportedly", "speculation", "unclear", "whether"}
ATTRIBUTION = {"said", "says", "told", "according", "reported", "reports", "stated", "announced", "confirmed",
               "claimed", "insisted", "added", "tweeted", "wrote"}
# an article that only reports the claim as someone's allegation or an unconfirmed report (label guide: discuss)
ALLEGATION = {"reportedly", "allegedly", "alleged", "alleges", "allege", "allegation", "allegations", "purportedly",
              "unconfirmed", "unverified", "rumored", "rumoured", "lawsuit", "accused", "accuses", "accusing",
              "suspected"}
SPEECH = {"said", "says", "say", "told", "tells", "accused", "accuses", "argued", "argues", "claimed", "claims",
          "announced", "announces", "called", "calls", "denied", "denies", "insisted", "insists", "wrote", "writes",
          "suggested", "suggests", "stated", "states", "admitted", "admits", "reported", "reports", "tweeted",
          "declined", "refused", "confirmed", "confirms", "acknowledged", "praised", "criticized", "criticised",
          "warned", "urged", "promised", "vowed", "blamed", "asked", "demanded", "defended", "apologized"}
# a claim with one of these reports what someone says or alleges ("X said", "According to X", "X alleges"), or is
# about a speech act ("X referred to ...", "X described ... as", "X's remarks")
CLAIM_REPORTS = SPEECH | ALLEGATION | {
    "according", "referred", "refers", "described", "describes", "denounced", "denounces", "cautioned", "cautions",
    "conceded", "concedes", "predicted", "predicts", "voiced", "voices", "remark", "remarks", "comment", "comments",
    "asserted", "asserts", "contended", "contends", "maintained", "maintains", "added", "adds", "noted", "notes",
    "mentioned", "mentions", "declared", "declares", "dismissed", "dismisses", "questioned", "questions"}
# headline and wire verbs of speech and stance that CLAIM_REPORTS lacks ("Rubio slams ...", "WikiLeaks pressed Trump
# Jr. for ...", "AARP official signals ...", "faculty send letter faulting his budget"), the documents of speech
# ("statement", "letter", "interview") and reported attitudes ("fears", "believes"): a claim with one is about what
# someone says or thinks, as is a headline that opens with its speaker and a colon ("Summers: failing to pass ...")
HEADLINE_SPEECH = {
    "slam", "slams", "slammed", "blast", "blasts", "blasted", "rip", "rips", "ripped", "knock", "knocks", "knocked",
    "tout", "touts", "touted", "vow", "vows", "pledge", "pledges", "pledged", "press", "presses", "pressed", "urge",
    "urges", "fault", "faults", "faulted", "faulting", "charge", "charges", "charged", "counter", "counters",
    "countered", "reject", "rejects", "rejected", "mock", "mocks", "mocked", "signal", "signals", "signaled",
    "signalled", "brand", "brands", "branded", "branding", "decry", "decries", "decried", "hail", "hails", "hailed",
    "condemn", "condemns", "condemned", "applaud", "applauds", "applauded", "threaten", "threatens", "threatened",
    "warn", "warns", "reveal", "reveals", "revealed", "disclose", "discloses", "disclosed", "testify", "testifies",
    "testified", "recommend", "recommends", "recommended", "propose", "proposes", "proposed", "estimate", "estimates",
    "estimated", "projected", "projects", "peg", "pegs", "pegged", "lash", "lashes", "lashed", "statement",
    "statements", "letter", "letters", "interview", "fear", "fears", "feared", "believe", "believes", "believed",
    "hopes", "hoped"}
_SPEAKER_COLON = re.compile(r"^[A-Z][\w.'\- ]{0,40}:\s")
# the sentence gives its content as someone's words: the article reports them, it does not assert them (label guide,
# hard case 1). Opinion and speech verbs only: "announced", "reported", "confirmed" report public events (hard case 2)
SAYS = {"said", "says", "say", "saying", "told", "tells", "telling", "according", "argued", "argues", "arguing",
        "asserted", "asserts", "asserting", "claimed", "claims", "claiming", "contended", "contends", "insisted",
        "insists", "insisting", "warned", "warns", "warning", "suggested", "suggests", "suggesting", "believes",
        "believed", "predicted", "predicts", "maintained", "maintains", "wrote", "writes", "tweeted"}
# the plain present of the same verbs, which SAYS lacks ("Administration officials warn that ..."), and the marks
# that open a quotation: a sentence that opens with one gives someone's words, its speaker named in the next or the
# last sentence
SAYS_PRESENT = {"warn", "argue", "insist", "contend", "assert", "predict"}
QUOTE_MARKS = ('"', "\u201c", "\u2018")
# a sentence that gives something as expected reports a forecast, not a done fact ("expected vs. done", NOTES.md)
FORECAST = {"expected", "expects", "expect"}
STOP = {"the", "a", "an", "of", "to", "in", "on", "for", "and", "or", "is", "are", "was", "were", "be", "been",
        "it", "its", "that", "this", "with", "as", "at", "by", "from", "has", "have", "had", "he", "she", "they",
        "his", "her", "their", "will", "would", "s", "t"}
_TOKEN = re.compile(r"[a-z0-9']+")
_NAME = re.compile(r"\b[A-Z][A-Za-z0-9\-]*")
# capitalised words that are not names: a claim's first word, titles, function words
NOT_NAMES = STOP | {"after", "according", "but", "when", "while", "if", "mr", "ms", "mrs", "dr", "sen", "rep", "gov",
                    "president", "former", "senator", "speaker", "i"}


def _tokens(text: str) -> list[str]:
    return [t.strip("'") for t in _TOKEN.findall(text.lower())]


def _content(tokens: Sequence[str]) -> set[str]:
    return {t for t in tokens if t not in STOP and len(t) > 1}


def claim_names(text: str) -> set[str]:
    """The claim's names, lower-cased: its capitalised words, less titles and function words."""
    return {w.lower() for w in _NAME.findall(text)} - NOT_NAMES


def name_coverage(claim_text: str, article_tokens: set[str]) -> float:
    """Share of the claim's names among the article's words (1.0 for a claim without names)."""
    names = claim_names(claim_text)
    return sum(n in article_tokens for n in names) / len(names) if names else 1.0


def _cue_rate(tokens: Sequence[str], cues: set[str]) -> float:
    return sum(t in cues for t in tokens)


def to_features(pairs: Sequence[StancePair], article_texts: dict[str, str] | None = None) -> np.ndarray:
    """Features per pair, columns in FEATURES order. `article_texts` maps article_id to its text."""
    X = np.zeros((len(pairs), len(FEATURES)))
    article_tokens: dict[str, list[str]] = {}
    article_words: dict[str, set[str]] = {}
    for i, pair in enumerate(pairs):
        row = dict.fromkeys(FEATURES, 0.0)
        row["name_coverage"] = 1.0  # without the article's text, no name counts as missing
        claim_tokens = _tokens(pair.claim_text)
        claim_words = set(claim_tokens)
        if pair.evidence:
            ent = np.array([ev.entailment for ev in pair.evidence])
            con = np.array([ev.contradiction for ev in pair.evidence])
            neu = np.array([ev.neutral for ev in pair.evidence])
            sims = np.array([ev.similarity for ev in pair.evidence])
            gated = bool(neu.min() == 1.0 and ent.max() == 0.0 and con.max() == 0.0)
            ev_tokens = [_tokens(ev.sentence) for ev in pair.evidence]
            # the sentences that state the claim (entailment >= 0.5; else the most entailing one): the article
            # reports it as an allegation or as someone's words only if every one of them does
            stating_at = np.flatnonzero(ent >= 0.5) if ent.max() >= 0.5 else [ent.argmax()]
            stating = [set(ev_tokens[j]) for j in stating_at]
            quotes = [pair.evidence[j].sentence.lstrip().startswith(QUOTE_MARKS) for j in stating_at]
            says = SAYS - claim_words
            says_or_present = says | (SAYS_PRESENT - claim_words)
            row.update(
                similarity=pair.similarity, max_entailment=ent.max(), max_contradiction=con.max(),
                mean_entailment=ent.mean(), mean_contradiction=con.mean(), entailment_of_best=ent[0],
                contradiction_of_best=con[0], max_neutral=neu.max(), entailment_margin=ent.max() - con.max(),
                n_entailing=float((ent >= 0.5).sum()), n_contradicting=float((con >= 0.5).sum()),
                second_similarity=sims[1] if len(sims) > 1 else sims[0], mean_similarity=sims.mean(),
                gated=float(gated),
                refute_cues=np.mean([_cue_rate(t, REFUTE) for t in ev_tokens]),
                hedge_cues=np.mean([_cue_rate(t, HEDGE) for t in ev_tokens]),
                attribution_cues=np.mean([_cue_rate(t, ATTRIBUTION) for t in ev_tokens]),
                similarity_of_max_contradiction=sims[int(con.argmax())],
                entailing_hedged=float(all(words & ALLEGATION for words in stating)),
                entailing_attributed=float(all(words & says for words in stating)),
                entailing_quoted=float(all(q or bool(words & says_or_present) for words, q in zip(stating, quotes))),
                entailing_forecast=float(all(words & (FORECAST - claim_words) for words in stating)),
            )
        row["claim_hedged"] = float("?" in pair.claim_text or bool(claim_words & HEDGE))
        row["claim_attributed"] = float(bool(claim_words & CLAIM_REPORTS))
        row["claim_speech_act"] = float(bool(claim_words & HEADLINE_SPEECH)
                                        or bool(_SPEAKER_COLON.match(pair.claim_text.strip())))
        if pair.source_text:
            row["is_source"] = 1.0
            # an allegation cue the claim itself carries ("Trump accused Russia ...") is what the claim says
            row["source_hedged"] = float(bool((set(_tokens(pair.source_text)) & ALLEGATION) - claim_words))
        if article_texts and pair.article_id in article_texts:
            if pair.article_id not in article_tokens:
                article_tokens[pair.article_id] = _tokens(article_texts[pair.article_id])
                article_words[pair.article_id] = {t.removesuffix("'s") for t in article_tokens[pair.article_id]}
            tokens = article_tokens[pair.article_id]
            row["name_coverage"] = name_coverage(pair.claim_text, article_words[pair.article_id])
            claim_c, article_c = _content(claim_tokens), _content(tokens)
            row["claim_coverage"] = len(claim_c & article_c) / max(len(claim_c), 1)
            row["jaccard"] = len(claim_c & article_c) / max(len(claim_c | article_c), 1)
            per100 = 100.0 / max(len(tokens), 1)
            row["article_refute_rate"] = _cue_rate(tokens, REFUTE) * per100
            row["article_hedge_rate"] = _cue_rate(tokens, HEDGE) * per100
        X[i] = [row[name] for name in FEATURES]
    X[:, FEATURES.index("tfidf_cosine")] = tfidf_cosine(pairs, article_texts or {})
    return X


def tfidf_cosine(pairs: Sequence[StancePair], article_texts: dict[str, str]) -> np.ndarray:
    """Cosine of TF-IDF vectors (sublinear tf, English stop words), claim vs its article; the idf is fitted on the
    given articles, with no labels. 0 for a pair whose article text is not given."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    out = np.zeros(len(pairs))
    ids = sorted({p.article_id for p in pairs if p.article_id in article_texts})
    if not ids:
        return out
    try:
        vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit([article_texts[a] for a in ids])
    except ValueError:  # the articles hold only stop words: nothing to compare
        return out
    articles = vectorizer.transform([article_texts[a] for a in ids])
    row_of = {a: i for i, a in enumerate(ids)}
    rows = [i for i, p in enumerate(pairs) if p.article_id in row_of]
    claims = vectorizer.transform([pairs[i].claim_text for i in rows])
    picked = articles[[row_of[pairs[i].article_id] for i in rows]]
    out[rows] = np.asarray(claims.multiply(picked).sum(axis=1)).ravel()
    return out
