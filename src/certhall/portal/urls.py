"""The portal's public pages, and its staff pages under /console/portal/."""

from django.urls import URLPattern, URLResolver, path

from certhall.portal.web import guide_views, public_views, staff_views

app_name = "portal"

STAFF = "console/portal/"

urlpatterns: list[URLPattern | URLResolver] = [
    path("guide/", guide_views.guide_index, name="guide"),
    path("guide/<slug:business>/", guide_views.guide_detail, name="guide-detail"),
    path("notices/", public_views.notice_list, name="notices"),
    path("notices/feed.atom", public_views.notice_feed, name="notice-feed"),
    path("notices/subscribe/", public_views.notice_subscribe, name="notice-subscribe"),
    path("notices/<int:pk>/", public_views.notice_detail, name="notice"),
    path(
        "notices/<int:pk>/files/<int:attachment_pk>",
        public_views.notice_attachment,
        name="notice-attachment",
    ),
    path("contact/", guide_views.contact, name="contact"),
    path("faq/", public_views.faq, name="faq"),
    path("usage/", public_views.usage, name="usage"),
    path("questions/", public_views.ask, name="questions"),
    path("questions/answer/", public_views.answer_page, name="question-answer"),
    path("downloads/", public_views.download_list, name="downloads"),
    path("downloads/<int:pk>/<str:name>", public_views.download_file, name="download"),
    path("search/", public_views.search_page, name="search"),
    path(STAFF, staff_views.home, name="staff"),
    path(STAFF + "notices/new/", staff_views.notice_new, name="staff-notice-new"),
    path(STAFF + "notices/<int:pk>/", staff_views.notice_edit, name="staff-notice"),
    path(STAFF + "notices/<int:pk>/files", staff_views.notice_attach, name="staff-notice-attach"),
    *(
        path(
            STAFF + f"notices/<int:pk>/{action}",
            staff_views.notice_action,
            {"action": action},
            name=f"staff-notice-{action}",
        )
        for action in staff_views.NOTICE_ACTIONS
    ),
    path(STAFF + "questions/<int:pk>/", staff_views.question_page, name="staff-question"),
    path(STAFF + "entries/new/", staff_views.entry_page, name="staff-entry-new"),
    path(STAFF + "entries/<int:pk>/", staff_views.entry_page, name="staff-entry"),
    path(STAFF + "downloads/upload/", staff_views.download_upload, name="staff-download-upload"),
    path(STAFF + "downloads/build", staff_views.download_build, name="staff-download-build"),
]
