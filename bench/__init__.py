"""Performance benchmark of Sleutelbrug: `python -m bench [--quick]` (see bench/RESULTS.md)."""
