"""Headers that protect every page, and the login rate limit against password guessing."""

def test_every_page_sends_protective_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_login_attempts_are_rate_limited_per_address(app, make, client, auth, monkeypatch):
    make.user("requester", email="target@example.com")
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "3 per minute")
    token = auth.csrf_token("/login")
    codes = [client.post("/login", data={"email": "target@example.com", "password": "guess",
                                         "csrf_token": token}).status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]
    assert "Too many attempts" in client.post("/login", data={"csrf_token": token}).get_data(as_text=True)
    assert client.get("/login").status_code == 200  # reading the form is never limited
