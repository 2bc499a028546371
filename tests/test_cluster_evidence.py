"""cluster.py and evidence.py: clustering hand-made vectors, evidence retrieval, NLI inputs and scores."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.records import Article, CanonicalClaim, Claim, Evidence, PipelineError, Sentence, StancePair
from pipeline.stages.cluster import cluster_claims
from pipeline.stages.evidence import attach_scores, build_pairs, nli_inputs


def _unit(*angles_deg: float) -> np.ndarray:
    """Unit vectors in the plane at the given angles, `(n, 2)`."""
    rad = np.deg2rad(angles_deg)
    return np.stack([np.cos(rad), np.sin(rad)], axis=1)


def _claims(*texts: str) -> list[Claim]:
    return [Claim(f"a{i}:s000", f"a{i}", f"Outlet {i}", text) for i, text in enumerate(texts)]


# ---- cluster_claims ----------------------------------------------------------------------------------------


def test_cluster_groups_near_duplicates_in_first_appearance_order():
    claims = _claims("bridge A", "bakery A", "bridge B", "bakery B", "rain")
    # bridge ~0-10 degrees, bakery ~90 degrees, rain ~200 degrees: within groups cos >= 0.98, across <= 0.2
    emb = _unit(0, 90, 10, 95, 200)

    groups = cluster_claims(claims, emb, similarity_threshold=0.75)

    assert [g.claim_id for g in groups] == ["k001", "k002", "k003"]
    assert [[s.text for s in g.sources] for g in groups] == [
        ["bridge A", "bridge B"],
        ["bakery A", "bakery B"],
        ["rain"],
    ]
    for g in groups:
        assert g.text in {s.text for s in g.sources}
        assert g.article_ids is None


def test_cluster_ids_follow_input_order_not_label_numbers():
    claims = _claims("rain", "bridge A", "bridge B")
    groups = cluster_claims(claims, _unit(200, 0, 5))
    assert [(g.claim_id, [s.text for s in g.sources]) for g in groups] == [
        ("k001", ["rain"]),
        ("k002", ["bridge A", "bridge B"]),
    ]


def test_cluster_representative_is_the_medoid():
    claims = _claims("edge one", "middle", "edge two")
    groups = cluster_claims(claims, _unit(0, 10, 20))
    assert len(groups) == 1
    assert groups[0].text == "middle"
    assert len(groups[0].sources) == 3


def test_cluster_threshold_controls_merging():
    claims = _claims("x", "y")
    emb = _unit(0, 40)  # cosine 0.766
    assert len(cluster_claims(claims, emb, similarity_threshold=0.75)) == 1
    assert len(cluster_claims(claims, emb, similarity_threshold=0.80)) == 2


def test_cluster_single_and_empty():
    assert cluster_claims([], np.zeros((0, 2))) == []
    (only,) = cluster_claims(_claims("alone"), _unit(30))
    assert (only.claim_id, only.text, len(only.sources)) == ("k001", "alone", 1)


def test_cluster_with_the_bundled_encoder():
    from pipeline.core.encoder import embed_texts

    texts = [
        "Russia is helping North Korea evade international sanctions, Trump said.",
        "A local bakery won a national award for its sourdough bread.",
        "Trump accused Russia of helping North Korea get around the sanctions.",
        "The town bakery received a national prize for its sourdough loaf.",
    ]
    emb = embed_texts(texts)

    assert emb.shape == (4, 384)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-4)
    groups = cluster_claims(_claims(*texts), emb, similarity_threshold=0.75)
    assert [[s.text for s in g.sources] for g in groups] == [[texts[0], texts[2]], [texts[1], texts[3]]]


# ---- build_pairs -------------------------------------------------------------------------------------------


def _sentences(article_id: str, *texts: str) -> list[Sentence]:
    return [Sentence(article_id, i, 0, len(t), t) for i, t in enumerate(texts)]


@pytest.fixture
def retrieval():
    articles = [
        Article("a1", "Daily One", "..."),
        Article("a2", "Evening Two", ""),
        Article("a3", "Weekly Three", "..."),
    ]
    sentences = {
        "a1": _sentences("a1", "s-orth", "s-same", "s-close", "s-opposite"),
        "a2": [],
        "a3": _sentences("a3", "t-close", "t-far"),
    }
    sentence_emb = {"a1": _unit(90, 0, 30, 180), "a2": np.zeros((0, 2)), "a3": _unit(20, 120)}
    claims = [
        CanonicalClaim("k001", "claim at zero degrees"),
        CanonicalClaim("k002", "claim only for a3", article_ids=("a3",)),
    ]
    claim_emb = _unit(0, 120)
    return claims, claim_emb, articles, sentences, sentence_emb


def test_build_pairs_takes_top_k_by_similarity(retrieval):
    pairs = build_pairs(*retrieval, top_k=2)

    a1 = next(p for p in pairs if (p.claim_id, p.article_id) == ("k001", "a1"))
    assert [e.sentence for e in a1.evidence] == ["s-same", "s-close"]
    assert [e.sentence_index for e in a1.evidence] == [1, 2]
    assert [e.similarity for e in a1.evidence] == pytest.approx([1.0, np.cos(np.deg2rad(30))], abs=1e-4)
    assert a1.similarity == pytest.approx(1.0)
    assert (a1.claim_text, a1.outlet) == ("claim at zero degrees", "Daily One")
    assert all(e.entailment == e.neutral == e.contradiction == 0.0 for e in a1.evidence)


def test_build_pairs_top_k_larger_than_article(retrieval):
    pairs = build_pairs(*retrieval, top_k=10)
    a3 = next(p for p in pairs if (p.claim_id, p.article_id) == ("k001", "a3"))
    assert [e.sentence for e in a3.evidence] == ["t-close", "t-far"]


def test_build_pairs_respects_article_ids_and_empty_articles(retrieval):
    pairs = build_pairs(*retrieval, top_k=2)

    assert [(p.claim_id, p.article_id) for p in pairs] == [
        ("k001", "a1"),
        ("k001", "a2"),
        ("k001", "a3"),
        ("k002", "a3"),
    ]
    empty = pairs[1]
    assert (empty.similarity, empty.evidence, empty.outlet) == (0.0, (), "Evening Two")
    k2 = pairs[3]
    assert [e.sentence for e in k2.evidence] == ["t-far", "t-close"]
    assert k2.similarity == pytest.approx(1.0)


def test_build_pairs_join_adds_the_top_sentences_in_article_order(retrieval):
    pairs = build_pairs(*retrieval, top_k=3, join=2)
    a1 = next(p for p in pairs if (p.claim_id, p.article_id) == ("k001", "a1"))
    # the single sentences first, as without join; then the two most similar ones, joined in article order
    assert [e.sentence for e in a1.evidence] == ["s-same", "s-close", "s-orth", "s-same s-close"]
    assert a1.evidence[-1].sentence_index == 1
    assert a1.evidence[-1].similarity == pytest.approx(np.cos(np.deg2rad(30)), abs=1e-4)  # the lower of the two
    k2 = next(p for p in pairs if p.claim_id == "k002")
    assert k2.evidence[-1].sentence == "t-close t-far"  # article order, not similarity order
    one = build_pairs(*retrieval, top_k=1, join=2)  # fewer sentences than `join`: nothing joined
    assert all(len(p.evidence) <= 1 for p in one)
    assert build_pairs(*retrieval, top_k=3, join=0) == build_pairs(*retrieval, top_k=3)


# ---- nli_inputs / attach_scores ----------------------------------------------------------------------------


def test_nli_inputs_and_attach_scores_round_trip(retrieval):
    pairs = build_pairs(*retrieval, top_k=2)
    inputs = nli_inputs(pairs)

    expected = [(e.sentence, p.claim_text) for p in pairs for e in p.evidence]
    assert inputs == expected
    assert len(inputs) == 6  # 2 + 0 + 2 + 2

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=len(inputs))
    scored = attach_scores(pairs, probs)

    assert [(p.claim_id, p.article_id, p.similarity) for p in scored] == [
        (p.claim_id, p.article_id, p.similarity) for p in pairs
    ]
    back = np.array([(e.entailment, e.neutral, e.contradiction) for p in scored for e in p.evidence])
    assert back == pytest.approx(probs, abs=1e-4)
    assert [e.sentence for p in scored for e in p.evidence] == [premise for premise, _ in inputs]
    assert pairs[0].evidence[0].entailment == 0.0  # inputs are not mutated


def test_attach_scores_rounds():
    pair = StancePair("k1", "c", "a1", "o", 0.9, (Evidence("s", 0, 0.9),))
    (scored,) = attach_scores([pair], np.array([[0.123456, 0.654321, 0.222223]]), decimals=2)
    assert (scored.evidence[0].entailment, scored.evidence[0].neutral, scored.evidence[0].contradiction) == (
        0.12,
        0.65,
        0.22,
    )


def test_mutual_entailment_merges_paraphrases_that_embeddings_put_apart(stub_scorer):
    from pipeline.stages.cluster import merge_by_entailment

    claims = _claims("the mayor opened the bridge on monday", "on monday the mayor opened the bridge",
                     "the mayor opened the bridge", "a bakery won an award")
    emb = _unit(0, 50, 55, 180)  # 0 and 50 degrees: cos 0.64, below the clustering threshold, above the candidate one
    groups = cluster_claims(claims, emb, similarity_threshold=0.75)
    assert len(groups) == 3
    merged = merge_by_entailment(groups, claims, emb, stub_scorer, candidate_similarity=0.55, entailment=0.5)
    assert [[s.text for s in g.sources] for g in merged] == [
        ["the mayor opened the bridge on monday", "on monday the mayor opened the bridge",
         "the mayor opened the bridge"],
        ["a bakery won an award"],
    ]
    # claims whose closest sentences are less similar than candidate_similarity are never checked
    strict = merge_by_entailment(groups, claims, emb, stub_scorer, candidate_similarity=0.99, entailment=0.5)
    assert len(strict) == 3


def test_either_mode_groups_a_two_fact_sentence_with_its_main_claim(stub_scorer):
    """The label guide groups a sentence with two facts by its main clause: it entails the bare claim, not the
    reverse. `mode="mutual"` keeps them apart, `mode="either"` merges them; an unknown mode is refused."""
    from pipeline.stages.cluster import merge_by_entailment

    claims = _claims("the mayor opened the bridge and the council approved a new budget for the city schools",
                     "the mayor opened the bridge", "a bakery won an award")
    emb = _unit(0, 50, 180)
    groups = cluster_claims(claims, emb, similarity_threshold=0.75)
    assert len(merge_by_entailment(groups, claims, emb, stub_scorer, 0.55, 0.5, mode="mutual")) == 3
    either = merge_by_entailment(groups, claims, emb, stub_scorer, 0.55, 0.5, mode="either")
    assert [len(g.sources) for g in either] == [2, 1]
    with pytest.raises(PipelineError, match="nli_merge.mode"):
        merge_by_entailment(groups, claims, emb, stub_scorer, 0.55, 0.5, mode="one-way")


@pytest.mark.parametrize("text, core", [
    ("CNN reports that Trump declined to say whether he has spoken with Kim, adding that he doubts talks would help.",
     "Trump declined to say whether he has spoken with Kim."),
    ("Trump declined to say whether he had communicated with Kim, Reuters said.",
     "Trump declined to say whether he had communicated with Kim."),
    ("According to court records, the couple spent $250,000 on travel.", "The couple spent $250,000 on travel."),
    ("The mayor opened the bridge on Monday.", "The mayor opened the bridge on Monday."),
    ("Nobody else, he said.", "Nobody else, he said."),  # under four words would be left: kept whole
])
def test_claim_core_strips_the_reporting_frame(text, core):
    from pipeline.stages.cluster import claim_core

    assert claim_core(text) == core


def test_core_merge_groups_an_attributed_two_fact_sentence_with_the_bare_claim(stub_scorer):
    """"CNN reports that X, adding that Y" and "X, Reuters said": neither whole sentence entails the other (each has
    words the other lacks), but each states the other's core, so `core=True` merges them (label guide, hard case 13)."""
    from pipeline.stages.cluster import merge_by_entailment

    claims = _claims("CNN reports that trump declined to confirm whether he has communicated with kim, adding that "
                     "he doubts that direct talks would help solve the problem",
                     "trump declined to confirm whether he has communicated with kim, reuters said",
                     "a bakery won an award")
    emb = _unit(0, 50, 180)
    groups = cluster_claims(claims, emb, similarity_threshold=0.75)
    assert len(merge_by_entailment(groups, claims, emb, stub_scorer, 0.55, 0.5)) == 3
    merged = merge_by_entailment(groups, claims, emb, stub_scorer, 0.55, 0.5, core=True)
    assert [len(g.sources) for g in merged] == [2, 1]


