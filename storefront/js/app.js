// Peakshop storefront: hash-routed views over the public API. No framework; every text node is set with
// textContent (never innerHTML), every error is shown in words in the alert region.
import { ApiError, api, money, newIdempotencyKey, saveSession, session } from "./api.js";

const main = document.getElementById("main");
const alertBox = document.getElementById("alert");
const statusBox = document.getElementById("status");
const PAGE_SIZE = 24;
const TEST_CARDS = [
  { token: "tok_approve", last4: "4242", label: "Card ending 4242 (approved)" },
  { token: "tok_decline", last4: "0002", label: "Card ending 0002 (declined)" },
  { token: "tok_timeout", last4: "0119", label: "Card ending 0119 (provider times out)" },
];
let polling = null;

// helpers -----------------------------------------------------------------------------------------------
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function showError(error) {
  const message = error instanceof ApiError ? error.message : "Something unexpected went wrong. Please try again.";
  if (!(error instanceof ApiError)) console.error(error);
  alertBox.textContent = message;
  alertBox.hidden = false;
}

function clearMessages() {
  alertBox.hidden = true;
  alertBox.textContent = "";
  statusBox.textContent = "";
}

function announce(text) {
  statusBox.textContent = text;
}

function render(title, ...children) {
  document.title = `${title} · Peakshop`;
  const heading = h("h1", { tabindex: "-1", text: title });
  main.replaceChildren(heading, ...children);
  const first = !main.dataset.route;
  main.dataset.route = location.hash.split("?")[0] || "#/"; // which view is on screen (tests wait on it)
  if (!first) heading.focus(); // after navigation, not on the first load: screen readers start at the top
}

function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint`, text: hint }) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id, text: label }), input, hintEl);
}

function params() {
  const [, query = ""] = location.hash.split("?");
  return new URLSearchParams(query);
}

// cart --------------------------------------------------------------------------------------------------
async function loadCart() {
  const id = localStorage.getItem("peakshop.cart");
  if (!id) return null;
  try {
    return (await api("GET", `/api/cart/carts/${id}`)).data;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      localStorage.removeItem("peakshop.cart");
      return null;
    }
    throw error;
  }
}

async function ensureCart() {
  const cart = await loadCart();
  if (cart) return cart;
  const headers = { "Idempotency-Key": `cart-${crypto.randomUUID()}` }; // creation is retried safely
  const created = (await api("POST", "/api/cart/carts", { headers })).data;
  localStorage.setItem("peakshop.cart", created.id);
  return created;
}

async function setQuantity(productId, quantity) {
  const cart = await ensureCart();
  const path = `/api/cart/carts/${cart.id}/items/${productId}`;
  const updated = quantity > 0 ? await api("PUT", path, { body: { quantity } }) : await api("DELETE", path);
  updateCartBadge(updated.data);
  return updated.data;
}

function updateCartBadge(cart) {
  const count = cart ? cart.item_count : 0;
  document.getElementById("cart-count").textContent = String(count);
  document.getElementById("cart-link").setAttribute("aria-label", `Cart, ${count} item${count === 1 ? "" : "s"}`);
}

/** After sign-in: the cart service moves an anonymous cart's lines into the account's cart in one transaction,
 * and that cart becomes the cart. When the two cannot be merged (another currency, too many products) the
 * account's cart is kept and the anonymous one simply expires. */
async function adoptCart() {
  const anonymous = await loadCart();
  const headers = { "Idempotency-Key": `cart-${crypto.randomUUID()}` }; // both calls are safe to retry
  let account = null;
  if (anonymous && !anonymous.signed_in) {
    try {
      account = (await api("POST", `/api/cart/carts/${anonymous.id}/merge`, { headers })).data;
    } catch (error) {
      if (!(error instanceof ApiError && [404, 409].includes(error.status))) throw error;
    }
  }
  account ??= (await api("POST", "/api/cart/carts", { headers })).data;
  localStorage.setItem("peakshop.cart", account.id);
}

function updateAccountLink() {
  const link = document.getElementById("account-link");
  const current = session();
  link.textContent = current ? "Your account" : "Sign in";
  link.setAttribute("href", current ? "#/account" : "#/signin");
}

// views -------------------------------------------------------------------------------------------------
async function productGrid(query) {
  const search = new URLSearchParams({ page_size: String(PAGE_SIZE), page: query.get("page") || "1" });
  for (const key of ["q", "category", "sort"]) if (query.get(key)) search.set(key, query.get(key));
  const { data } = await api("GET", `/api/catalog/products?${search}`);
  if (!data.items.length) return [h("p", { text: "No products match. Try another search." })];
  const list = h("ul", { class: "grid", "aria-label": "Products" });
  for (const p of data.items) {
    const img = h("img", { alt: "", width: "240", height: "240", loading: "lazy", class: "thumb" });
    list.append(
      h(
        "li",
        { class: "card" },
        h("a", { href: `#/product/${p.id}`, class: "card-link" }, img, h("span", { class: "name", text: p.name })),
        h("p", { class: "brand", text: p.brand || "" }),
        h("p", { class: "price", text: money(p.price_cents, p.currency) }),
        p.in_stock ? null : h("p", { class: "badge", text: "Out of stock" }),
      ),
    );
    api("GET", `/api/catalog/products/${p.id}`)
      .then(({ data: detail }) => {
        const media = detail.media.find((m) => m.status === "ready");
        if (media) img.src = media.url;
      })
      .catch(() => {}); // decorative: the card works without its picture
  }
  const page = data.page;
  const pages = Math.max(1, Math.ceil(data.total / data.page_size));
  const link = (n, label) => {
    const next = new URLSearchParams(query);
    next.set("page", String(n));
    return h("a", { href: `${location.hash.split("?")[0]}?${next}`, text: label });
  };
  const nav = h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    page > 1 ? link(page - 1, "Previous page") : null,
    h("span", { text: `Page ${page} of ${pages} (${data.total} products)` }),
    page < pages ? link(page + 1, "Next page") : null,
  );
  return [list, nav];
}

