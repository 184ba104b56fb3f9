"""The bottom layer: run configuration, paths (the only reader of environment variables),
atomic writes and provenance. It imports nothing else of dmh."""
