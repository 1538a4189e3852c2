"""The shared staff pages: sign-in, the home page's figures, sign-out, and the navigation."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from billops.access.models import User
from billops.customers import services
from tests.conftest import PASSWORD
from tests.customers.factories import CustomerDataFactory


def test_pages_need_a_signed_in_user(db) -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_signing_in_with_the_right_password_opens_the_home_page(clerk: User) -> None:
    client = Client()
    response = client.post("/login/", {"username": "clerk", "password": PASSWORD}, follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert b"Good day, clerk" in response.content
    session_cookie = client.cookies["sessionid"]
    assert session_cookie["httponly"] is True
    assert session_cookie["samesite"] == "Lax"


def test_a_wrong_password_is_refused_on_the_form(clerk: User) -> None:
    client = Client()
    response = client.post("/login/", {"username": "clerk", "password": "not it"})
    assert response.status_code == 200
    assert b"match. Please try again." in response.content
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_home_shows_customers_and_holds(clerk: User) -> None:
    for _ in range(3):
        services.create_customer(data=CustomerDataFactory(), actor=clerk)
    customer = services.create_customer(data=CustomerDataFactory(), actor=clerk)
    services.place_credit_hold(customer_id=customer.pk, reason="Cheque returned", actor=clerk)
    client = Client()
    client.force_login(clerk)
    page = client.get("/")
    assert page.context["customers"] == 4
    assert page.context["on_hold"] == 1
    assert page.context["events"] == 1 + 4 + 1  # the user, four customers, one hold


def test_signing_out_ends_the_session(clerk: User) -> None:
    client = Client()
    client.force_login(clerk)
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_every_page_in_the_navigation_opens(clerk: User) -> None:
    client = Client()
    client.force_login(clerk)
    home = client.get("/")
    for item in home.context["navigation"]:
        page = client.get(reverse(item["url_name"]))
        assert page.status_code == 200, item["label"]
        assert f'aria-current="page">{item["label"]}<'.encode() in page.content