async function categoryNav() {
  const { data } = await api("GET", "/api/catalog/categories");
  return h(
    "nav",
    { class: "categories", "aria-label": "Categories" },
    h("ul", {}, data.items.map((c) => h("li", {}, h("a", { href: `#/category/${c.slug}`, text: c.name })))),
  );
}

async function homeView() {
  const query = params();
  render("Black Friday deals", await categoryNav(), ...(await productGrid(query)));
}

async function categoryView(slug) {
  const query = params();
  query.set("category", slug);
  render(`Category: ${slug}`, await categoryNav(), ...(await productGrid(query)));
}

async function searchView() {
  const query = params();
  document.getElementById("search-input").value = query.get("q") || "";
  render(`Search results for “${query.get("q") || ""}”`, ...(await productGrid(query)));
}

async function productView(id) {
  const { data: p } = await api("GET", `/api/catalog/products/${id}`);
  const images = p.media.filter((m) => m.status === "ready");
  const quantity = h("input", { type: "number", min: "1", max: String(Math.min(10, p.stock)), value: "1", required: true });
  const form = h(
    "form",
    {
      class: "buy",
      onsubmit: async (event) => {
        event.preventDefault();
        clearMessages();
        try {
          const cart = await ensureCart();
          const current = cart.items.find((i) => i.product_id === p.id);
          await setQuantity(p.id, (current ? current.quantity : 0) + Number(quantity.value));
          announce(`Added ${quantity.value} × ${p.name} to your cart.`);
        } catch (error) {
          showError(error);
        }
      },
    },
    field("Quantity", quantity),
    h("button", { type: "submit", disabled: p.stock < 1, text: p.stock < 1 ? "Out of stock" : "Add to cart" }),
  );
  render(
    p.name,
    h(
      "div",
      { class: "product" },
      h(
        "div",
        { class: "gallery" },
        images.length
          ? images.map((m, i) => h("img", { src: m.url, alt: `${p.name}, picture ${i + 1}`, width: "480", height: "480" }))
          : h("p", { text: "No pictures yet." }),
      ),
      h(
        "div",
        { class: "details" },
        h("p", { class: "brand", text: p.brand || "" }),
        h("p", { class: "price", text: money(p.price_cents, p.currency) }),
        h("p", { text: p.description }),
        h("p", { class: "stock", text: p.stock > 0 ? `${p.stock} in stock` : "Out of stock" }),
        form,
      ),
    ),
  );
}

