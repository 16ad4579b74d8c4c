"""Pure, I/O-free domain rules shared by the API, services and carrier connectors."""
