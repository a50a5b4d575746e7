"""Live progress: WebSocket connections and pushes, and Server-Sent Events."""
