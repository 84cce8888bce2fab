"""CoT verification: judge the reasoning of answer-correct responses through any lm-eval model."""
