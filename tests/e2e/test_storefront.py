"""Shopper journeys through the real storefront, ALB (haproxy), services, workers and dependencies."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Steps

PASSWORD = "correct horse battery"


UNLABELLED = """() => [...document.querySelectorAll("input, select, textarea, button, img, a")]
  .filter((el) => {
    if (el.tagName === "IMG") return !el.hasAttribute("alt");
    if (["BUTTON", "A"].includes(el.tagName)) return !(el.textContent.trim() || el.getAttribute("aria-label"));
    return !(el.labels && el.labels.length) && !el.getAttribute("aria-label");
  })
  .map((el) => el.outerHTML.slice(0, 120))"""


def assert_accessible(page: Page) -> None:
    """Landmarks, one h1, and a name for every control, link and image (alt="" marks decorative ones)."""
    for role in ("banner", "main", "contentinfo", "search"):
        expect(page.get_by_role(role)).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    assert page.evaluate(UNLABELLED) == []


def show(page: Page, route: str) -> None:
    page.goto(f"/{route}")
    expect(page.locator(f'main[data-route="{route}"]')).to_be_attached()


def add_to_cart(page: Page, product_id: int, quantity: int = 1) -> str:
    show(page, f"#/product/{product_id}")
    name = page.get_by_role("heading", level=1).inner_text()
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Added {quantity} \u00d7 {name}")
    return name


def sign_up(page: Page) -> str:
    email = f"shopper-{secrets.token_hex(4)}@example.com"
    show(page, "#/signup")
    page.get_by_label("Name").fill("Ada Shopper")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    return email


def pay(page: Page, card: str) -> None:
    show(page, "#/checkout")
    email = page.get_by_label("Email for the receipt")
    if not email.input_value():
        email.fill(f"guest-{secrets.token_hex(4)}@example.com")
    page.get_by_label(card).check()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page).to_have_url(re.compile(r"#/order/[0-9a-f]{32}$"))


def test_full_purchase_journey(page: Page, steps: Steps) -> None:
    page.goto("/")
    expect(page.get_by_role("list", name="Products").get_by_role("listitem")).to_have_count(24)
    page.wait_for_function("[...document.querySelectorAll('.thumb')].slice(0, 5).every(i => i.naturalWidth > 0)")
    assert_accessible(page)
    steps.shot("home")

    page.get_by_label("Search products").fill("Backpack")
    page.get_by_label("Search products").press("Enter")
    results = page.get_by_role("list", name="Products").get_by_role("link")
    expect(results.first).to_contain_text("Backpack")
    steps.shot("search")
    results.first.click()

    expect(page).to_have_url(re.compile(r"#/product/\d+$"))
    picture = page.locator(".gallery img").first
    expect(picture).to_be_visible()
    product = page.get_by_role("heading", level=1).inner_text()
    price = page.locator(".details .price").inner_text()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
    assert_accessible(page)
    steps.shot("product")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-count")).to_have_text("2")

    email = sign_up(page)  # the anonymous cart moves into the new account's cart
    show(page, "#/cart")
    expect(page.get_by_role("table").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_role("caption")).to_have_text("2 items")
    assert_accessible(page)
    steps.shot("cart")

    page.get_by_role("link", name="Go to checkout").click()
    expect(page.get_by_label("Email for the receipt")).to_have_value(email)
    assert_accessible(page)
    steps.shot("checkout")
    pay(page, "Card ending 4242 (approved)")
    status = page.locator("#order-status")
    expect(status).to_have_attribute("data-status", re.compile("pending|paid"))
    steps.shot("order-pending")
    expect(status).to_have_attribute("data-status", "paid", timeout=30_000)
    expect(status).to_contain_text("Paid")
    expect(page.locator(".lines li")).to_have_text(["2 \u00d7 " + product + " at " + price])
    expect(page.locator("#cart-count")).to_have_text("0")
    assert_accessible(page)
    steps.shot("order-paid")

    page.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("region", name="Orders").get_by_role("link")).to_contain_text(["paid"])
    assert_accessible(page)
    steps.shot("account")
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_declined_payment_cancels_the_order(page: Page, steps: Steps) -> None:
    add_to_cart(page, 3)
    pay(page, "Card ending 0002 (declined)")
    status = page.locator("#order-status")
    expect(status).to_have_attribute("data-status", "cancelled", timeout=30_000)
    expect(page.locator("#order-reason")).to_contain_text("declined")
    expect(page.locator("#order-reason")).to_contain_text("You have not been charged")
    expect(page.locator("#payment-status")).to_contain_text("declined")
    steps.shot("declined")


def test_cart_survives_a_reload(page: Page, steps: Steps) -> None:
    first = add_to_cart(page, 5, 1)
    second = add_to_cart(page, 6, 3)
    page.reload()
    expect(page.locator("#cart-count")).to_have_text("4")
    show(page, "#/cart")
    page.reload()
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.get_by_role("rowheader")).to_have_text([first, second])
    expect(page.get_by_label(f"Quantity of {second}")).to_have_value("3")
    steps.shot("cart-after-reload")

    page.get_by_label(f"Quantity of {second}").fill("1")
    rows.nth(1).get_by_role("button", name="Update").click()
    expect(page.get_by_role("caption")).to_have_text("2 items")


def test_account_export_and_erase(page: Page, steps: Steps) -> None:
    email = sign_up(page)
    page.get_by_role("button", name="Export my data").click()
    expect(page.locator("#export-result")).to_contain_text(f"Export ready for {email}")
    steps.shot("export")

    page.get_by_role("button", name="Erase my account").click()
    expect(page.get_by_role("alert")).to_contain_text("Tick the box")  # nothing happens without consent
    page.get_by_label("I understand that erasing my account cannot be undone").check()
    page.get_by_role("button", name="Erase my account").click()
    expect(page.get_by_role("heading", name="Account erased")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    steps.shot("erased")

    show(page, "#/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("email or password is wrong")


def test_errors_are_shown_in_words(page: Page, steps: Steps) -> None:
    page.goto("/#/product/999999999")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sorry")
    expect(page.get_by_role("alert")).to_have_text("product does not exist")
    steps.shot("not-found")


def test_keyboard_only_shopping(page: Page, steps: Steps) -> None:
    page.goto("/")
    expect(page.get_by_role("list", name="Products").get_by_role("listitem").first).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_label("Search products").focus()
    page.keyboard.type("Kettle")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_be_focused()  # focus follows navigation
    first = page.get_by_role("list", name="Products").get_by_role("link").first
    first.focus()
    page.keyboard.press("Enter")
    expect(page.locator('main[data-route^="#/product/"]')).to_be_attached()
    page.get_by_label("Quantity").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Add to cart")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#cart-count")).to_have_text("1")
    steps.shot("keyboard")
