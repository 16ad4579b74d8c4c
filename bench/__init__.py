"""Benchmarks for Switchboard: each figure is printed next to a baseline measured in the same run.

Run `python -m bench` for a quick pass over all of them, or one module on its own
(`python -m bench.accept --seconds 20`, `python -m bench.end_to_end`, `python -m bench.growth`,
`python -m bench.memory`). Everything runs on 127.0.0.1, is bounded in time and count, and
removes the processes and temporary files it made. docs/performance.md has the results.
"""
