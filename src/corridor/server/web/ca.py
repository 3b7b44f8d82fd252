"""The local CA for phones: its certificate to download, a page with its QR code and fingerprint,
and the notice a page that needs a secure context shows when the browser reached it over plain
HTTP from another machine (it then withholds the storage and crypto that scanning needs).

Neither needs a log-in: a phone installs the CA before anyone logs in on it. The CA certificate
is public (its key never leaves the data folder).

Only the CA the service serves with is offered: when its operator gave the certificate
(``corridor serve --cert --key``), a CA left in the data folder by an earlier ``--tls`` run signs
nothing served now, so the page says the certificate is the operator's own (with its fingerprint
and what it covers) and ``/ca.crt`` is not found.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from corridor.core.errors import InputError
from corridor.server import tls
from corridor.server.deps import RuntimeDep
from corridor.server.errors import NotFoundError
from corridor.server.web.i18n import choose
from corridor.server.web.register import qr_svg
from corridor.server.web.render import page

router = APIRouter(include_in_schema=False)

# This page's words, by language (English where a language lacks one).
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Trust this service on a phone",
        "intro": "Scanning needs a secure (HTTPS) connection. This service signs its own "
        "certificate with a local certificate authority (CA): install the CA once on each phone.",
        "scan": "Scan this code with the phone's camera to download the CA certificate:",
        "download": "Download the CA certificate",
        "fingerprint": "Its SHA-256 fingerprint (check that the phone shows the same):",
        "covers": "The service's certificate covers:",
        "android": "Android: open the downloaded file, or Settings > Security > Encryption & "
        "credentials > Install a certificate > CA certificate.",
        "ios": "iPhone: allow the profile download, then Settings > Profile Downloaded > Install; "
        "then Settings > General > About > Certificate Trust Settings: turn on full trust for it.",
        "none": "This service was not started with its own CA (it serves a certificate given to "
        "it, or plain HTTP): there is no CA to install.",
        "given": "This service serves its operator's own certificate, not one signed by a local "
        "CA of this service: there is no CA to install here. If a phone does not trust the "
        "secure address, ask whoever runs the service for the certificate authority that issued it.",
        "given_fingerprint": "The certificate's SHA-256 fingerprint (check that the phone shows the same):",
        "https_title": "This screen needs HTTPS",
        "https_body": "This page was opened over plain HTTP from another machine, so the "
        "browser withholds the offline storage and encryption that scanning needs; no code "
        "could be recognised.",
        "https_link": "Open the secure address",
        "https_ca": "First time on this phone? Install the service's CA",
        "https_none": "If that address does not open, ask whoever runs the service to start it "
        "with HTTPS (corridor serve --tls, or behind a reverse proxy).",
    },
    "ar": {
        "title": "الوثوق بهذه الخدمة على الهاتف",
        "intro": "يحتاج المسح إلى اتصال آمن (HTTPS). توقّع هذه الخدمة شهادتها بجهة تصديق محلية "
        "(CA): ثبّت شهادة الجهة مرة واحدة على كل هاتف.",
        "scan": "امسح هذا الرمز بكاميرا الهاتف لتنزيل شهادة جهة التصديق:",
        "download": "تنزيل شهادة جهة التصديق",
        "fingerprint": "بصمتها SHA-256 (تحقق من أن الهاتف يعرض البصمة نفسها):",
        "covers": "تغطي شهادة الخدمة:",
        "android": "أندرويد: افتح الملف المنزَّل، أو الإعدادات > الأمان > التشفير وبيانات الاعتماد "
        "> تثبيت شهادة > شهادة CA.",
        "ios": "آيفون: اسمح بتنزيل ملف التعريف، ثم الإعدادات > تم تنزيل ملف التعريف > تثبيت؛ ثم "
        "الإعدادات > عام > حول > إعدادات الثقة بالشهادات: فعّل الثقة الكاملة بها.",
        "none": "لم تُشغَّل هذه الخدمة بجهة تصديق خاصة بها (تستخدم شهادة أُعطيت لها، أو HTTP "
        "عادياً): لا توجد شهادة جهة تصديق لتثبيتها.",
        "given": "تستخدم هذه الخدمة شهادة مشغّلها الخاصة، لا شهادة موقّعة من جهة تصديق محلية لهذه "
        "الخدمة: لا توجد هنا شهادة جهة تصديق لتثبيتها. إن لم يثق الهاتف بالعنوان الآمن، فاطلب ممن "
        "يشغّل الخدمة جهة التصديق التي أصدرت الشهادة.",
        "given_fingerprint": "بصمة الشهادة SHA-256 (تحقق من أن الهاتف يعرض البصمة نفسها):",
        "https_title": "تحتاج هذه الشاشة إلى HTTPS",
        "https_body": "فُتحت هذه الصفحة عبر HTTP عادي من جهاز آخر، فيحجب المتصفح التخزين دون "
        "اتصال والتشفير اللذين يحتاجهما المسح؛ ولن يُتعرَّف على أي رمز.",
        "https_link": "افتح العنوان الآمن",
        "https_ca": "أول مرة على هذا الهاتف؟ ثبّت شهادة جهة تصديق الخدمة",
        "https_none": "إن لم يُفتح ذلك العنوان، فاطلب ممن يشغّل الخدمة تشغيلها عبر HTTPS "
        "(corridor serve --tls، أو خلف وكيل عكسي).",
    },
}


def texts(request: Request) -> dict[str, str]:
    code = choose(request).code
    return {**TEXTS["en"], **TEXTS.get(code, {})}


def trusted(request: Request, data_dir: Path) -> tls.Trust:
    """What phones are offered: as the service was told when it started, else the data folder's CA."""
    told: tls.Trust | None = getattr(request.app.state, "trust", None)
    return told if told is not None else tls.Trust(ca_file=tls.ca_file_of(data_dir))


