"""The web app: server-rendered pages (Jinja2, htmx) for coordinators, registrars, marshals and monitors.

Pages call the same services as the JSON API and are authorised by the same rules; the browser
holds the API token in an HttpOnly cookie (see ``session.py``).
"""
