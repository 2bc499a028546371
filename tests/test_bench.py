"""`make bench` on a tiny input: runs end to end in one process and writes the JSON keys the issue asks for.
(No timing is asserted: speed targets are checked by reading the benchmark's output, not by a unit test.)"""

from __future__ import annotations

import json

import pytest

from pipeline import bench
from pipeline.core import atomic
from pipeline.learn import fnc
from tests.test_train import write_fnc


def write_labelled(root):
    root.mkdir()
    (root / "a.txt").write_text("The mayor opened the new bridge on Monday. Officials said it cost four million "
                                "dollars. Critics said the council ignored the warnings.")
    (root / "b.txt").write_text("The mayor did not open the bridge on Monday; it stays closed. Heavy rain is "
                                "expected across the region this weekend.")
    (root / "claims.jsonl").write_text('{"id": "c1", "text": "The mayor opened the bridge."}\n'
                                       '{"id": "c2", "text": "A bakery won an award."}\n')
    (root / "labels.csv").write_text("claim_id,article_id,label,note\nc1,a,agree,\nc1,b,disagree,\n"
                                     "c2,a,unrelated,\nc2,b,unrelated,\n")


def test_bench_writes_its_keys(cfg_factory, tmp_path, tiny_nli_model):
    write_fnc(tmp_path / "datasets", n_bodies=10)
    write_labelled(tmp_path / "seeds")
    bodies, _ = fnc.load_fnc(tmp_path / "datasets")
    atomic.write_text(tmp_path / "split.csv", fnc.split_text(fnc.split_bodies(list(bodies), 0.5, 1)))
    cfg = cfg_factory(f"paths.datasets={tmp_path / 'datasets'}", f"bench.fnc_split_file={tmp_path / 'split.csv'}",
                      f"model.name={tiny_nli_model}", f"model.onnx_cache={tmp_path / 'onnx'}", "bench.fnc_pairs=8",
                      "bench.nli_pairs=16", "bench.measure_rss=false", f"stance.path={tmp_path / 'no-head'}",
                      f"data.articles={tmp_path / 'seeds'}", f"data.claims={tmp_path / 'seeds' / 'claims.jsonl'}",
                      f"data.stance_labels={tmp_path / 'seeds' / 'labels.csv'}",
                      f"bench.compare_models=[{tiny_nli_model}]", "bench.model_pairs=8",
                      "bench.scale.enabled=false", "bench.kernel_cache.calls=2", config_name="bench")
    result = bench.run(cfg)
    saved = json.loads((tmp_path / "reports" / "bench" / "bench.json").read_text())
    assert saved == json.loads(json.dumps(result))
    for key in ("nli_pairs_per_s", "best_backend", "e2e_speedup_vs_naive", "macro_f1", "naive_macro_f1",
                "peak_rss_mb", "flops_utilisation", "projection_25k_pairs_min"):
        assert key in saved, key
    assert set(saved["nli_pairs_per_s"]) == {"torch_fp32", "torch_bf16", "onnx_int8"}
    assert saved["best_backend"] in saved["nli_pairs_per_s"]
    assert saved["workload"]["fnc_dev_pairs"] == 8 and saved["workload"]["seed_pairs"] == 2 * 2
    assert saved["nli_calls"]["naive"] > saved["nli_calls"]["ours"]
    assert saved["backends"]["torch_fp32"]["argmax_agreement_vs_fp32"] == 1.0
    assert saved["models"][tiny_nli_model.name]["pairs_per_s"] > 0
    assert all(0 <= v["flops_utilisation"] <= 1 for v in saved["backends"].values())  # the peak is an upper bound
    kernels = saved["kernel_cache"]
    assert list(kernels) == ["1024", "8"] and kernels["1024"]["rss_vs_first"] == 1.0
    assert all(v["peak_rss_mb"] > 100 and v["seconds"] > 0 for v in kernels.values())
    assert not list((tmp_path / "reports" / "bench").glob("kernel_*.json"))  # the probe's job files are removed


