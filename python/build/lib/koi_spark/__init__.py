"""Koi on Apache Spark: `score_per_chain` (many chains, applyInArrow) and
`score_one_chain` (one huge chain: koi stats per partition, koi fit and koi
merge on the driver), both calling the koi binary as a subprocess."""

from .runner import KoiError, koi_binary, run_koi
from .spark import score_one_chain, score_per_chain, shard_of, write_outputs

__all__ = ["KoiError", "koi_binary", "run_koi", "score_one_chain", "score_per_chain", "shard_of", "write_outputs"]
__version__ = "0.1.0"
