"""The web desk (`dunning serve`): Starlette pages and a JSON API over the same library.

Importing this package loads nothing heavy: `users` serves the CLI too; the
Starlette application is built by `dunning.web.app.create_app`.
"""