async function cartView() {
  const cart = await loadCart();
  updateCartBadge(cart);
  if (!cart || !cart.items.length) {
    render("Your cart", h("p", { text: "Your cart is empty." }), h("a", { href: "#/", text: "Continue shopping" }));
    return;
  }
  const rows = cart.items.map((item) => {
    const qty = h("input", { type: "number", min: "0", max: "10", value: String(item.quantity), class: "qty" });
    const update = async (quantity) => {
      clearMessages();
      try {
        await setQuantity(item.product_id, quantity);
        await cartView();
        announce(quantity ? `Updated ${item.name}.` : `Removed ${item.name}.`);
      } catch (error) {
        showError(error);
      }
    };
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, h("a", { href: `#/product/${item.product_id}`, text: item.name })),
      h("td", {}, field(`Quantity of ${item.name}`, qty)),
      h("td", { text: money(item.unit_price_cents, cart.currency) }),
      h("td", { text: money(item.line_total_cents, cart.currency) }),
      h(
        "td",
        {},
        h("button", { type: "button", onclick: () => update(Number(qty.value)), text: "Update" }),
        h("button", { type: "button", class: "secondary", onclick: () => update(0), text: "Remove" }),
      ),
    );
  });
  render(
    "Your cart",
    h(
      "table",
      { class: "cart" },
      h("caption", { text: `${cart.item_count} item${cart.item_count === 1 ? "" : "s"}` }),
      h(
        "thead",
        {},
        h("tr", {}, ["Product", "Quantity", "Price", "Total", "Actions"].map((t) => h("th", { scope: "col", text: t }))),
      ),
      h("tbody", {}, rows),
    ),
    h("p", { class: "total", text: `Total: ${money(cart.total_cents, cart.currency)}` }),
    h("a", { href: "#/checkout", class: "button", text: "Go to checkout" }),
  );
}

