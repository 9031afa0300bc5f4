"""The HTML the gateway writes itself: the 511 page and the portal's pages.

Every page is small, has no scripts, and escapes what came from the client.
"""

from __future__ import annotations

from html import escape

__all__ = [
    "login_page",
    "message_page",
    "network_auth_page",
    "online_page",
    "redirect_page",
    "spoof_page",
]

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36em;margin:2em auto;padding:0 1em}"
    "label{display:block;margin:.5em 0}.error{color:#a00}"
)


def _doc(title: str, body: str, head: str = "") -> bytes:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{escape(title)}</title>\n{head}<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    ).encode()


def network_auth_page(login_url: str) -> bytes:
    """The 511 body, shaped like RFC 6585 section 6's own example.

    It links to the login page (and refreshes to it) but holds no form and
    no challenge: a browser would otherwise show the portal's form as if it
    were the page at the URL the user asked for.
    """
    url = escape(login_url, quote=True)
    return _doc(
        "Network Authentication Required",
        f"<h1>Network Authentication Required</h1>\n"
        f"<p>You need to <a id=\"login\" href=\"{url}\">authenticate with the local network</a> "
        "in order to gain access.</p>\n"
        "<p><small>Sent by the network's gateway (the 511 says so; Via names it), not by the site "
        "you asked for.</small></p>",
        head=f"<meta http-equiv=\"refresh\" content=\"0; url={url}\">\n",
    )


def login_page(action: str, *, next_url: str = "", error: str = "", user: str = "") -> bytes:
    """The user portal's sign-in form (RFC 8952 section 4.1: the user signs in to the portal)."""
    err = f"<p class=\"error\" id=\"error\">{escape(error)}</p>\n" if error else ""
    return _doc(
        "Sign in to the network",
        "<h1>Welcome to the labkit caf&eacute; Wi-Fi</h1>\n"
        f"{err}"
        f"<form method=\"post\" action=\"{escape(action, quote=True)}\">\n"
        f"<label>User <input name=\"user\" autocomplete=\"username\" value=\"{escape(user, quote=True)}\"></label>\n"
        "<label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\"></label>\n"
        f"<input type=\"hidden\" name=\"next\" value=\"{escape(next_url, quote=True)}\">\n"
        "<button type=\"submit\" id=\"sign-in\">Sign in</button>\n</form>",
    )


def online_page(
    user: str, seconds_remaining: int, *, next_url: str, logout: str, extend: str | None,
    device: str | None = None,
) -> bytes:
    """Shown after signing in: where to go on, how long is left, how to leave.

    With ``device``, it also says which device the network now lets through:
    a browser that reached the portal at the gateway's own address cannot
    tell otherwise which of the lab's devices it is.
    """
    which = (
        f"<p>The network knows you as device <code id=\"device\">{escape(device)}</code>, the "
        "address your requests come from: every program on that address is online now.</p>\n"
        if device else ""
    )
    go_on = (
        f"<p><a id=\"continue\" href=\"{escape(next_url, quote=True)}\">Continue to "
        f"{escape(next_url)}</a></p>\n" if next_url else ""
    )
    more = (
        f"<form method=\"post\" action=\"{escape(extend, quote=True)}\">"
        "<button type=\"submit\" id=\"extend\">Extend session</button></form>\n"
        if extend else ""
    )
    return _doc(
        "You are online",
        f"<h1>You are online</h1>\n<p>Signed in as {escape(user)}; "
        f"<span id=\"remaining\">{seconds_remaining}</span> seconds left in this session.</p>\n"
        f"{which}{go_on}{more}"
        f"<form method=\"post\" action=\"{escape(logout, quote=True)}\">"
        "<button type=\"submit\" id=\"sign-out\">Sign out</button></form>",
    )


def message_page(title: str, text: str, *, link: str = "", link_text: str = "") -> bytes:
    extra = (
        f"<p><a href=\"{escape(link, quote=True)}\">{escape(link_text or link)}</a></p>"
        if link else ""
    )
    return _doc(title, f"<h1>{escape(title)}</h1>\n<p>{escape(text)}</p>\n{extra}")


def redirect_page(location: str) -> bytes:
    url = escape(location, quote=True)
    return _doc("Moved", f"<p>Sign in at <a href=\"{url}\">{url}</a>.</p>")


def spoof_page(action: str, next_url: str) -> bytes:
    """What a spoofing portal sends *as if it were* the requested page."""
    return login_page(action, next_url=next_url)