def test_peak_rss_is_the_probes_own_not_this_process():
    """A child forked from a large process inherits its high-water mark; the probe must not report that."""
    from pipeline.bench import peak_rss_mb

    ballast = bytearray(400 * 2**20)
    ballast[::4096] = b"\x01" * len(ballast[::4096])  # touch every page: this process now holds >= 400 MB

    child = peak_rss_mb(["-c", "x = bytearray(100 * 2**20); x[::4096] = b'1' * len(x[::4096])"])

    assert 100 <= child < 300, child
    assert len(ballast) == 400 * 2**20


def test_peak_rss_probe_runs_with_the_given_environment():
    from pipeline.bench import peak_rss_mb

    check = "import os, sys; sys.exit(os.environ['ONEDNN_PRIMITIVE_CACHE_CAPACITY'] != '1024')"
    peak_rss_mb(["-c", check], env={"ONEDNN_PRIMITIVE_CACHE_CAPACITY": "1024"})
    with pytest.raises(RuntimeError):
        peak_rss_mb(["-c", check], env={"ONEDNN_PRIMITIVE_CACHE_CAPACITY": "8"})


@pytest.mark.parametrize(("given", "expected"), [(None, "8"), ("64", "64")])
def test_package_bounds_the_onednn_kernel_cache_unless_told_otherwise(given, expected):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_PRIMITIVE_CACHE_CAPACITY"}
    if given:
        env["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = given
    show = "import os, pipeline; print(os.environ['ONEDNN_PRIMITIVE_CACHE_CAPACITY'])"
    out = subprocess.run([sys.executable, "-c", show], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == expected


def test_peak_rss_probe_failure_raises_with_stderr():
    from pipeline.bench import peak_rss_mb

    with pytest.raises(RuntimeError, match="boom"):
        peak_rss_mb(["-c", "raise SystemExit('boom')"])


def test_rss_probe_runs_infer_cold_with_the_bench_overrides(cfg_factory, tmp_path):
    cfg = cfg_factory(config_name="bench")
    bench_dir = tmp_path / "reports" / "bench"
    bench_dir.mkdir(parents=True)
    (bench_dir / "rss_embeddings.sqlite").write_text("left by an earlier probe")

    args = bench.inference_probe_args(cfg, ["stance=rule", "model.backend=onnx", "model.name=elsewhere",
                                            "cache.embeddings=/warm.sqlite"])

    assert args[:2] == ["-m", "pipeline.infer"]
    given = dict(a.split("=", 1) for a in args[2:])
    assert given["stance"] == "rule" and given["model.backend"] == "onnx"  # the user's overrides reach the probe
    assert given["model.name"] == cfg.model.name  # keys the probe sets are not given twice
    assert sum(a.startswith("model.name=") for a in args) == 1
    assert given["cache.embeddings"] == str(bench_dir / "rss_embeddings.sqlite")  # a cold cache: the encoder loads
    assert given["cache.path"] == str(bench_dir / "rss_cache.sqlite")
    assert not (bench_dir / "rss_embeddings.sqlite").exists()


@pytest.mark.parametrize(("flags", "dtype", "per_cycle"), [
    ("fpu avx2 avx512f avx512_bf16 amx_bf16 amx_int8", "bf16", 1024),
    ("fpu avx2 avx512f avx512_bf16", "bf16", 128),
    ("fpu avx2 avx512f", "fp32", 64),
    ("fpu avx2", "fp32", 32),
    ("fpu avx2 avx512f avx512_vnni", "int8", 256),
])
def test_peak_flops_counts_both_fma_units_and_amx(flags, dtype, per_cycle, monkeypatch):
    from pipeline import bench

    monkeypatch.setattr(bench, "_max_ghz", lambda cpuinfo: 2.0)
    peak, how = bench.peak_flops(dtype, cpuinfo=f"processor\t: 0\nflags\t\t: {flags}\n", cores=2)
    assert peak == 2 * 2.0e9 * per_cycle and f"{per_cycle} {dtype}" in how


def _scale_cfg(cfg_factory, tmp_path, tiny_nli_model, *extra):
    """The scale section's config over a four-article, two-story feed (BASIL-like gold, no FNC-1 bodies, no Ray)."""
    budget = ("The city council approved a new budget on Tuesday after a long debate. The budget raises spending "
              "on schools by ten percent. Council members said a new hotel tax would pay for it.")
    storm = ("A powerful storm hit the coast on Sunday, cutting power to thousands of homes. Forecasters said the "
             "storm would weaken as it moved inland. Schools in three counties were closed on Monday.")
    rows = [{"id": f"b{i}", "outlet": f"O{i}", "title": "Council passes budget raising school spending",
             "published": "2017-03-07", "text": budget} for i in range(2)]
    rows += [{"id": f"s{i}", "outlet": f"O{i}", "title": "Storm cuts power on the coast",
              "published": "2017-03-05", "text": storm.replace("Sunday", day)} for i, day in enumerate(["Sunday",
                                                                                                      "Sunday night"])]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in rows))
    gold = tmp_path / "stories.csv"
    gold.write_text("id,event,year,split\n" + "".join(f"{r['id']},{r['id'][0]},2017,report\n" for r in rows))
    return cfg_factory(f"bench.scale.basil_feed={feed}", f"bench.scale.basil_gold={gold}", "bench.scale.fnc_bodies=0",
                       "bench.scale.ray=false",
                       f"bench.scale.overrides=['model.name={tiny_nli_model}','report.story_pages=1']",
                       f"model.name={tiny_nli_model}", *extra, config_name="bench")


