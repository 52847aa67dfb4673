"""Load and latency benchmark of Folio against a hand-written sqlite3 baseline: `make bench`.

`python -m bench --help` lists the options; `bench/README.md` says what each workload measures.
"""
