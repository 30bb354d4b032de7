"""stash-mirror hook forwarder: a raw-interface Stash plugin (stash-mirror.yml).

Stash starts this script once per hook and writes the plugin input to its stdin:
  {"server_connection": {"Scheme", "Host", "Port", "SessionCookie", ...},
   "args": {"hookContext": {"id": 45, "type": "Scene.Update.Post", "input": {...}, "inputFields": [...]}}}
It reads the plugin's settings (Mirror URL, API token) from Stash's GraphQL API with the session
cookie Stash handed it, and POSTs {"type", "id", "inputFields"} to <Mirror URL>/api/hooks/stash with
the token as a bearer token. The mutation's input itself and Stash's cookie never leave Stash.

Stash waits for every hook before it answers the edit (a bulk edit of 5,000 scenes runs this
5,000 times, one after another), so everything here is short: one small request to Stash, one to
the mirror, two seconds' timeout each. When the mirror cannot be reached, further hooks skip it
for a minute instead of each waiting out the timeout; the mirror's scheduled smart sync catches
up on what it missed. Python's standard library only.
"""

import hashlib
import json
import os
import ssl
import sys
import tempfile
import time
import urllib.error
import urllib.request

# Stash names a plugin after its YAML file: stash-mirror.yml -> "stash-mirror".
PLUGIN_ID = "stash-mirror"
STASH_TIMEOUT_SECONDS = 2
MIRROR_TIMEOUT_SECONDS = 2
# After the mirror could not be reached, hooks skip it this long.
SKIP_AFTER_FAILURE_SECONDS = 60
SETTINGS_QUERY = "query StashMirrorSettings { configuration { plugins } }"


def answer(output=None, error=None):
    """The plugin output Stash reads from stdout: `error` is logged as an error, `output` at debug."""
    result = {"output": output}
    if error:
        result["error"] = error
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()


def stash_graphql_url(connection):
    scheme = connection.get("Scheme") or "http"
    host = connection.get("Host") or "localhost"
    # Stash reports the address it listens on; a wildcard address is reached on loopback.
    if host in ("0.0.0.0", "::", "[::]"):
        host = "localhost"
    if ":" in host and not host.startswith("["):
        host = "[" + host + "]"
    port = connection.get("Port") or 9999
    return "%s://%s:%s/graphql" % (scheme, host, port)


def read_settings(connection):
    """This plugin's settings as Stash stores them ({} when Stash could not be asked)."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    cookie = connection.get("SessionCookie") or {}
    if cookie.get("Name") and cookie.get("Value"):
        headers["Cookie"] = "%s=%s" % (cookie["Name"], cookie["Value"])
    request = urllib.request.Request(
        stash_graphql_url(connection),
        data=json.dumps({"query": SETTINGS_QUERY}).encode("utf-8"),
        headers=headers,
        method="POST",
    )
    # Stash calling itself: a self-signed certificate on its own address is expected.
    context = ssl._create_unverified_context() if request.full_url.startswith("https:") else None
    with urllib.request.urlopen(request, timeout=STASH_TIMEOUT_SECONDS, context=context) as response:
        body = json.loads(response.read().decode("utf-8") or "{}")
    plugins = ((body.get("data") or {}).get("configuration") or {}).get("plugins") or {}
    for plugin_id, settings in plugins.items():
        if plugin_id.lower() == PLUGIN_ID and isinstance(settings, dict):
            return settings
    # Renamed YAML file: the one plugin that has a Mirror URL set.
    for settings in plugins.values():
        if isinstance(settings, dict) and settings.get("mirrorUrl"):
            return settings
    return {}


def forward(url, token, hook):
    body = {"type": hook.get("type"), "id": hook.get("id")}
    if isinstance(hook.get("inputFields"), list):
        body["inputFields"] = hook["inputFields"]
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(
        url.rstrip("/") + "/api/hooks/stash",
        data=json.dumps(body).encode("utf-8"),
        headers=headers,
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=MIRROR_TIMEOUT_SECONDS) as response:
        return json.loads(response.read().decode("utf-8") or "{}")


def down_marker(url):
    """A file whose age says when this mirror URL last could not be reached."""
    digest = hashlib.sha1(url.encode("utf-8")).hexdigest()[:12]
    return os.path.join(tempfile.gettempdir(), "stash-mirror-hook-%s.down" % digest)


def recently_down(url):
    try:
        return time.time() - os.path.getmtime(down_marker(url)) < SKIP_AFTER_FAILURE_SECONDS
    except OSError:
        return False


def mark_down(url, down):
    try:
        if down:
            with open(down_marker(url), "w") as marker:
                marker.write(str(int(time.time())))
        elif os.path.exists(down_marker(url)):
            os.remove(down_marker(url))
    except OSError:
        pass


def mirror_error(error):
    """A refusal from the mirror, in its own words (its answers never carry secrets)."""
    try:
        detail = json.loads(error.read().decode("utf-8")).get("error")
    except Exception:
        detail = None
    if error.code == 401:
        return "the mirror refused the API token: set the plugin's API token to the mirror's API_TOKEN"
    return "the mirror answered HTTP %s: %s" % (error.code, detail or error.reason)


def main():
    raw = sys.stdin.read()
    try:
        plugin_input = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return answer(error="stash-mirror: the plugin input is not JSON")
    hook = (plugin_input.get("args") or {}).get("hookContext")
    if not isinstance(hook, dict) or not hook.get("type"):
        return answer(output="stash-mirror: nothing to forward (not started by a hook)")

    try:
        settings = read_settings(plugin_input.get("server_connection") or {})
    except Exception as error:  # Stash unreachable from here: fall back to the environment
        settings = {}
        sys.stderr.write("stash-mirror: could not read the plugin settings from Stash: %s\n" % error)
    url = (settings.get("mirrorUrl") or os.environ.get("STASH_MIRROR_URL") or "").strip()
    token = (settings.get("apiToken") or os.environ.get("STASH_MIRROR_API_TOKEN") or "").strip()
    if not url:
        return answer(error="stash-mirror: set the Mirror URL in Settings > Plugins > Stash Mirror")

    what = "stash-mirror: %s %s" % (hook.get("type"), hook.get("id"))
    if recently_down(url):
        return answer(output="%s: skipped, the mirror was unreachable less than a minute ago" % what)
    try:
        accepted = forward(url, token, hook)
    except urllib.error.HTTPError as error:
        mark_down(url, False)
        return answer(error="%s: %s" % (what, mirror_error(error)))
    except Exception as error:
        # Down or unreachable: its scheduled smart sync catches this change later.
        mark_down(url, True)
        return answer(error="%s: mirror unreachable (%s); skipping it for a minute" % (what, error))
    mark_down(url, False)
    answer(output="%s -> %s" % (what, accepted.get("action")))


if __name__ == "__main__":
    main()
