"""Long-running loops: dispatcher, carrier event intake, maintenance."""