@router.get("/ca.crt")
def ca_certificate(request: Request, runtime: RuntimeDep) -> Response:
    """The local CA's certificate, for a phone to install (PEM, as Android and iOS take it)."""
    trust = trusted(request, runtime.settings.data_dir)
    if trust.given is not None:
        raise NotFoundError(
            "this service serves its operator's own certificate: it offers no local CA",
            hint="ask whoever runs the service for the certificate authority that issued it",
        )
    path = trust.ca_file
    if path is None or not path.exists():
        raise NotFoundError("this service has no local CA", hint="start it with `corridor serve --tls`")
    return Response(
        path.read_bytes(),
        media_type=tls.MIME_CA,
        headers={"Content-Disposition": 'attachment; filename="corridor-ca.crt"'},
    )


@router.get("/ca")
def ca_page(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    """How to trust the service on a phone: a QR code of the CA's address, its fingerprint."""
    trust = trusted(request, runtime.settings.data_dir)
    words = texts(request)
    if trust.given is not None:
        return page(request, "ca.html", words=words, ca=None, given=_given(trust.given))
    path = trust.ca_file
    if path is None or not path.exists():
        return page(request, "ca.html", words=words, ca=None)
    try:
        fingerprint = tls.fingerprint(tls.load_certificate(path))
    except InputError:
        return page(request, "ca.html", words=words, ca=None)
    address = str(request.url.replace(path="/ca.crt", query=""))
    served = path.parent / "server.crt"
    covers: list[str] = []
    if served.exists():
        try:
            covers = tls.covered_names(tls.load_certificate(served))
        except InputError:
            covers = []
    return page(
        request,
        "ca.html",
        words=words,
        ca={"address": address, "fingerprint": fingerprint, "qr": qr_svg(address), "covers": covers},
    )


def _given(path: Path) -> dict[str, object] | None:
    """The fingerprint and names of the operator's certificate (None if it cannot be read now)."""
    try:
        cert = tls.load_certificate(path)
    except InputError:
        return None
    return {"fingerprint": tls.fingerprint(cert), "covers": tls.covered_names(cert)}


@router.get("/needs-https")
def needs_https(request: Request, next: str = "/") -> HTMLResponse:
    """What a page that needs a secure context (the scanning screen) shows when the browser says
    it has none (plain HTTP from another machine): the same page at the https address."""
    path = next if next.startswith("/") and not next.startswith("//") and "\\" not in next else "/"
    host = request.url.hostname or "localhost"
    netloc = f"[{host}]" if ":" in host else host  # the default port: a reverse proxy's, or --port 443
    return page(
        request,
        "needs_https.html",
        words=texts(request),
        secure_url=f"https://{netloc}{path}",
        ca_url=f"https://{netloc}/ca",
    )
