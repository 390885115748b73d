"""caudal's benchmarks: `python -m bench` (or `make bench`), `--smoke` for tiny sizes.

Every case measures caudal and its baseline in the same run and reports their ratio; see
`docs/performance.md` for what each baseline means.
"""