def test_max_candidates_checks_only_each_claims_nearest_others(stub_scorer):
    """With `max_candidates=1` a pair is checked only when one claim is the other's nearest: the paraphrase at 50
    degrees is nobody's nearest (the bakery and the flood are closer), so it stays apart; uncapped it merges."""
    from pipeline.stages.cluster import merge_by_entailment

    claims = _claims("the mayor opened the bridge on monday", "a bakery won an award for its bread",
                     "on monday the mayor opened the bridge", "the river flooded the old town square")
    emb = _unit(0, 45, -50, -95)
    groups = cluster_claims(claims, emb, similarity_threshold=0.75)
    assert len(groups) == 4
    assert len(merge_by_entailment(groups, claims, emb, stub_scorer, 0.55, 0.5)) == 3
    assert len(merge_by_entailment(groups, claims, emb, stub_scorer, 0.55, 0.5, max_candidates=1)) == 4
    assert len(merge_by_entailment(groups, claims, emb, stub_scorer, 0.55, 0.5, max_candidates=2)) == 3


def test_local_backend_maps_in_order_and_builds_its_worker_once():
    from pipeline.core.backend import LocalBackend, build_backend

    built = []

    def factory():
        built.append(1)
        return lambda batch: [x * 2 for x in batch]

    assert list(LocalBackend().map(factory, [[1, 2], [3]])) == [[2, 4], [6]]
    assert built == [1]
    assert build_backend(None).name == "local"


