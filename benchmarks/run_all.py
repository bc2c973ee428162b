"""`make bench`: every benchmark, one after the other; results land in benchmarks/results/."""

from benchmarks import ingest


def main() -> None:
    ingest.main([])


if __name__ == "__main__":
    main()
