print("pipsqueak")
