"""Scheduling a planned study on Slurm: submit the shard array and its merge, resubmit what
did not finish, and say where every shard stands. The plan itself (jobs, seeds, scripts) is
lm_eval_passk.plan: pure text; this package is what runs the scheduler's commands."""
