"""The inference stages, in data-flow order:

    ingest -> segment -> cluster -> evidence -> nli -> stance -> report

`ingest` (read and clean articles), `segment` (sentences and candidate claims), `cluster` (canonical claims across
outlets), `evidence` (top-k sentences per claim and article), `nli/` (the NLI scorer and its backends: torch in
`scorer`, ONNX Runtime in `onnx`), `stance/` (the decision per claim and article: the rule in `rule`, the learned
heads in `features`, `finetuned` and `heads`), `report/` (the HTML report in `page`, its CSS and JS in `assets`,
the matplotlib figures in `figures`).

Imports: `pipeline.core`, earlier stages, and `pipeline.learn.finetune` (the training loop that the learned stance
heads fit with). Never `pipeline.predict` (the orchestrator) or a job.
"""