async function checkoutView() {
  const cart = await loadCart();
  if (!cart || !cart.items.length) {
    render("Checkout", h("p", { text: "Your cart is empty." }), h("a", { href: "#/", text: "Continue shopping" }));
    return;
  }
  const signedIn = session();
  const email = h("input", { type: "email", autocomplete: "email", required: true });
  if (signedIn) {
    try {
      email.value = (await api("GET", "/api/accounts/me")).data.email;
    } catch {
      /* leave it for the shopper to type */
    }
  }
  // The provider session: in production its hosted fields (or a redirect) collect the card, not Peakshop.
  const provider = (await api("POST", "/api/payments/sessions", { body: { cart_id: cart.id } })).data;
  const cards = h(
    "fieldset",
    { class: "cards", "data-mode": provider.mode, "data-publishable-key": provider.publishable_key },
    h("legend", { text: "Payment (test cards of the fake payment provider)" }),
    TEST_CARDS.map((card, i) =>
      h(
        "div",
        { class: "radio" },
        h("input", { type: "radio", name: "card", id: `card-${card.last4}`, value: card.token, checked: i === 0 }),
        h("label", { for: `card-${card.last4}`, text: card.label }),
      ),
    ),
    h("p", {
      class: "hint",
      text: "In production the provider's hosted fields collect the card; Peakshop only ever receives a token and the last 4 digits.",
    }),
  );
  const button = h("button", { type: "submit", text: `Pay ${money(cart.total_cents, cart.currency)}` });
  const form = h(
    "form",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        clearMessages();
        const card = TEST_CARDS.find((c) => c.token === form.querySelector("input[name=card]:checked").value);
        const body = {
          cart_id: cart.id,
          currency: cart.currency,
          email: email.value.trim(),
          lines: cart.items.map((i) => ({ product_id: i.product_id, quantity: i.quantity, unit_price_cents: i.unit_price_cents })),
          payment: { token: card.token, card_last4: card.last4 },
        };
        // The same order attempt keeps its key across double clicks and reloads (idempotent checkout).
        const fingerprint = JSON.stringify(body);
        let pending = JSON.parse(sessionStorage.getItem("peakshop.checkout") || "null");
        if (!pending || pending.fingerprint !== fingerprint) pending = { fingerprint, key: newIdempotencyKey() };
        sessionStorage.setItem("peakshop.checkout", JSON.stringify(pending));
        button.disabled = true;
        announce("Placing your order…");
        try {
          const result = await api("POST", "/api/orders/checkout", { body, headers: { "Idempotency-Key": pending.key } });
          sessionStorage.removeItem("peakshop.checkout");
          localStorage.removeItem("peakshop.cart");
          updateCartBadge(null);
          location.hash = result.status === 202 ? `#/checkout-status/${pending.key}` : `#/order/${result.data.id}`;
        } catch (error) {
          button.disabled = false;
          showError(error);
        }
      },
    },
    field("Email for the receipt", email),
    cards,
    h("p", { class: "total", text: `Total: ${money(cart.total_cents, cart.currency)}` }),
    button,
  );
  render("Checkout", form);
}

const STATUS_TEXT = {
  pending: "Pending: we are taking the payment.",
  paid: "Paid: thank you! Your order is confirmed.",
  fulfilled: "Fulfilled: your order is on its way.",
  cancelled: "Cancelled",
};

async function orderView(id) {
  const badge = h("p", { class: "order-status", role: "status", "aria-live": "polite", id: "order-status" });
  const reason = h("p", { class: "reason", id: "order-reason" });
  const lines = h("ul", { class: "lines" });
  const summary = h("p", { class: "total" });
  const names = {};
  const draw = (order) => {
    badge.dataset.status = order.status;
    badge.textContent = STATUS_TEXT[order.status] || order.status;
    reason.textContent =
      order.status === "cancelled"
        ? `Your order was cancelled: ${(order.reason || "unknown reason").replaceAll("_", " ")}. You have not been charged.`
        : "";
    summary.textContent = `Total ${money(order.total_cents, order.currency)}, card ending ${order.card_last4}`;
    lines.replaceChildren(
      ...order.lines.map((l) => {
        const name = names[l.product_id] || `product ${l.product_id}`;
        return h("li", { text: `${l.quantity} × ${name} at ${money(l.unit_price_cents, order.currency)}` });
      }),
    );
  };
  const fetchOrder = async () => (await api("GET", `/api/orders/orders/${id}`)).data;
  const order = await fetchOrder();
  await Promise.all(
    order.lines.map((l) =>
      api("GET", `/api/catalog/products/${l.product_id}`)
        .then(({ data }) => {
          names[l.product_id] = data.name;
        })
        .catch(() => {}), // the line then reads "product <id>"
    ),
  );
  const payment = h("p", { class: "payment", id: "payment-status" });
  const showPayment = async () => {
    try {
      const { data } = await api("GET", `/api/payments/orders/${id}`);
      payment.textContent = `Payment: ${data.status}${data.decline_code ? ` (${data.decline_code.replaceAll("_", " ")})` : ""}`;
    } catch {
      payment.textContent = ""; // no payment record (yet): the order status above says enough
    }
  };
  draw(order);
  render("Your order", h("p", { text: `Order ${id}` }), badge, reason, summary, payment, lines);
  if (order.status !== "pending") {
    await showPayment();
    return;
  }
  let tries = 0;
  polling = setInterval(async () => {
    tries += 1;
    try {
      const now = await fetchOrder();
      draw(now);
      if (now.status !== "pending") {
        stopPolling();
        await showPayment();
      } else if (tries > 90) {
        stopPolling();
        badge.textContent = "Still pending: check back on your account page.";
      }
    } catch (error) {
      stopPolling();
      showError(error);
    }
  }, 1000);
}

