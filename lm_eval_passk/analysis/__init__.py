"""Read lm-eval output directories and turn them into curves, comparisons, tables and plots."""