def test_weaker_lets_one_direction_entail_less_surely():
    """A sentence with an added detail entails the bare claim surely (0.96) and is entailed by it less surely
    (0.75): `entailment=0.95` alone keeps them apart; with `weaker=0.7` they merge, with `weaker=0.8` they do not.
    Both directions at 0.75 stay apart even with `weaker`: one of them must reach `entailment`."""
    from pipeline.stages.cluster import merge_by_entailment

    detailed = "trump again declined to say whether he spoke with kim"
    bare = "trump declined to say if he spoke with kim"

    class Fixed:
        def __init__(self, table):
            self.table = table

        def score(self, pairs):
            return np.array([[self.table[p], 1.0 - self.table[p], 0.0] for p in pairs])

    claims = _claims(detailed, bare)
    emb = _unit(0, 50)
    groups = cluster_claims(claims, emb, similarity_threshold=0.75)
    one_way = Fixed({(detailed, bare): 0.96, (bare, detailed): 0.75})
    assert len(merge_by_entailment(groups, claims, emb, one_way, 0.55, 0.95)) == 2
    assert len(merge_by_entailment(groups, claims, emb, one_way, 0.55, 0.95, weaker=0.7)) == 1
    assert len(merge_by_entailment(groups, claims, emb, one_way, 0.55, 0.95, weaker=0.8)) == 2
    neither = Fixed({(detailed, bare): 0.75, (bare, detailed): 0.75})
    assert len(merge_by_entailment(groups, claims, emb, neither, 0.55, 0.95, weaker=0.7)) == 2