async function checkoutStatusView(key) {
  render("Your order", h("p", { role: "status", text: "Your order is accepted and will be placed in a moment…" }));
  let tries = 0;
  polling = setInterval(async () => {
    tries += 1;
    try {
      const result = await api("GET", `/api/orders/checkouts/${encodeURIComponent(key)}`);
      if (result.status === 200) {
        stopPolling();
        location.hash = `#/order/${result.data.id}`;
      } else if (tries > 120) {
        stopPolling();
        announce("Still being placed: check back on your account page.");
      }
    } catch (error) {
      stopPolling();
      showError(error);
    }
  }, 1000);
}

function authForm(title, fields, submitText, onSubmit) {
  const form = h(
    "form",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        clearMessages();
        try {
          await onSubmit();
        } catch (error) {
          showError(error);
        }
      },
    },
    ...fields,
    h("button", { type: "submit", text: submitText }),
  );
  render(title, form);
  return form;
}

async function signIn(emailValue, password) {
  const { data } = await api("POST", "/api/accounts/signin", { body: { email: emailValue, password }, auth: false });
  saveSession(data);
  updateAccountLink();
  await adoptCart();
  updateCartBadge(await loadCart());
}

function signinView() {
  const email = h("input", { type: "email", autocomplete: "email", required: true });
  const password = h("input", { type: "password", autocomplete: "current-password", required: true });
  authForm(
    "Sign in",
    [
      field("Email", email),
      field("Password", password),
      h("p", {}, "New here? ", h("a", { href: "#/signup", text: "Create an account" })),
    ],
    "Sign in",
    async () => {
      await signIn(email.value.trim(), password.value);
      location.hash = "#/account";
    },
  );
}

function signupView() {
  const name = h("input", { type: "text", autocomplete: "name", required: true, maxlength: "200" });
  const email = h("input", { type: "email", autocomplete: "email", required: true });
  const password = h("input", { type: "password", autocomplete: "new-password", required: true, minlength: "10" });
  authForm(
    "Create an account",
    [field("Name", name), field("Email", email), field("Password", password, "At least 10 characters.")],
    "Create account",
    async () => {
      const body = { name: name.value.trim(), email: email.value.trim(), password: password.value };
      await api("POST", "/api/accounts/signup", { body, auth: false });
      await signIn(body.email, body.password);
      location.hash = "#/account";
    },
  );
}

