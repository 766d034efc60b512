print("placeholder until the load generator lands")
