"""The web console: server-rendered pages over the services (docs/console.md)."""
