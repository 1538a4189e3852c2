"""Maker-checker approvals: an app registers the actions that may need a second person
(`registry.register_action`, in its AppConfig.ready), asks for approval inside its own transaction when the
policy says so (`services.needs_approval`, `services.request_approval`), and performs the action when an
approver with the authority approves it (`services.approve_request` calls the action's `perform`).

Nothing is imported here, so that importing `registry` from an AppConfig never loads the models early.
"""
