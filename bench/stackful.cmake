# Native benchmarks of the green-thread backend.
