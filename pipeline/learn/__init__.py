"""What fits models and the data they learn from: the shared fine-tuning loop (`finetune`), the NLI training and
test sets (`nli_data`), FNC-1 loading and its split (`fnc`), and the BASIL converter with the labelled-event split
(`basil`). The jobs `pipeline.nli_train` and `pipeline.train` drive them.

Imports: `pipeline.core` only (`nli_data` uses the sentence encoder to pick same-story neutral pairs).
"""
