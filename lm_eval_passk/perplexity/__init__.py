"""Perplexity of a run's responses under another model, through lm-eval's LM API (issue 15)."""
