"""Peer tools measured side by side with the product (see ../shared/docs/PEERS.md).

The peers live in their own venv (`.venv-bench`, built by `setup_bench_env.sh`), never in the
product's dependencies. `load_data` and `metrics` import no peer and can be reused by the
product-side benchmark; `opendsm_runner` needs OpenDSM.
"""
