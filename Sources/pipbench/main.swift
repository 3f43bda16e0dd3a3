print("pipbench")
