"""/refunds/: the enterprise's pages, the counter of a participating CA, the officers' console."""

from django.urls import URLPattern, path

from certhall.refunds.web import counter, officer, public

app_name = "refunds"

APPLICATION = "console/applications/<str:number>/"

urlpatterns: list[URLPattern] = [
    path("", public.index, name="index"),
    path("progress/", public.progress_page, name="progress"),
    path("applications/<str:number>/", public.application_page, name="application"),
    path("applications/<str:number>/supply", public.supply, name="supply"),
    path("counter/", counter.counter_page, name="counter"),
    path(
        "counter/applications/<str:number>/", counter.application_page, name="counter-application"
    ),
    path("counter/applications/<str:number>/supply", counter.supply, name="counter-supply"),
    path("console/", officer.dashboard, name="console"),
    path("console/applications/", officer.application_list, name="console-list"),
    path(APPLICATION, officer.application_page, name="console-application"),
    *(
        path(
            APPLICATION + action,
            officer.application_action,
            {"action": action},
            name=f"console-{action}",
        )
        for action in officer.ACTIONS
    ),
    path("console/batches/", officer.batches, name="console-batches"),
    path("console/batches/new", officer.batch_create, name="console-batch-create"),
    path("console/batches/settle", officer.batch_settle, name="console-batch-settle"),
    path("console/batches/<str:number>.csv", officer.batch_file, name="console-batch-file"),
    *(
        path(
            f"console/batches/<str:number>/{step}",
            officer.batch_step,
            {"step": step},
            name=f"console-batch-{step}",
        )
        for step in officer.BATCH_STEPS
    ),
    path("console/export.csv", officer.export, name="console-export"),
    path("console/programmes/", officer.programme_list, name="console-programmes"),
    path("console/programmes/new", officer.programme_edit, name="console-programme-new"),
    path("console/programmes/<slug:slug>/", officer.programme_edit, name="console-programme-edit"),
    path("<slug:slug>/", public.programme_page, name="programme"),
    path("<slug:slug>/apply", public.apply, name="apply"),
]
