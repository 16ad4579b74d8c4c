"""HTTP only: parse and validate requests, render Telnyx-shaped JSON and errors."""