def test_scale_section_scores_story_grouping_and_counts_the_one_story_way(cfg_factory, tmp_path, tiny_nli_model):
    from pipeline.bench import peak_rss_mb
    from pipeline.bench_scale import run_scale

    scale = run_scale(_scale_cfg(cfg_factory, tmp_path, tiny_nli_model), tmp_path / "bench", peak_rss_mb)
    basil = scale["basil"]
    assert basil["report_pages"] == 3  # the index and one page per story (more stories than report.story_pages)
    assert 0 <= basil["largest_report_page_mb"] <= basil["report_mb"]
    assert basil["stories_found"] == 2 and basil["grouping"]["b3_f1"] == 1.0
    assert basil["articles"] == 4 and basil["peak_rss_mb"] > 0
    # the duplicate budget copies are scored once; each story's claims only meet that story's articles
    assert 0 < basil["nli_calls"] <= basil["perfect_grouping_nli_calls"] < basil["one_story_nli_calls"]
    assert basil["calls_with_merge_vs_perfect_grouping"] == round(
        (basil["nli_calls"] + basil["merge_nli_calls"]) / basil["perfect_grouping_nli_calls"], 3)
    assert scale["backends"] == {"skipped": "bench.scale.ray=false"}
    assert basil["caches"] == "fresh"


def test_scale_caches_kept_in_cache_dir_are_reused_by_the_next_run(cfg_factory, tmp_path, tiny_nli_model):
    """`bench.scale.cache_dir` keeps each input's caches, so a long real-model run cut short resumes: the second run
    reads the first one's NLI scores back (same calls, same stories) and its row says the caches were reused."""
    from pipeline.bench import peak_rss_mb
    from pipeline.bench_scale import run_scale

    kept = tmp_path / "kept"
    cfg = _scale_cfg(cfg_factory, tmp_path, tiny_nli_model, f"bench.scale.cache_dir={kept}")
    first = run_scale(cfg, tmp_path / "bench", peak_rss_mb)["basil"]
    assert first["caches"] == "fresh" and (kept / "basil_nli.sqlite").stat().st_size > 0
    again = run_scale(cfg, tmp_path / "bench", peak_rss_mb)["basil"]
    assert again["caches"] == f"reused from {kept}"
    assert (again["nli_calls"], again["stories_found"]) == (first["nli_calls"], first["stories_found"])
    assert first["nli_calls_computed"] > 0 and again["nli_calls_computed"] == 0


