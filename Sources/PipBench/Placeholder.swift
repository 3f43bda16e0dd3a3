enum PipBenchPlaceholder {}
