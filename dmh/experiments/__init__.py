"""Experiments: profiles (objects), the validation rule, the table of named grids, and the
runner, the only code that trains (deep runs, shallow fits, the floors)."""
