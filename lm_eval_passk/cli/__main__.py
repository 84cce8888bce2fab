"""`python -m lm_eval_passk.cli`, as the console script."""

from lm_eval_passk.cli import main

raise SystemExit(main())
