"""One run: `encode` (faces -> codes and features), `fit` (the training loop), `evaluate` (the
one scoring path), `records` (the record types) and `store` (every path under `results/` and
`runs/`; the only code that reads or writes them)."""
