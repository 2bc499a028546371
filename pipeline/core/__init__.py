"""Plumbing every other package uses: records and errors (`records`), file readers (`files`), atomic outputs
(`atomic`), on-disk caches (`cache`), MLflow tracking and run comparison (`tracking`), CLI helpers (`cli`),
Markdown tables (`tables`), the sentence encoder (`encoder`) and the offline base models (`basemodels`).

Imports: only other `pipeline.core` modules (and third-party libraries). Nothing here knows about stages or jobs.
"""
