"""API of delivery (being built for issue 3)."""

from ninja import Router

router = Router()
