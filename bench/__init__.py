"""Benchmarks: each module prints its figures and writes bench/results/<name>.md."""

import index  # noqa: F401  (Kabar's thread defaults, set before any benchmark loads numpy)