async function accountView() {
  if (!session()) {
    location.hash = "#/signin";
    return;
  }
  const { data: me } = await api("GET", "/api/accounts/me");
  const { data: orders } = await api("GET", "/api/orders/orders");
  const exportResult = h("p", { role: "status", id: "export-result" });
  const confirm = h("input", { type: "checkbox", id: "erase-confirm" });
  const eraseButton = h("button", { type: "button", class: "danger", text: "Erase my account" });
  eraseButton.addEventListener("click", async () => {
    clearMessages();
    if (!confirm.checked) {
      showError(new ApiError("Tick the box to confirm that you want your account erased.", 400, "confirm"));
      confirm.focus();
      return;
    }
    try {
      const { data } = await api("DELETE", "/api/accounts/me");
      saveSession(null);
      localStorage.removeItem("peakshop.cart");
      updateAccountLink();
      updateCartBadge(null);
      render(
        "Account erased",
        h("p", {
          role: "status",
          text: `Your account is being erased everywhere we keep it (request ${data.request_id}). You have been signed out.`,
        }),
      );
    } catch (error) {
      showError(error);
    }
  });
  render(
    "Your account",
    h("section", { "aria-labelledby": "profile-h" }, h("h2", { id: "profile-h", text: "Profile" }),
      h("p", { id: "profile-name", text: me.name }), h("p", { id: "profile-email", text: me.email })),
    h(
      "section",
      { "aria-labelledby": "orders-h" },
      h("h2", { id: "orders-h", text: "Orders" }),
      orders.items.length
        ? h("ul", {}, orders.items.map((o) =>
            h("li", {}, h("a", { href: `#/order/${o.id}`, text: `${o.created_at.slice(0, 10)}: ${money(o.total_cents, o.currency)}, ${o.status}` }))))
        : h("p", { text: "No orders yet." }),
    ),
    h(
      "section",
      { "aria-labelledby": "privacy-h" },
      h("h2", { id: "privacy-h", text: "Your data" }),
      h("button", {
        type: "button",
        onclick: async () => {
          clearMessages();
          try {
            const { data } = await api("GET", "/api/accounts/me/export");
            const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
            const link = h("a", { href: URL.createObjectURL(blob), download: `peakshop-account-${me.id}.json`, text: "Download your data (JSON)" });
            exportResult.replaceChildren(`Export ready for ${data.account.email}. `, link);
            link.click();
          } catch (error) {
            showError(error);
          }
        },
        text: "Export my data",
      }),
      exportResult,
      h("div", { class: "radio" }, confirm, h("label", { for: "erase-confirm", text: "I understand that erasing my account cannot be undone" })),
      eraseButton,
      h("button", {
        type: "button",
        class: "secondary",
        onclick: () => {
          saveSession(null);
          localStorage.removeItem("peakshop.cart");
          updateAccountLink();
          updateCartBadge(null);
          location.hash = "#/";
        },
        text: "Sign out",
      }),
    ),
  );
}

// router ------------------------------------------------------------------------------------------------
function stopPolling() {
  if (polling) clearInterval(polling);
  polling = null;
}

const ROUTES = [
  [/^(#\/?)?$|^#[^/]/, homeView],
  [/^#\/category\/([a-z0-9-]+)$/, categoryView],
  [/^#\/search$/, searchView],
  [/^#\/product\/(\d+)$/, productView],
  [/^#\/cart$/, cartView],
  [/^#\/checkout$/, checkoutView],
  [/^#\/checkout-status\/([A-Za-z0-9_.:-]+)$/, checkoutStatusView],
  [/^#\/order\/([0-9a-f]{32})$/, orderView],
  [/^#\/signin$/, signinView],
  [/^#\/signup$/, signupView],
  [/^#\/account$/, accountView],
];

async function route() {
  // In-page anchors (the skip link's #main) are not routes: the browser moves focus, the view stays.
  if (location.hash && !location.hash.startsWith("#/") && main.dataset.route) return;
  stopPolling();
  clearMessages();
  const path = location.hash.split("?")[0] || "#/";
  for (const [pattern, view] of ROUTES) {
    const match = path.match(pattern);
    if (match) {
      main.setAttribute("aria-busy", "true");
      try {
        await view(...match.slice(1));
      } catch (error) {
        render("Sorry", h("p", { text: "This page could not be shown." }), h("a", { href: "#/", text: "Back to the shop" }));
        showError(error);
      } finally {
        main.removeAttribute("aria-busy");
      }
      return;
    }
  }
  render("Page not found", h("p", { text: "There is no such page." }), h("a", { href: "#/", text: "Back to the shop" }));
}

document.getElementById("search").addEventListener("submit", (event) => {
  event.preventDefault();
  const q = document.getElementById("search-input").value.trim();
  location.hash = `#/search?${new URLSearchParams({ q })}`;
});
window.addEventListener("hashchange", route);
updateAccountLink();
loadCart().then(updateCartBadge).catch(() => updateCartBadge(null));
route();
