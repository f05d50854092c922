print("firmware-sim")
