# Native benchmarks of the futures backend.