@pytest.mark.parametrize("linkage", ["average", "complete", "single"])
@pytest.mark.parametrize("threshold", [0.6, 0.8])
def test_clustering_component_by_component_gives_the_same_partition(monkeypatch, linkage, threshold):
    """Clustering each connected component of the similarity graph alone (what large inputs do, to avoid holding
    all n^2 distances) gives the partition of one clustering of everything."""
    from sklearn.cluster import AgglomerativeClustering

    import pipeline.stages.cluster as cluster

    rng = np.random.default_rng(7)
    centres = rng.normal(size=(12, 16))
    x = np.repeat(centres, 25, axis=0) + rng.normal(scale=0.6, size=(300, 16))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    whole = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage=linkage,
                                    distance_threshold=1.0 - threshold).fit_predict(x)
    monkeypatch.setattr(cluster, "COMPONENTS_FROM", 0)
    parts = cluster.agglomerative_labels(x, threshold, linkage)

    def partition(labels):
        return sorted(sorted(np.flatnonzero(labels == k).tolist()) for k in np.unique(labels))

    assert partition(parts) == partition(whole)
    # not trivial: several components, several clusters, and clusters of more than one claim
    from scipy.sparse.csgraph import connected_components
    from sklearn.neighbors import radius_neighbors_graph

    n_parts, _ = connected_components(radius_neighbors_graph(x, 1.0 - threshold, metric="cosine"), directed=False)
    assert 1 < n_parts and 1 < len(np.unique(whole)) < 300
