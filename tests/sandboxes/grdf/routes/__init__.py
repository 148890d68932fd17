"""One router per ADICT resource; `create_app` includes them in this order."""
