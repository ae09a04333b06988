"""The auth endpoints the runbooks smoke-test: SSO only, password logins are gone."""

from urllib.parse import urlencode

from flask import Blueprint, jsonify, redirect, request

bp = Blueprint("auth", __name__, url_prefix="/v1/auth")

AUTHORIZE_URL = "http://auth.lab.invalid/authorize"
PROVIDERS = ("google", "github")


@bp.get("/mode")
def mode():
    return jsonify(mode="sso")


@bp.post("/login")
@bp.post("/register")
def password_auth_gone():
    return jsonify(error="SsoOnly"), 410


@bp.get("/sso/start")
def sso_start():
    provider = request.args.get("provider", "")
    if provider not in PROVIDERS:
        return jsonify(error="UnknownProvider", providers=list(PROVIDERS)), 400
    query = urlencode({"provider": provider, "return_url": request.args.get("returnUrl", "/")})
    return redirect(f"{AUTHORIZE_URL}?{query}", code=302)
