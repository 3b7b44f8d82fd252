# ruff: noqa: E501
"""The words of notices, posters, SMS and the public pages, in English and Arabic.

Kept beside the notices (not in the app's message catalogs) so that a notice, its poster, its SMS
and the public page say the same thing in the same words. ``{name}`` placeholders are filled by
:meth:`Words.text`; in Arabic each value is a bidi isolate so that times, codes and Latin names
keep their own order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LRI, FSI, PDI = "\u2066", "\u2068", "\u2069"
_RTL_LETTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")

ENGLISH: dict[str, str] = {
    "lang.name": "English",
    "notice.title": "Evacuation notice: {point}",
    "notice.for": "For: {group}",
    "notice.when": "Be at {point} between {start} and {end} on {date}.",
    "notice.when_unknown": "The time at {point} is not set yet: listen for the next notice.",
    "notice.not_planned": "No departure is planned for you from {point} in this plan: stay where you are safe and wait for the next notice.",
    "notice.to": "You will be taken to {receptions}.",
    "notice.first": "Who goes first here: {order}.",
    "notice.vehicles": "Vehicles: {vehicles}.",
    "notice.vehicle": "{vehicle} (trip {trip}, boarding {start}-{end})",
    "notice.more_vehicles": "and {n} more",
    "notice.bring": "Bring: {things}.",
    "notice.bring_general": "identity papers, medicines, water, warm clothes; one small bag each",
    "notice.bring_stretcher": "medical papers and medicines; one companion may come",
    "notice.version": "Notice {key}, version {version}, issued {issued} UTC.",
    "notice.check": "The latest notices: {url}",
    "notice.void": "VOID: replaced by a newer notice",
    "group.wounded": "the wounded (on stretchers)",
    "group.general": "everyone else",
    "group.stretcher": "people who must lie on a stretcher",
    "sms.text": "Evacuation {point}: {group} be there {start}-{end} {date}. Bring ID, medicines, water. First: {first}. Notice v{version}. {url}",
    "sms.text_unknown": "Evacuation {point}: {group}, time not set yet; wait for the next notice. v{version}. {url}",
    "public.title": "Evacuation: {operation}",
    "public.intro": "Official notices of this evacuation. No personal information is shown here.",
    "public.points": "Gathering points",
    "public.state_soon": "not started",
    "public.state_on": "evacuation on",
    "public.state_paused": "evacuation paused",
    "public.state_over": "evacuation over",
    "public.notices": "Current notices",
    "public.none": "No notice has been issued yet.",
    "public.void_notices": "Void notices (replaced)",
    "public.posters": "Posters (PDF)",
    "public.poster": "{size}",
    "public.tracing": "Family tracing: learn the status of a relative with the code you were given",
    "public.other_lang": "العربية",
    "trace.title": "Family tracing",
    "trace.help": "Enter the code you were given when your relative registered. You will learn only whether they are registered, have left, or have arrived at a reception point.",
    "trace.code": "Tracing code",
    "trace.submit": "Ask",
    "trace.back": "Back to the notices",
    "trace.registered": "Registered: your relative is registered and has not left yet.",
    "trace.left": "Left: your relative has left the gathering point.",
    "trace.arrived": "Arrived at {point}.",
    "trace.unknown": "No status can be given for this code. Check the code and try again later.",
    "trace.limited": "Too many questions. Try again in {minutes} minutes.",
    "trace.bad_code": "Type the code as printed, e.g. ABCD-EFGH-JKMN.",
    "poster.scan": "Scan for the latest notices",
    "staff.title": "Notices",
    "staff.public": "Public page (no log-in, no personal data):",
    "staff.current": "Notices in force",
    "staff.notice": "Notice",
    "staff.version": "Version",
    "staff.issued": "Issued",
    "staff.basis": "Made from",
    "staff.basis_value": "plan v{plan}, convoy v{convoy}",
    "staff.sent": "Went out",
    "staff.sent_value": "{posters} posters, {sms} SMS, {failed} failed",
    "staff.posters": "Posters",
    "staff.sms": "SMS batches",
    "staff.sms_help": "A CSV for SMS gateways and RapidPro: each registered phone number with its notice, the characters and parts of each message (Arabic is sent as UCS-2: 70 characters, 67 per part). Exporting it is recorded in the access log.",
    "staff.sms_export": "Export the SMS batch ({lang})",
    "staff.sms_status": "Delivery report of the gateway (CSV with phone or urn, and status)",
    "staff.upload": "Read the report",
    "staff.failures_recorded": "{n} failed messages recorded.",
    "staff.deliveries": "What went out and what failed",
    "staff.at": "When (UTC)",
    "staff.channel": "Channel",
    "staff.status": "Status",
    "staff.count": "Count",
    "staff.detail": "Detail",
    "staff.by": "Who",
    "staff.access_log": "Access log (notices and tracing)",
    "staff.action": "Action",
    "staff.decision": "Decision",
    "staff.path": "Path",
}

ARABIC: dict[str, str] = {
    "lang.name": "العربية",
    "notice.title": "إعلان الإجلاء: {point}",
    "notice.for": "لمن: {group}",
    "notice.when": "كونوا في {point} بين {start} و{end} يوم {date}.",
    "notice.when_unknown": "لم يُحدَّد الوقت في {point} بعد: انتظروا الإعلان القادم.",
    "notice.not_planned": "لا مغادرة مقرّرة لكم من {point} في هذه الخطة: ابقوا في مكان آمن وانتظروا الإعلان القادم.",
    "notice.to": "ستُنقلون إلى {receptions}.",
    "notice.first": "من يغادر أولاً هنا: {order}.",
    "notice.vehicles": "المركبات: {vehicles}.",
    "notice.vehicle": "{vehicle} (الرحلة {trip}، الصعود {start}-{end})",
    "notice.more_vehicles": "و{n} غيرها",
    "notice.bring": "أحضروا: {things}.",
    "notice.bring_general": "الأوراق الثبوتية، الأدوية، الماء، ملابس دافئة؛ حقيبة صغيرة لكل شخص",
    "notice.bring_stretcher": "الأوراق الطبية والأدوية؛ يمكن أن يرافق المريض شخص واحد",
    "notice.version": "الإعلان {key}، النسخة {version}، صدر في {issued} بتوقيت UTC.",
    "notice.check": "آخر الإعلانات: {url}",
    "notice.void": "ملغى: حلّ محلّه إعلان أحدث",
    "group.wounded": "الجرحى (على نقالات)",
    "group.general": "جميع الآخرين",
    "group.stretcher": "من يجب نقلهم على نقالة",
    "sms.text": "إجلاء {point}: {group} كونوا هناك {start}-{end} {date}. أحضروا الهوية والأدوية والماء. أولاً: {first}. إعلان ن{version}. {url}",
    "sms.text_unknown": "إجلاء {point}: {group}، لم يُحدَّد الوقت بعد؛ انتظروا الإعلان القادم. ن{version}. {url}",
    "public.title": "الإجلاء: {operation}",
    "public.intro": "الإعلانات الرسمية لهذا الإجلاء. لا تظهر هنا أي معلومات شخصية.",
    "public.points": "نقاط التجمّع",
    "public.state_soon": "لم يبدأ بعد",
    "public.state_on": "الإجلاء جارٍ",
    "public.state_paused": "الإجلاء متوقّف مؤقتاً",
    "public.state_over": "انتهى الإجلاء",
    "public.notices": "الإعلانات الحالية",
    "public.none": "لم يصدر أي إعلان بعد.",
    "public.void_notices": "إعلانات ملغاة (استُبدلت)",
    "public.posters": "الملصقات (PDF)",
    "public.poster": "{size}",
    "public.tracing": "البحث عن الأقارب: اعرفوا حالة قريبكم بالرمز الذي أُعطي لكم",
    "public.other_lang": "English",
    "trace.title": "البحث عن الأقارب",
    "trace.help": "أدخلوا الرمز الذي أُعطي لكم عند تسجيل قريبكم. ستعرفون فقط إن كان مسجّلاً، أو غادر، أو وصل إلى نقطة استقبال.",
    "trace.code": "رمز البحث",
    "trace.submit": "اسأل",
    "trace.back": "العودة إلى الإعلانات",
    "trace.registered": "مسجّل: قريبكم مسجّل ولم يغادر بعد.",
    "trace.left": "غادر: غادر قريبكم نقطة التجمّع.",
    "trace.arrived": "وصل إلى {point}.",
    "trace.unknown": "لا يمكن إعطاء أي حالة لهذا الرمز. تحقّقوا من الرمز وحاولوا لاحقاً.",
    "trace.limited": "أسئلة كثيرة. حاولوا مجدداً بعد {minutes} دقيقة.",
    "trace.bad_code": "اكتبوا الرمز كما هو مطبوع، مثلاً ABCD-EFGH-JKMN.",
    "poster.scan": "امسحوا الرمز لآخر الإعلانات",
    "staff.title": "الإعلانات",
    "staff.public": "الصفحة العامة (بلا تسجيل دخول ولا بيانات شخصية):",
    "staff.current": "الإعلانات السارية",
    "staff.notice": "الإعلان",
    "staff.version": "النسخة",
    "staff.issued": "صدر في",
    "staff.basis": "مأخوذ من",
    "staff.basis_value": "الخطة ن{plan}، القافلة ن{convoy}",
    "staff.sent": "ما أُرسل",
    "staff.sent_value": "{posters} ملصقات، {sms} رسائل، {failed} فشلت",
    "staff.posters": "الملصقات",
    "staff.sms": "دفعات الرسائل القصيرة",
    "staff.sms_help": "ملف CSV لبوابات الرسائل وRapidPro: كل رقم هاتف مسجّل مع إعلانه، وعدد أحرف وأجزاء كل رسالة (العربية تُرسل بترميز UCS-2: ‏70 حرفاً، و67 لكل جزء). يُسجَّل التصدير في سجل الوصول.",
    "staff.sms_export": "تصدير دفعة الرسائل ({lang})",
    "staff.sms_status": "تقرير التسليم من البوابة (CSV فيه الهاتف أو urn، والحالة)",
    "staff.upload": "قراءة التقرير",
    "staff.failures_recorded": "سُجّلت {n} رسائل فاشلة.",
    "staff.deliveries": "ما أُرسل وما فشل",
    "staff.at": "الوقت (UTC)",
    "staff.channel": "القناة",
    "staff.status": "الحالة",
    "staff.count": "العدد",
    "staff.detail": "التفاصيل",
    "staff.by": "من",
    "staff.access_log": "سجل الوصول (الإعلانات والبحث)",
    "staff.action": "الإجراء",
    "staff.decision": "القرار",
    "staff.path": "المسار",
}

LANGUAGES = ("ar", "en")


@dataclass(frozen=True)
class Words:
    code: str
    messages: dict[str, str]

    @property
    def rtl(self) -> bool:
        return self.code == "ar"

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"

    def text(self, key: str, /, **values: object) -> str:
        """Message ``key`` (English if missing here) with ``values``; isolated in Arabic."""
        template = self.messages.get(key) or ENGLISH.get(key, key)
        if self.rtl:
            values = {k: isolate(v) if isinstance(v, str) else v for k, v in values.items()}
        return template.format(**values) if values else template

    def group(self, name: str, stretcher: bool = False) -> str:
        """A group's name for the public: a known word, else as the scenario writes it."""
        key = f"group.{name}"
        if key in self.messages:
            return self.messages[key]
        return self.messages["group.stretcher"] if stretcher else name


def isolate(words: str) -> str:
    """``words`` as a bidi isolate (left to right unless it holds a right-to-left letter)."""
    if words.startswith((LRI, FSI)):
        return words
    return f"{FSI if _RTL_LETTER.search(words) else LRI}{words}{PDI}"


def words(code: str) -> Words:
    """The words of language ``code`` (``ar`` or ``en``); ``ValueError`` for another."""
    if code == "ar":
        return Words("ar", ARABIC)
    if code == "en":
        return Words("en", ENGLISH)
    raise ValueError(f"no notice language {code!r}; known: ar, en")
