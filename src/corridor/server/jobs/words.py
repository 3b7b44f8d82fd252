"""What the job pages say, in the languages of the web app (English is the reference)."""

from __future__ import annotations

from fastapi import Request

from corridor.server.web.i18n import choose

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "job.plan": "The plan is being made on the cluster",
        "job.replan": "The re-plan for {deadline} is being made on the cluster",
        "job.state.queued": "waiting for a worker",
        "job.state.running": "running",
        "job.state.done": "done",
        "job.state.failed": "failed",
        "job.state.cancelled": "cancelled",
        "job.progress": "Progress",
        "job.cancel": "Cancel",
        "job.again": "Plan again",
        "job.failed": "The plan could not be made: {error}",
        "job.cancelled": "The plan was cancelled.",
        "job.notice": "The plan is being made ({percent}%); the routes appear when it is done.",
        "job.hint": "This page follows the job and shows the plan when it is done; it may be reloaded.",
    },
    "ar": {
        "job.plan": "تُعَدّ الخطة على العنقود الحاسوبي",
        "job.replan": "تُعَدّ إعادة التخطيط لموعد {deadline} على العنقود الحاسوبي",
        "job.state.queued": "بانتظار عامل",
        "job.state.running": "قيد التنفيذ",
        "job.state.done": "انتهت",
        "job.state.failed": "فشلت",
        "job.state.cancelled": "أُلغيت",
        "job.progress": "التقدّم",
        "job.cancel": "إلغاء",
        "job.again": "خطّط من جديد",
        "job.failed": "تعذّر إعداد الخطة: {error}",
        "job.cancelled": "أُلغيت الخطة.",
        "job.notice": "تُعَدّ الخطة ({percent}٪)؛ تظهر الطرق عند انتهائها.",
        "job.hint": "تتابع هذه الصفحة العمل وتعرض الخطة عند انتهائه؛ يمكن إعادة تحميلها.",
    },
}


def words(request: Request) -> dict[str, str]:
    """The job words in the reader's language."""
    language = choose(request)
    return {**WORDS["en"], **WORDS.get(language.code, {})}
