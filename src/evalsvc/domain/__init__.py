"""The pure domain core: questionnaire model, answers, scoring, statistics, summaries.

Nothing in this package does I/O or imports web, database or template code;
tests/test_architecture.py enforces that.
"""
