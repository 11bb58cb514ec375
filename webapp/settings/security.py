"""Security: cookies, protective headers, the Content Security Policy, and HTTPS."""

from django.utils.csp import CSP

from webapp.settings.gaitu import GAITU_HSTS_PRELOAD, GAITU_HTTPS, GAITU_SSL_REDIRECT

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Content Security Policy (django.middleware.csp). No inline script or style runs without the
# per-request nonce that templates get as {{ csp_nonce }} / {% csp_nonce_attr %}; htmx is told
# not to inject styles or evaluate code (the htmx-config meta tag in base.html). Views may set
# a stricter header of their own (the picture views do): the middleware keeps an existing one.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    # blob: for the previews of chosen files; data: for small inline images (as in CSS).
    "img-src": [CSP.SELF, "data:", "blob:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# GAITU_HTTPS=1: the site is reached over HTTPS only, usually through a TLS-terminating reverse
# proxy (nginx, Caddy, Traefik) in front of uvicorn. Cookies are then sent over HTTPS only and
# browsers are told (HSTS) to never use plain HTTP for this host again.
SESSION_COOKIE_SECURE = GAITU_HTTPS
CSRF_COOKIE_SECURE = GAITU_HTTPS
LANGUAGE_COOKIE_SECURE = GAITU_HTTPS
SILENCED_SYSTEM_CHECKS: list[str] = []
if GAITU_HTTPS:
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is hard to undo (it ships in browsers), so it is a deliberate opt-in.
    SECURE_HSTS_PRELOAD = GAITU_HSTS_PRELOAD
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS.append("security.W021")  # preload is opt-in, see above
    # GAITU_SSL_REDIRECT=0 for proxies that already redirect http:// to https:// themselves.
    SECURE_SSL_REDIRECT = GAITU_SSL_REDIRECT
    # Health checks (containers, load balancers) ask over plain HTTP, from inside.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    if not SECURE_SSL_REDIRECT:
        SILENCED_SYSTEM_CHECKS.append("security.W008")  # the proxy redirects instead

# Behind a TLS-terminating proxy, Django itself only ever sees plain HTTP; the proxy says the
# original scheme in X-Forwarded-Proto. Django is not told to read that header
# (SECURE_PROXY_SSL_HEADER stays unset): it would believe it from anyone who reaches the
# server, a client on the same machine or a proxy that passes it on. uvicorn reads it instead,
# only on connections from GAITU_TRUSTED_PROXIES, and gives Django the scheme (the ASGI
# scope's, which request.is_secure() reads; see webapp/server.py). Without a trusted proxy no
# request is secure, so SECURE_SSL_REDIRECT would redirect forever, HSTS would never be sent,
# share links would say http:// and CSRF's Origin check would refuse every https:// form post:
# a system check warns of it (webapp/checks.py, gaitu.W001).
