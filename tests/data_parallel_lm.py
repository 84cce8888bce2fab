"""A stand-in lm-eval model that runs data-parallel over torch.distributed (gloo, CPU),
so lm-eval's real multi-process path (each rank its share of problems, results gathered
to rank 0) runs without GPUs. Run as a script under `torch.distributed.run`: it
registers the model and hands the rest of its arguments to lm-eval's own CLI."""

from __future__ import annotations

import atexit
import hashlib
import sys

import torch
import torch.distributed as dist
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model


@register_model("passk-data-parallel-stand-in")
class DataParallelStandIn(LM):
    """Answers `\\boxed{2}` or `\\boxed{1}` by a hash of the prompt and the call count:
    varied correct counts, the same on every run. Each reply is long (over 200 characters)
    and distinct, as sampled chains of thought are, so the duplicate guard counts them."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__()
        dist.init_process_group("gloo")
        # Torn down before the interpreter exits: left to exit, gloo's threads sometimes
        # abort the process ("terminate called without an active exception", exit -6).
        atexit.register(dist.destroy_process_group)
        self._rank, self._world_size = dist.get_rank(), dist.get_world_size()
        self.calls = 0
        self._device = torch.device("cpu")

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        replies = []
        for request in requests:
            self.calls += 1
            digest = hashlib.sha256(f"{request.args[0]}|{self.calls}".encode()).digest()
            reasoning = f"Draft {digest.hex()[:16]}: " + "we check each step once more. " * 8
            replies.append(f"{reasoning}So the answer is \\boxed{{{1 + digest[0] % 2}}}.")
        return replies

    def loglikelihood(self, requests):
        raise NotImplementedError

    def loglikelihood_rolling(self, requests):
        raise NotImplementedError

    def all_gather(self, tensor: torch.Tensor) -> torch.Tensor:
        tensor = tensor.reshape(1) if tensor.dim() == 0 else tensor
        gathered = [torch.zeros_like(tensor) for _ in range(self._world_size)]
        dist.all_gather(gathered, tensor)
        return torch.cat(gathered)

    def gather_object(self, obj, dst: int = 0):
        gathered = [None] * self._world_size if self._rank == dst else None
        dist.gather_object(obj, gathered, dst=dst)
        return gathered

    def barrier(self) -> None:
        dist.barrier()


if __name__ == "__main__":
    from lm_eval.__main__ import cli_evaluate

    sys.argv = ["lm_eval", *sys.argv[1:]]
    cli_evaluate()
