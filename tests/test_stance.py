"""features.py and stance.py: feature values and the RuleStance estimator contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from pipeline.core.records import STANCE_LABELS, Evidence, StancePair
from pipeline.stages.stance.features import FEATURES, to_features
from pipeline.stages.stance.rule import RuleStance


def _features(similarity: float, entailment: float, contradiction: float) -> list[float]:
    """One feature row with the evidence maxima, means and best-sentence values all equal."""
    values = {
        "similarity": similarity,
        "max_entailment": entailment,
        "max_contradiction": contradiction,
        "mean_entailment": entailment,
        "mean_contradiction": contradiction,
        "entailment_of_best": entailment,
        "contradiction_of_best": contradiction,
        "similarity_of_max_contradiction": similarity,
        "name_coverage": 1.0,
    }
    return [values.get(name, 0.0) for name in FEATURES]


# ---- to_features -------------------------------------------------------------------------------------------


def test_to_features_values():
    pair = StancePair(
        "k1",
        "The bridge opened.",
        "a1",
        "Daily One",
        0.8,
        (
            Evidence("best", 3, 0.8, entailment=0.2, neutral=0.1, contradiction=0.7),
            Evidence("second", 0, 0.6, entailment=0.9, neutral=0.05, contradiction=0.05),
            Evidence("third", 5, 0.4, entailment=0.1, neutral=0.8, contradiction=0.1),
        ),
    )
    X = to_features([pair])

    assert X.shape == (1, len(FEATURES))
    row = dict(zip(FEATURES, X[0], strict=True))
    assert {k: row[k] for k in FEATURES[:13]} == pytest.approx(
        {
            "similarity": 0.8,
            "max_entailment": 0.9,
            "max_contradiction": 0.7,
            "mean_entailment": 0.4,
            "mean_contradiction": 0.85 / 3,
            "entailment_of_best": 0.2,
            "contradiction_of_best": 0.7,
            "max_neutral": 0.8,
            "entailment_margin": 0.2,
            "n_entailing": 1.0,
            "n_contradicting": 1.0,
            "second_similarity": 0.6,
            "mean_similarity": 0.6,
        }
    )
    assert row["gated"] == 0.0 and row["claim_hedged"] == 0.0


def test_to_features_pair_without_evidence_is_zero():
    pairs = [
        StancePair("k1", "c", "a1", "o", 0.0),
        StancePair("k1", "c", "a2", "o", 0.5, (Evidence("s", 0, 0.5, 0.6, 0.3, 0.1),)),
    ]
    X = to_features(pairs)
    assert X.shape == (2, len(FEATURES))
    assert not np.delete(X[0], FEATURES.index("name_coverage")).any()
    assert X[1][FEATURES.index("gated")] == 0.0
    assert X[1][FEATURES.index("similarity")] == 0.5
    assert to_features([]).shape == (0, len(FEATURES))


# ---- RuleStance --------------------------------------------------------------------------------------------

CASES = {
    "unrelated": _features(0.10, 0.95, 0.02),  # strong entailment, but the article is not about the claim
    "agree": _features(0.80, 0.90, 0.05),
    "disagree": _features(0.80, 0.05, 0.90),
    "discuss": _features(0.80, 0.30, 0.20),
}


@pytest.fixture
def head() -> RuleStance:
    return RuleStance().fit()


@pytest.mark.parametrize("label", list(CASES))
def test_rule_labels(head, label):
    assert head.predict(np.array([CASES[label]])).tolist() == [label]


def _pair(claim: str, *evidence: Evidence, source_text: str = "") -> StancePair:
    return StancePair("k1", claim, "a1", "Reuters", max(e.similarity for e in evidence), tuple(evidence), source_text)


def test_a_sentence_that_states_the_claim_outweighs_an_unrelated_contradiction(head):
    """The seeds' k006 case: four outlets print "Russia is not helping us at all with North Korea" almost
    verbatim; another sentence of the article reads as a contradiction. The article agrees."""
    claim = "\u201cRussia is not helping us at all with North Korea,\u201d Trump told Reuters."  # as extracted
    verbatim = Evidence("\u201cRussia is not helping us at all with North Korea,\u201d Trump said.", 4, 0.93,
                        entailment=0.95, neutral=0.03, contradiction=0.02)
    elsewhere = Evidence("China is helping us with North Korea, Trump said.", 9, 0.62, entailment=0.01,
                         neutral=0.04, contradiction=0.95)
    X = to_features([_pair(claim, verbatim, elsewhere)])
    assert head.predict(X).tolist() == ["agree"]
    # without the stating sentence, a close contradiction does make it disagree
    assert head.predict(to_features([_pair(claim, elsewhere)])).tolist() == ["disagree"]


def test_a_contradiction_from_a_sentence_about_another_subject_is_not_a_disagreement(head):
    claim = "The mayor opened the new bridge on Monday."
    near = Evidence("The mayor opened the new bridge on Monday, officials said.", 0, 0.8, 0.1, 0.2, 0.7)
    far = Evidence("The weather was bad all week in the region.", 3, 0.3, 0.02, 0.08, 0.9)
    X = to_features([_pair(claim, near, far)])
    assert X[0, FEATURES.index("similarity_of_max_contradiction")] == pytest.approx(0.3)
    assert head.predict(X).tolist() != ["disagree"]


def test_an_allegation_is_discuss_for_a_bare_claim_and_agree_for_the_attributed_one(head):
    sentence = Evidence("Russian tankers allegedly transferred oil to North Korean ships.", 2, 0.85, 0.9, 0.08, 0.02)
    bare = to_features([_pair("Russian tankers transferred oil to North Korean ships.", sentence)])
    said = to_features([_pair("Security sources said Russian tankers transferred oil.", sentence)])
    assert head.predict(bare).tolist() == ["discuss"]
    assert head.predict(said).tolist() == ["agree"]


def test_a_bare_claim_that_the_article_gives_only_as_someones_words_is_discuss(head):
    """Label guide, hard case 1: a bare claim is agreed with only when the article asserts it in its own voice; an
    article that gives it as what someone said or argued reports it (discuss). The claim of that speech act agrees."""
    sentence = Evidence("Trump said Obama has spent $2 million in legal fees to get away from the issue.", 3, 0.8,
                        0.9, 0.08, 0.02)
    bare = to_features([_pair("Obama has paid $2 million in legal fees to avoid the issue.", sentence)])
    assert bare[0, FEATURES.index("entailing_attributed")] == 1.0
    assert head.predict(bare).tolist() == ["discuss"]
    for claim in ("Trump said Obama has paid $2 million in legal fees.",
                  "Trump described Obama's legal fees as $2 million spent to avoid the issue."):
        X = to_features([_pair(claim, sentence)])
        assert X[0, FEATURES.index("claim_attributed")] == 1.0
        assert head.predict(X).tolist() == ["agree"]
    # the article's own voice, or a public event it reports ("announced"), is agree
    own = Evidence("Obama has spent $2 million in legal fees, prosecutors announced.", 3, 0.8, 0.9, 0.08, 0.02)
    X = to_features([_pair("Obama has paid $2 million in legal fees to avoid the issue.", own)])
    assert X[0, FEATURES.index("entailing_attributed")] == 0.0
    assert head.predict(X).tolist() == ["agree"]


def test_quote_cues_read_a_quotation_or_a_present_tense_warning_as_someones_words():
    """basil-dev 1b96a5db c11: the law's risk is given only inside Obama's quoted veto message and as what officials
    "warn"; the article does not assert it (discuss). The claim of that warning agrees; the switch off keeps agree."""
    quoted = Evidence("\u201cAs a result, our nation may find itself subject to lawsuits in foreign courts.\u201d", 4,
                      0.7, 0.88, 0.1, 0.02)
    warn = Evidence("Administration officials warn that it would put Americans overseas at legal risk.", 2, 0.7,
                    0.95, 0.04, 0.01)
    claim = "The new law will leave Americans overseas open to lawsuits in foreign courts."
    with_cues, without = RuleStance(quote_cues=True).fit(), RuleStance(quote_cues=False).fit()
    for sentence in (quoted, warn):
        X = to_features([_pair(claim, sentence)])
        assert X[0, FEATURES.index("entailing_quoted")] == 1.0
        assert X[0, FEATURES.index("entailing_attributed")] == 0.0  # SAYS alone ("warned", "warns") does not see it
        assert with_cues.predict(X).tolist() == ["discuss"]
        assert without.predict(X).tolist() == ["agree"]
    said = to_features([_pair("Officials warned the law exposes Americans to lawsuits abroad.", warn)])
    assert with_cues.predict(said).tolist() == ["agree"]
    own = to_features([_pair(claim, Evidence("The law leaves Americans open to lawsuits abroad.", 0, 0.8, 0.9,
                                             0.08, 0.02))])
    assert own[0, FEATURES.index("entailing_quoted")] == 0.0 and with_cues.predict(own).tolist() == ["agree"]


def test_forecast_cues_read_an_expected_event_as_not_yet_done():
    """basil-dev f506aafc c04 (NOTES.md, "expected vs. done"): "is expected to plead guilty" does not report that
    she pleaded guilty: discuss, even for an attributed claim. A claim that is itself a forecast agrees."""
    sentence = Evidence("His wife is expected to plead guilty to filing false tax returns.", 1, 0.8, 0.98, 0.01, 0.01)
    head = RuleStance(forecast_cues=True).fit()
    for claim in ("Jackson's wife pleaded guilty to a false tax filing charge.",
                  "Prosecutors said Jackson's wife pleaded guilty to a tax charge."):
        X = to_features([_pair(claim, sentence)])
        assert X[0, FEATURES.index("entailing_forecast")] == 1.0
        assert head.predict(X).tolist() == ["discuss"]
        assert RuleStance(forecast_cues=False).fit().predict(X).tolist() == ["agree"]
    forecast = to_features([_pair("Jackson's wife is expected to plead guilty to a tax charge.", sentence)])
    assert forecast[0, FEATURES.index("entailing_forecast")] == 0.0
    assert head.predict(forecast).tolist() == ["agree"]


def test_a_sentence_that_gives_part_of_the_claim_makes_it_discussed_with_entailment_weight():
    """basil-dev 2b9468af c05 (label guide: partial information is discuss): the article gives "his speech in March"
    for the claim "scheduled for March 3". The sentence entails part of the claim, below the agree threshold; with
    entailment_weight that part counts towards closeness (discuss), without it the similarity alone is too low."""
    claim = "Netanyahu's address to Congress is scheduled for March 3."
    partial = Evidence("Netanyahu will give his speech to Congress in March.", 2, 0.46, 0.35, 0.6, 0.05)
    X = to_features([_pair(claim, partial)])
    params = {"discuss_similarity": 0.5, "name_weight": 0.3, "unrelated_similarity": 0.35}
    assert RuleStance(**params, entailment_weight=0.2).fit().predict(X).tolist() == ["discuss"]
    assert RuleStance(**params, entailment_weight=0.0).fit().predict(X).tolist() == ["unrelated"]
    # a sentence that entails none of it gains nothing
    none = to_features([_pair(claim, Evidence("Netanyahu will give his speech to Congress.", 2, 0.46, 0.01, 0.98,
                                              0.01))])
    assert RuleStance(**params, entailment_weight=0.2).fit().predict(none).tolist() == ["unrelated"]


def test_headline_cues_read_a_headline_verb_of_speech_as_an_attributed_claim():
    """batch 4 a28a0329 c04 (NOTES.md): "Vanity Fair pegs cost ..." reports what Vanity Fair says, so an article that
    gives the figure as Vanity Fair's ("according to Vanity Fair") agrees; a bare claim stays discuss. The same for a
    headline that opens with its speaker and a colon."""
    sentence = Evidence("The reading cost taxpayers more than $1 million, according to Vanity Fair.", 1, 0.8, 0.95,
                        0.04, 0.01)
    on, off = RuleStance(headline_cues=True).fit(), RuleStance(headline_cues=False).fit()
    for claim in ("Vanity Fair pegs cost of Constitution reading at over $1 million",
                  "Vanity Fair: Constitution reading cost more than $1 million"):
        X = to_features([_pair(claim, sentence)])
        assert X[0, FEATURES.index("claim_speech_act")] == 1.0
        assert X[0, FEATURES.index("claim_attributed")] == 0.0  # the older word list does not see it
        assert on.predict(X).tolist() == ["agree"]
        assert off.predict(X).tolist() == ["discuss"]
    bare = to_features([_pair("The Constitution reading cost more than $1 million.", sentence)])
    assert bare[0, FEATURES.index("claim_speech_act")] == 0.0 and on.predict(bare).tolist() == ["discuss"]


def test_one_sentence_in_the_articles_own_voice_is_enough_to_agree(head):
    claim = "Conservative radio host Laura Ingraham backed Brat."
    said = Evidence("Ms. Ingraham, who backed Mr. Brat, said the result was a repudiation.", 4, 0.7, 0.75, 0.2, 0.05)
    own = Evidence("With help from radio hosts like Laura Ingraham, Mr. Brat won.", 2, 0.6, 0.6, 0.35, 0.05)
    assert head.predict(to_features([_pair(claim, said)])).tolist() == ["discuss"]
    X = to_features([_pair(claim, said, own)])
    assert X[0, FEATURES.index("entailing_attributed")] == 0.0
    assert head.predict(X).tolist() == ["agree"]


def test_a_far_off_contradiction_does_not_thin_out_a_stating_sentence():
    """basil-dev's "The Senate's override vote passed 97 to 1": the stating sentence (entailment 0.71) and a
    sentence about the House vote (contradiction 0.81, far from the claim) once split the mass, and discuss won."""
    claim = "The Senate's override vote passed 97 to 1."
    states = Evidence("This followed a 97-1 vote hours earlier in the Senate.", 3, 0.75, 0.71, 0.2, 0.09)
    house = Evidence("The House voted 348-77 to override on Wednesday.", 1, 0.52, 0.02, 0.17, 0.81)
    X = to_features([_pair(claim, states, house)], {"a1": "The Senate voted. The House voted."})
    assert RuleStance().fit().predict(X).tolist() == ["agree"]


def test_a_claim_that_reports_an_allegation_agrees_with_the_article_that_reports_it(head):
    sentence = Evidence("Prosecutors allegedly found that the couple spent $250,000 of campaign money.", 0, 0.8,
                        0.9, 0.08, 0.02)
    for claim in ("Prosecutors allege the couple spent $250,000 of campaign money.",
                  "According to prosecutors, the couple spent $250,000 of campaign money."):
        X = to_features([_pair(claim, sentence)])
        assert X[0, FEATURES.index("claim_attributed")] == 1.0
        assert head.predict(X).tolist() == ["agree"]


def test_name_coverage_counts_the_claims_names_found_in_the_article():
    claim = "Donald Trump said he backed Congress's override of the veto."
    pair = _pair(claim, Evidence("Congress voted to override the veto.", 0, 0.66, 0.05, 0.9, 0.05))
    row = lambda text: dict(zip(FEATURES, to_features([pair], {"a1": text})[0], strict=True))  # noqa: E731
    assert row("Congress's vote came on Wednesday.")["name_coverage"] == pytest.approx(1 / 3)  # donald, trump missing
    assert row("Mr. Trump praised Congress. Donald Trump spoke.")["name_coverage"] == 1.0
    assert row("a text without names")["name_coverage"] == 0.0
    assert to_features([pair])[0, FEATURES.index("name_coverage")] == 1.0  # no article text: nothing counts missing
    nameless = _pair("the vote was close.", Evidence("It was close.", 0, 0.7, 0.1, 0.8, 0.1))
    assert to_features([nameless], {"a1": "nothing"})[0, FEATURES.index("name_coverage")] == 1.0


def test_an_article_that_never_names_the_claims_actors_does_not_discuss_it():
    """Same-story articles: a sentence about the override is close to "Trump said he backed the override", but an
    article that never names Trump does not deal with the claim (step 2 of the rule)."""
    claim = "Donald Trump said he backed Congress's override of the veto."
    pair = _pair(claim, Evidence("Congress voted to override the veto.", 0, 0.66, 0.05, 0.9, 0.05))
    named = to_features([pair], {"a1": "Congress voted. Donald Trump was asked about it."})
    unnamed = to_features([pair], {"a1": "Congress voted to override the veto on Wednesday."})
    head = RuleStance(name_weight=0.2).fit()
    assert head.predict(named).tolist() == ["discuss"]
    assert head.predict(unnamed).tolist() == ["unrelated"]
    assert RuleStance(name_weight=0.0).fit().predict(unnamed).tolist() == ["discuss"]


def test_a_claims_own_source_article_agrees_or_discusses_when_hedged_never_disagrees(head):
    contradicting = Evidence("Nothing of the sort happened, the ministry said.", 1, 0.7, 0.01, 0.04, 0.95)
    plain = to_features([_pair("The ministry confirmed the talks.", contradicting,
                               source_text="The ministry confirmed the talks on Monday.")])
    hedged = to_features([_pair("The ministry confirmed the talks.", contradicting,
                                source_text="The ministry reportedly confirmed the talks.")])
    assert head.predict(plain).tolist() == ["agree"]
    assert head.predict(hedged).tolist() == ["discuss"]
    # the allegation is the claim's own content: the source that states the accusation agrees with it
    accusation = to_features([_pair("Trump accused Russia of helping North Korea evade sanctions.", contradicting,
                                    source_text="Trump has accused Russia of helping North Korea evade sanctions.")])
    assert head.predict(accusation).tolist() == ["agree"]


def test_rule_discuss_when_both_scores_are_below_threshold(head):
    X = np.array([_features(0.8, head.agree_threshold - 0.01, head.disagree_threshold - 0.01)])
    shares = RuleStance(smoothing=0.0).fit().predict_proba(X)[0]
    assert shares[STANCE_LABELS.index("agree")] == 0.0
    assert shares[STANCE_LABELS.index("disagree")] == 0.0
    assert head.predict(X)[0] == "discuss"
    # with the configured smoothing what the rule rules out keeps smoothing / 4, not a certain-looking 0
    assert head.predict_proba(X)[0][STANCE_LABELS.index("agree")] == pytest.approx(head.smoothing / 4)


def test_smoothing_keeps_every_label_and_mixes_in_the_uniform():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.uniform(0, 1, size=(200, len(FEATURES))), np.array(list(CASES.values()))])
    sharp = RuleStance(smoothing=0.0).fit()
    for smoothing in (0.1, 0.25, 0.5):
        soft = RuleStance(smoothing=smoothing).fit()
        assert soft.predict(X).tolist() == sharp.predict(X).tolist()
        np.testing.assert_allclose(soft.predict_proba(X), (1 - smoothing) * sharp.predict_proba(X) + smoothing / 4)
        assert soft.predict_proba(X).min() >= smoothing / 4 - 1e-12
    with pytest.raises(ValueError, match="smoothing"):
        RuleStance(smoothing=1.0).fit().predict_proba(X)


def test_predict_proba_rows_sum_to_one_and_predict_is_argmax(head):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(50, len(FEATURES)))
    X = np.vstack([X, np.array(list(CASES.values()))])

    probs = head.predict_proba(X)

    assert probs.shape == (len(X), len(STANCE_LABELS))
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert (probs >= -1e-12).all() and (probs <= 1).all()
    assert head.predict(X).tolist() == [STANCE_LABELS[i] for i in probs.argmax(axis=1)]
    assert list(head.classes_) == list(STANCE_LABELS)


def test_probabilities_are_never_negative(head):
    # BUG: when max entailment + max contradiction > 1 (they come from different sentences), discuss is
    # computed as 1 - e/total - c/total, which rounds to -1.1e-16 for e=0.7, c=0.6: a negative probability.
    probs = head.predict_proba(np.array([_features(0.8, 0.7, 0.6), _features(0.8, 0.6, 0.7)]))
    assert (probs >= 0).all(), probs


def test_thresholds_change_the_decision():
    X = np.array([_features(0.8, 0.6, 0.05)])
    assert RuleStance().fit().predict(X)[0] == "agree"
    assert RuleStance(agree_threshold=0.7).fit().predict(X)[0] == "discuss"
    assert RuleStance(unrelated_similarity=0.9).fit().predict(X)[0] == "unrelated"


def test_get_params_returns_constructor_args():
    params = {
        "unrelated_similarity": 0.2,
        "discuss_similarity": 0.5,
        "temperature": 0.1,
        "agree_threshold": 0.6,
        "disagree_threshold": 0.7,
        "contradiction_similarity": 0.4,
        "name_weight": 0.3,
        "smoothing": 0.1,
        "quote_cues": True,
        "forecast_cues": True,
        "entailment_weight": 0.1,
        "headline_cues": True,
    }
    assert RuleStance(**params).get_params() == params
    # the class defaults are the configured rule (conf/stance/rule.yaml), so code and config cannot drift apart
    from omegaconf import OmegaConf

    configured = OmegaConf.load(Path(__file__).parents[1] / "conf" / "stance" / "rule.yaml")
    assert RuleStance().get_params() == {k: v for k, v in configured.items() if k != "_target_"}


def test_fit_clone_fit():
    X = np.array(list(CASES.values()))
    y = np.array(list(CASES))
    head = RuleStance(agree_threshold=0.6)
    assert head.fit(X, y) is head

    twin = clone(head)
    assert twin is not head
    assert twin.get_params() == head.get_params()
    assert not hasattr(twin, "classes_")
    assert twin.fit(X, y).predict(X).tolist() == head.predict(X).tolist() == list(CASES)
    assert head.score(X, y) == 1.0


def test_predict_before_fit_raises_not_fitted():
    # STYLE.md: "predict and predict_proba call check_is_fitted first"; RuleStance does not.
    X = np.array([CASES["agree"]])
    with pytest.raises(NotFittedError):
        RuleStance().predict_proba(X)
    with pytest.raises(NotFittedError):
        RuleStance().predict(X)


def test_text_features_from_article_text():
    pair = StancePair("k1", "Reportedly the mayor opened the bridge?", "a1", "o", 0.7,
                      (Evidence("Officials denied the mayor opened it, according to reports.", 0, 0.7, 0.1, 0.2, 0.7),))
    row = dict(zip(FEATURES, to_features([pair], {"a1": "The mayor never opened the bridge. It is a hoax."})[0]))
    assert row["claim_hedged"] == 1.0
    assert row["claim_coverage"] == pytest.approx(3 / 4)   # mayor, opened, bridge of reportedly/mayor/opened/bridge
    assert row["refute_cues"] == 1.0 and row["attribution_cues"] == 2.0  # denied; according, reports
    assert row["article_refute_rate"] == pytest.approx(200 / 10)


def test_rule_fit_with_labels_learns_thresholds_without_changing_params():
    rng = np.random.default_rng(1)
    n = 400
    sim = rng.uniform(0, 1, n)
    ent, con = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    gold = np.where(sim < 0.3, "unrelated", np.where(ent > 0.7, "agree", np.where(con > 0.7, "disagree", "discuss")))
    X = np.array([_features(s, e, c) for s, e, c in zip(sim, ent, con)])
    rule = RuleStance()
    params = rule.get_params()
    rule.fit(X, gold)
    assert rule.get_params() == params                      # learned state lives in thresholds_
    assert rule.thresholds_["unrelated_similarity"] == pytest.approx(0.3, abs=0.11)  # one step of the 0.1 grid
    assert rule.thresholds_["agree_threshold"] == pytest.approx(0.7, abs=0.11)
    assert (rule.predict(X) == gold).mean() > 0.85
    assert rule.train_macro_f1_ > 0.8


def test_tfidf_cosine_hand_checked():
    from pipeline.stages.stance.features import tfidf_cosine

    texts = {"a": "The bridge opened. The bridge is long.", "b": "Storms hit the coast."}
    pairs = [StancePair("c", "bridge opened", "a", "A", 0.5), StancePair("c", "bridge opened", "b", "B", 0.5),
             StancePair("c", "bridge opened", "missing", "M", 0.5)]
    cos = tfidf_cosine(pairs, texts)
    assert cos[0] > 0.5 and cos[1] == 0.0 and cos[2] == 0.0
    # the claim's words are a subset of article a's: its cosine is below 1 (article a also has "long")
    assert cos[0] < 1.0
    assert to_features(pairs, texts)[:, FEATURES.index("tfidf_cosine")] == pytest.approx(cos)


def test_rule_fit_never_scores_below_its_configured_thresholds():
    """The configured values join the grid, so a fit on (X, y) is at least as good there, even off the grid."""
    from pipeline.stages.stance.rule import _macro_f1

    rng = np.random.default_rng(3)
    X = rng.uniform(0, 1, (200, len(FEATURES)))
    y = np.array(STANCE_LABELS)[rng.integers(0, 4, 200)]
    gold = np.array([STANCE_LABELS.index(v) for v in y])
    configured = RuleStance(unrelated_similarity=0.333, discuss_similarity=0.777, agree_threshold=0.41,
                            disagree_threshold=0.59)
    before = _macro_f1(gold, configured.fit().predict_proba(X).argmax(1), 4)

    fitted = RuleStance(**configured.get_params()).fit(X, y)

    assert fitted.train_macro_f1_ >= round(before, 4)


def test_a_rule_saved_before_smoothing_and_the_cues_loads_as_it_was_saved(tmp_path):
    import joblib

    old = RuleStance().fit()
    # what a pickle from before rule step 8, step 3's cues and step 2's entailment weight holds
    del old.smoothing, old.quote_cues, old.forecast_cues, old.entailment_weight, old.headline_cues
    joblib.dump(old, tmp_path / "head.joblib")
    loaded = joblib.load(tmp_path / "head.joblib")
    keys = ("smoothing", "quote_cues", "forecast_cues", "entailment_weight", "headline_cues")
    assert {k: loaded.get_params()[k] for k in keys} == {
        "smoothing": 0.0, "quote_cues": False, "forecast_cues": False, "entailment_weight": 0.0, "headline_cues": False}
    X = np.array(list(CASES.values()))
    as_saved = RuleStance(smoothing=0.0, quote_cues=False, forecast_cues=False, entailment_weight=0.0).fit()
    np.testing.assert_allclose(loaded.predict_proba(X), as_saved.predict_proba(X))


def test_a_head_saved_with_other_features_is_refused_with_one_line(tmp_path, cfg_factory):
    """A head that `make train` saved before the features changed (here: before the quote and forecast columns) is
    refused with a message naming its sidecar, not applied to columns it was not fitted on."""
    import json

    from pipeline.core.records import PipelineError
    from pipeline.stages.stance.heads import SIDECAR, load_head, save_head

    out = tmp_path / "head"
    save_head(RuleStance().fit(), out, {"selected": "rule"})
    sidecar = json.loads((out / SIDECAR).read_text())
    sidecar["features"] = [f for f in FEATURES if f not in ("entailing_quoted", "entailing_forecast")]
    (out / SIDECAR).write_text(json.dumps(sidecar))
    with pytest.raises(PipelineError, match="trained on other features; run `make train` again") as err:
        load_head(cfg_factory(f"stance.path={out}"))
    assert SIDECAR in str(err.value)
