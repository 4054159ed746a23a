"""The HTTP side of the server: one ASGI app (REST under ``/api``) behind every listener."""
