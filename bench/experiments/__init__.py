"""One-question experiments beside the benchmark: each measures one floor or one cost
(`python -m bench.experiments.floor`, ...), and records its figures in bench/results/."""
