from ninja import Router

router = Router()  # placeholder until this app's endpoints land
