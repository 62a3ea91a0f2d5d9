"""Text as Twinfield's XML can carry it, the one rule for every text that goes into a request.

XML 1.0 allows tab, CR, LF and the characters from U+0020 on, except the surrogates (U+D800-U+DFFF) and
U+FFFE/U+FFFF (the ``Char`` production of the XML 1.0 specification). Anything else (NUL, BEL, SOH, ESC and
the other C0 controls, a lone surrogate, U+FFFE/U+FFFF) cannot be written at all, not even escaped, so it is
removed. Focus accepts such characters (a pasted text), so they reach us; where they were removed, the run
report says so (``removed_note``).

Lengths are counted in characters (Python ``len``, code points), as Twinfield's limits are stated ("max 40
characters" for a line description, in the php-twinfield field notes and Twinfield's XML documentation);
nothing public says Twinfield counts bytes.
"""

from __future__ import annotations

import re

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", text)


def removed_characters(text: str) -> list[str]:
    """The characters ``xml_safe`` removes from ``text``, as code points ("U+0007"), in order of appearance."""
    return list(dict.fromkeys(f"U+{ord(c):04X}" for c in _NOT_XML.findall(text)))


def removed_note(what: str, text: str) -> str | None:
    """A sentence for the report when ``text`` loses characters on its way into Twinfield's XML, else None."""
    removed = removed_characters(text)
    if not removed:
        return None
    return (f"{what}: removed {', '.join(removed)} (not allowed in XML); Twinfield has "
            f"'{xml_safe(text)}'")
