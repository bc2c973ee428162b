from benchmarks.control.bench import main

main()
