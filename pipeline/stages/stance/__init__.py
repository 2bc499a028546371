"""The stance stage: from the NLI scores of a (claim, article)'s evidence to agree / disagree / discuss / unrelated.

`rule` (the documented threshold rule and the StanceHead base class), `features` (features for the learned heads),
`finetuned` (the NLI cross-encoder fine-tuned as a 4-way head), `heads` (load, save and apply any head).
Imports: `pipeline.core`, `pipeline.stages.nli`, `pipeline.learn.finetune`.
"""
