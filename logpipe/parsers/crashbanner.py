"""Node's crash banner: what it prints when an exception nobody caught ends the process (an uncaught throw, an
unhandled rejection, an unhandled 'error' event), so that its lines make one event.

    /app/dist/main.js:12                             node:internal/process/promises:288
    function load(config) { return config.db.url; }              triggerUncaughtException(err, true);
                                          ^                      ^

    TypeError: Cannot read properties of null (reading 'db')    [UnhandledPromiseRejection: ...] {
        at load (/app/dist/main.js:12:39)                          code: 'ERR_UNHANDLED_REJECTION'
                                                                 }
    Node.js v20.11.1

    node:events:497
          throw er; // Unhandled 'error' event
          ^

    Error: connect ECONNREFUSED 10.0.0.5:5432
        at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)
    Emitted 'error' event on Socket instance at:
        at emitErrorNT (node:internal/streams/destroy:169:8)

The location line opens it; the next line is the source line (any code, indented or not), then the caret line.
After the caret, blank lines and the first line of the thrown value belong to it, whatever that line says (an
error, `[UnhandledPromiseRejection: ...`, a thrown string); from there the usual stack rules apply, with the lines
Node adds (`CONTINUATION`): `Emitted 'error' event on ...`, `(Use node --trace-uncaught ...`, the `Node.js vNN`
trailer; and V8's out-of-memory report's native frames.
"""

from __future__ import annotations

import re

# `/app/dist/main.js:12`, `node:events:502`, `internal/process/promises.js:232`, `file:///app/main.mjs:3`: a file
# and one line number (a `file.ts:42:20` inside a message has two)
LOCATION = re.compile(r"(?:node:[\w/.-]+|\S*\.[cm]?[jt]sx?):\d+\s*$")
_CARET = re.compile(r"\s*\^+~*\s*$")
#: lines Node and V8 add to a crash report, after the stack
CONTINUATION = (
    r"|Emitted 'error' event on |\(Use `node --trace-|Node\.js v\d+\.\d+\.\d+\s*$"
    r"|-{3,} Native stack trace -{3,}|\d+: 0x[0-9a-fA-F]+\b"
    r"|\(node:\d+\) UnhandledPromiseRejectionWarning: Unhandled promise rejection\."
)

#: where a banner is: none, after its location line, after its source line, after its caret line
NONE, LOCATED, SOURCE, CARET = 0, 1, 2, 3


def opens_banner(message: str) -> bool:
    return LOCATION.match(message) is not None


def banner_step(state: int, line: str) -> tuple[bool | None, int]:
    """Whether a line continues the banner (None: the banner no longer decides, the usual rules do), and the
    banner's next state."""
    if state == LOCATED:
        return True, SOURCE  # the source line, whatever it says
    if state == SOURCE:
        if _CARET.match(line) is not None:
            return True, CARET
        return None, NONE  # a location line and a line, not a banner after all
    if not line.strip():
        return True, CARET
    return True, NONE  # the thrown value's first line
