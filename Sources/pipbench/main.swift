import PipBench

print("pipbench")
