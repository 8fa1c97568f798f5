"""Notification templates: the renderer (renderer.py), its sandbox (sandbox.py), the default templates (templates/)."""

from logpipe.render.renderer import *  # noqa: F403  (what the module of this name held)