def test_scale_input_with_the_nli_model_stubbed_counts_calls_and_says_so(cfg_factory, tmp_path):
    """`bench.scale.stub_nli` runs an input with `model=none`: every stage but the NLI model; the calls are counted
    and the record (and run.json's notes) say that no model ran."""
    from pipeline.bench import peak_rss_mb
    from pipeline.bench_scale import run_scale

    text = ("The city council approved a new budget on Tuesday after a long debate. The budget raises spending "
            "on schools by ten percent. Council members said a new hotel tax would pay for it.")
    rows = [{"id": f"b{i}", "outlet": f"O{i}", "title": "Council passes budget", "text": text.replace("ten", n)}
            for i, n in enumerate(["ten", "twelve"])]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in rows))
    gold = tmp_path / "stories.csv"
    gold.write_text("id,event,year,split\nb0,b,2017,report\nb1,b,2017,report\n")
    cfg = cfg_factory(f"bench.scale.basil_feed={feed}", f"bench.scale.basil_gold={gold}", "bench.scale.fnc_bodies=0",
                      "bench.scale.ray=false", "bench.scale.stub_nli=[basil]", "bench.scale.overrides=[]",
                      config_name="bench")
    basil = run_scale(cfg, tmp_path / "bench", peak_rss_mb)["basil"]
    assert basil["nli"].startswith("stubbed") and basil["nli_calls"] == 2 * 3 * basil["claims"]
    run = json.loads((tmp_path / "bench" / "scale" / "basil" / "run.json").read_text())
    assert run["model"] == {"name": "none"} and "no NLI model ran" in run["notes"]["no_nli"]


def test_onnx_wrapper_passes_token_types_only_to_models_that_take_them():
    # MPNet (the default NLI base) has no token types; its forward refuses the keyword (make bench crashed on it)
    from types import SimpleNamespace

    import torch

    from pipeline.stages.nli.onnx import _LogitsOnly

    class NoTokenTypes(torch.nn.Module):
        def forward(self, input_ids, attention_mask):
            return SimpleNamespace(logits=(input_ids * attention_mask).float())

    class WithTokenTypes(torch.nn.Module):
        def forward(self, input_ids, attention_mask, token_type_ids=None):
            return SimpleNamespace(logits=(input_ids + token_type_ids).float())

    ids, mask = torch.tensor([[2, 3]]), torch.tensor([[1, 0]])
    assert _LogitsOnly(NoTokenTypes())(ids, mask).tolist() == [[2.0, 0.0]]
    assert _LogitsOnly(WithTokenTypes())(ids, mask, torch.tensor([[1, 1]])).tolist() == [[3.0, 4.0]]


def _scale_row(nli: str, peak_rss_mb: float, computed: int) -> dict:
    return {"nli": nli, "articles": 10, "stories_found": 2, "gold_stories": 2, "grouping": {"b3_f1": 1.0},
            "nli_calls": 100, "nli_calls_computed": computed, "merge_nli_calls": 5, "perfect_grouping_nli_calls": 90,
            "calls_vs_perfect_grouping": 1.111, "calls_with_merge_vs_perfect_grouping": 1.167,
            "one_story_nli_calls": 400, "calls_vs_one_story": 0.25, "wall_s": 3.0, "peak_rss_mb": peak_rss_mb,
            "caches": "fresh", "report_pages": 3, "largest_report_page_mb": 0.1}


@pytest.mark.parametrize(("feed_nli", "feed_rss", "memory_target"), [
    ("run", 1049.6, True), ("run", 2100.0, False),
    ("stubbed (model=none): calls counted, not run",
     900.0, "not measured with the NLI model (stubbed (model=none): calls counted, not run)")])
def test_scale_table_prints_the_computed_calls_and_judges_memory_only_from_a_real_feed_run(
        cfg_factory, tmp_path, monkeypatch, capsys, feed_nli, feed_rss, memory_target):
    """The printed table has one column per header (the computed share of a resumed run among them), and the feed's
    2 GB target is decided only by a run with the NLI model."""
    import pipeline.bench_scale

    scale = {"basil": _scale_row("run", 700.0, 0), "basil+fnc": _scale_row(feed_nli, feed_rss, 61),
             "backends": {"identical_output": True}}
    monkeypatch.setattr(pipeline.bench_scale, "run_scale", lambda *args: scale)
    cfg = cfg_factory(f"paths.reports={tmp_path}", config_name="bench")
    result = bench._with_scale(cfg, {})
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    header, feed = lines[0].split("|"), next(line for line in lines if line.startswith("| basil+fnc ")).split("|")
    assert len(header) == len(feed) and feed[header.index(" computed (rest cached) ")].strip() == "61"
    assert result["targets"]["peak_rss_mb<=2048_on_feed"] == memory_target
    assert json.loads((tmp_path / "bench" / "bench.json").read_text())["targets"] == result["targets"]
