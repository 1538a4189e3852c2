"""API of catalog (being built for issue 3)."""

from ninja import Router

router = Router()
