"""One router per Data Connect resource; `create_app` includes them in this order."""
