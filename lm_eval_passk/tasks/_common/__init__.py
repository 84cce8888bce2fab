"""What every pass@k task shares: options, dataset loading, prompts, grading filter, task class."""
