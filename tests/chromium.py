"""A headless Chromium driven over the DevTools protocol, for tests and benchmarks that open
pages (the HTML leaderboard): navigate, evaluate scripts, click, take screenshots, and
record every request the page makes.

Debian's `chromium` started as root needs --no-sandbox; the other flags stop it from
calling Google's hosts (component updates, sync, field trials) so that the only requests
recorded are the page's own.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from typing_extensions import Self

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--remote-allow-origins=*",
)


def chromium_path() -> str | None:
    """The Chromium binary on PATH, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def missing_reason() -> str | None:
    """Why a browser test cannot run here, or None when it can."""
    if chromium_path() is None:
        return "chromium is not installed (apt-get install chromium; .ci/run installs it)"
    try:
        import websocket  # noqa: F401
    except ImportError:
        return "websocket-client is not installed (pip install -e '.[test]')"
    return None


class Browser:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, width: int = 1280, height: int = 900, timeout: float = 60.0) -> None:
        import websocket

        binary = chromium_path()
        if binary is None:
            raise RuntimeError(missing_reason() or "no chromium")
        self.profile = Path(tempfile.mkdtemp(prefix="passk-chromium-"))
        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.timeout = timeout
        port = self._port()
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout).read())
        page = next(t for t in targets if t["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.viewport(width, height)

    def _port(self) -> int:
        """The DevTools port Chromium chose (it writes it into the profile when ready)."""
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode} before it was ready")
            time.sleep(0.05)
        raise RuntimeError("chromium did not open its DevTools port in time")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            shutil.rmtree(self.profile, ignore_errors=True)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result; events that arrive meanwhile
        are kept in `events`."""
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_for(self, event: str, since: int = 0) -> dict[str, Any]:
        """The first `event` among the events from index `since` on, waiting for it."""
        deadline = time.monotonic() + self.timeout
        while True:
            for message in self.events[since:]:
                if message["method"] == event:
                    return message
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event} within {self.timeout} s")
            self.events.append(json.loads(self.socket.recv()))

    def viewport(self, width: int, height: int, mobile: bool = False) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=mobile)

    def open(self, url: str) -> None:
        """Navigate and wait for the load event."""
        since = len(self.events)
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired", since)

    def evaluate(self, expression: str, await_promise: bool = False) -> Any:
        """The value of a JavaScript expression in the page; a thrown error is raised."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=await_promise)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_until(self, expression: str) -> Any:
        """Poll a JavaScript expression until it is truthy; return its value."""
        deadline = time.monotonic() + self.timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression[:80]} stayed false for {self.timeout} s")
            time.sleep(0.05)

    def click(self, selector: str) -> None:
        """A real mouse click (pressed and released) at the centre of the element."""
        box = self.evaluate(
            f"(function(){{var e=document.querySelector({json.dumps(selector)}); e.scrollIntoView({{block:'center'}});"
            "var r=e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2];})()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        """A PNG of the page (the whole page, not only the viewport, by default)."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            width, height = self.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params["clip"] = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", **params)["data"]))
        return path

    def requests(self) -> list[str]:
        """Every URL the page asked for so far."""
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]

    def errors(self) -> list[str]:
        """Script exceptions and console errors so far."""
        found = [json.dumps(e["params"])[:300] for e in self.events if e["method"] == "Runtime.exceptionThrown"]
        found += [e["params"]["entry"]["text"] for e in self.events
                  if e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"]
        return found


def main() -> None:
    """`python tests/chromium.py PAGE OUT.png [--width W] [--height H] [--phone] [--click SELECTOR]`:
    a screenshot of the top of a page with every lazy image loaded (docs/images)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("page", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--phone", action="store_true", help="390 x 844, as a phone shows it")
    parser.add_argument("--click", help="a CSS selector to click first (e.g. a column to sort by)")
    args = parser.parse_args()
    with Browser(args.width, args.height) as browser:
        if args.phone:
            browser.viewport(390, 844, mobile=True)
        browser.open(args.page.resolve().as_uri())
        browser.evaluate("document.querySelectorAll('img').forEach(function (i) { i.loading = 'eager'; })")
        browser.wait_until("Array.from(document.images).every(function (i) { return i.complete; })")
        if args.click:
            browser.click(args.click)
        browser.evaluate("window.scrollTo(0, 0)")
        browser.screenshot(args.out, full_page=False)


if __name__ == "__main__":
    main()
