"""What the people of an operation see without logging in: notices, the status page, family tracing."""
