"""SOAP 1.1 / 1.2 envelopes and faults, as the ASMX services answer them.

A request is dispatched on the body's first element (its local name is the operation). A SOAPAction (1.1
header, or the ``action`` parameter of the 1.2 Content-Type) that names another operation is a fault, as
ASMX does ("Server did not recognize the value of HTTP Header SOAPAction").

Faults come back with HTTP 500 in the request's SOAP version. 1.1: ``faultcode`` soap:Client (the caller's
fault: bad credentials, bad request) or soap:Server, ``faultstring`` the message, and a ``detail`` holding
``<code>`` (Twinfield's error code when there is one, e.g. 354 for "Access denied. Token invalid.") and
``<message>``. 1.2: ``Code/Value`` soap:Sender|soap:Receiver, ``Reason/Text``, and the same ``Detail``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
TWINFIELD = "http://www.twinfield.com/"
CONTENT_TYPES = {SOAP11: "text/xml; charset=utf-8", SOAP12: "application/soap+xml; charset=utf-8"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)


class SoapFault(Exception):
    def __init__(self, message: str, client: bool = True, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.client = client
        self.code = code


@dataclass
class SoapRequest:
    version: str  # SOAP11 | SOAP12 (the envelope namespace)
    operation: str
    body: etree._Element  # the operation element
    header: dict[str, str]  # children of the Twinfield Header, by local name

    def arg(self, name: str) -> str:
        found = self.body.find(f"{{{TWINFIELD}}}{name}")
        return (found.text or "") if found is not None else ""


def version_of(content_type: str) -> str:
    return SOAP12 if "application/soap+xml" in content_type else SOAP11


def parse_request(data: bytes, content_type: str, soap_action: str | None) -> SoapRequest:
    try:
        envelope = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as error:
        raise SoapFault(f"Server was unable to read request. ---> There is an error in XML document: {error}") from None
    version = etree.QName(envelope).namespace
    if version not in CONTENT_TYPES or etree.QName(envelope).localname != "Envelope":
        raise SoapFault("Possible SOAP version mismatch: Envelope namespace was unexpected.")
    body = envelope.find(f"{{{version}}}Body")
    operation_element = next(iter(body), None) if body is not None else None
    if operation_element is None or etree.QName(operation_element).namespace != TWINFIELD:
        raise SoapFault("Server did not recognize the request: no Twinfield operation in the SOAP body.")
    operation = etree.QName(operation_element).localname
    action = soap_action if version == SOAP11 else _action_parameter(content_type)
    action = (action or "").strip().strip('"')
    if action and action != TWINFIELD + operation:
        raise SoapFault(f"Server did not recognize the value of HTTP Header SOAPAction: {action}.")
    header: dict[str, str] = {}
    header_element = envelope.find(f"{{{version}}}Header/{{{TWINFIELD}}}Header")
    if header_element is not None:
        for child in header_element:
            if isinstance(child.tag, str):
                header[etree.QName(child).localname] = (child.text or "").strip()
    return SoapRequest(version, operation, operation_element, header)


def _action_parameter(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "action":
            return value
    return None


def envelope(version: str, body: etree._Element, header: etree._Element | None = None) -> bytes:
    root = etree.Element(f"{{{version}}}Envelope", nsmap={"soap": version, "xsi": "http://www.w3.org/2001/XMLSchema-instance",
                                                         "xsd": "http://www.w3.org/2001/XMLSchema"})
    if header is not None:
        etree.SubElement(root, f"{{{version}}}Header").append(header)
    etree.SubElement(root, f"{{{version}}}Body").append(body)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def tw(tag: str, text: str | None = None, parent: etree._Element | None = None,
       prefix: str | None = None) -> etree._Element:
    """An element in the Twinfield namespace: the default namespace, as ASMX writes it, unless a ``prefix`` is
    needed (content in no namespace inside it: lxml cannot undeclare a default namespace)."""
    name = f"{{{TWINFIELD}}}{tag}"
    element = etree.SubElement(parent, name) if parent is not None else etree.Element(name, nsmap={prefix: TWINFIELD})
    if text is not None:
        element.text = text
    return element


def fault_envelope(version: str, fault: SoapFault) -> bytes:
    if version == SOAP12:
        element = etree.Element(f"{{{SOAP12}}}Fault")
        code = etree.SubElement(element, f"{{{SOAP12}}}Code")
        etree.SubElement(code, f"{{{SOAP12}}}Value").text = "soap:Sender" if fault.client else "soap:Receiver"
        reason = etree.SubElement(element, f"{{{SOAP12}}}Reason")
        text = etree.SubElement(reason, f"{{{SOAP12}}}Text")
        text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        text.text = fault.message
        detail = etree.SubElement(element, f"{{{SOAP12}}}Detail")
    else:
        element = etree.Element(f"{{{SOAP11}}}Fault")
        etree.SubElement(element, "faultcode").text = "soap:Client" if fault.client else "soap:Server"
        etree.SubElement(element, "faultstring").text = fault.message
        detail = etree.SubElement(element, "detail")
    if fault.code is not None:
        etree.SubElement(detail, "code").text = fault.code
    etree.SubElement(detail, "message").text = fault.message
    return envelope(version, element)
